import {test} from "node:test";
import assert from "node:assert/strict";
import {existsSync, mkdirSync, readFileSync, writeFileSync} from "node:fs";
import {JSDOM} from "jsdom";
import {classSizeChart, frontierChart, riskDistributionChart} from "../../src/components/explorer-charts.js";
import {uniquenessChart} from "../../src/components/uniqueness-chart.js";
import type {WhatIfResult} from "../../src/lib/what-if.js";
import type {FrontierPoint} from "../../src/lib/lattice-search.js";

// Deterministic SVG snapshots of the chart components (fixed data, no clock, no randomness), as in
// Plot's own test suite. A changed chart writes test/output/NAME-changed.svg for review; run with
// UPDATE_SNAPSHOTS=1 to accept it.
const {document} = new JSDOM("").window;

function snapshot(name: string, svg: Element) {
  const actual = svg.outerHTML.replace(/class="plot-[0-9a-f]+"/g, 'class="plot"').replace(/\.plot-[0-9a-f]+/g, ".plot") + "\n";
  const path = `test/output/${name}.svg`;
  mkdirSync("test/output", {recursive: true});
  if (process.env.UPDATE_SNAPSHOTS || !existsSync(path)) writeFileSync(path, actual);
  const expected = readFileSync(path, "utf8");
  if (actual !== expected) writeFileSync(`test/output/${name}-changed.svg`, actual);
  assert.equal(actual, expected, `${name} differs from its snapshot; see test/output/${name}-changed.svg`);
}

const result = {
  levels: {age: 1, zip: 2},
  measures: {} as WhatIfResult["measures"],
  utility: {} as WhatIfResult["utility"],
  metric: "precision",
  metricValue: 0.4,
  classSizeHistogram: [
    {size: 1, classes: 12, records: 12},
    {size: 2, classes: 5, records: 10},
    {size: 5, classes: 4, records: 20},
    {size: 40, classes: 2, records: 80}
  ]
} satisfies WhatIfResult;

const frontier: FrontierPoint[] = [
  [0.0, 1.0],
  [0.2, 0.6],
  [0.35, 0.3],
  [0.5, 0.1],
  [1.0, 0.01]
].map(([metricValue, risk], i) => ({levels: {age: i, zip: 0}, levelList: [i, 0], risk, maxProsecutorRisk: risk, metricValue, anonymous: true, suppressed: 0}));

test("chart snapshot: class size histogram marks classes below k", () => {
  snapshot("class-size-chart", classSizeChart(result, {width: 640, k: 5, document}) as unknown as Element);
});

test("chart snapshot: prosecutor risk distribution with the threshold", () => {
  snapshot("risk-distribution-chart", riskDistributionChart(result, {width: 640, threshold: 0.2, document}) as unknown as Element);
});

test("chart snapshot: frontier with the current point", () => {
  snapshot("frontier-chart", frontierChart(frontier, {risk: 0.3, metricValue: 0.35}, {width: 640, metric: "precision", document}) as unknown as Element);
});

test("chart snapshot: distinct values per column", () => {
  const profile = {
    table: "t",
    rows: 100,
    columns: [
      {name: "mrn", type: "BIGINT", distinct: 100, missing: 0, top: []},
      {name: "sex", type: "VARCHAR", distinct: 2, missing: 3, top: []},
      {name: "zip", type: "VARCHAR", distinct: 40, missing: 10, top: []}
    ]
  };
  snapshot("uniqueness-chart", uniquenessChart(profile, {width: 640, document}) as unknown as Element);
});

test("chart: the class size chart colours exactly the bars below k", () => {
  const svg = classSizeChart(result, {width: 640, k: 5, document}) as unknown as Element;
  const fills = [...svg.querySelectorAll("rect")].map((r) => r.getAttribute("fill")).filter((f) => f && f.startsWith("#"));
  // Sizes 1 and 2 are below k = 5; sizes 5 and 40 are not.
  assert.deepEqual(fills.filter((f) => f === "#ff725c").length, 2);
  assert.deepEqual(fills.filter((f) => f === "#4269d0").length, 2);
});
