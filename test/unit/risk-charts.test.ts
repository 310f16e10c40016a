import {test} from "node:test";
import assert from "node:assert/strict";
import {compactCount, classSizeBuckets, classSizeChart, driverMatrix, prosecutorRiskChart, prosecutorRiskDistribution, uniquenessAddedChart, uniquenessDriversChart} from "../../src/components/risk-charts.js";
import type {UniquenessDrivers} from "../../src/lib/risk.js";

// Plot renders into whatever `window.document` is: give it jsdom's (a dependency of Observable Framework;
// untyped here, hence the non-literal specifier).
const jsdom = "jsdom";
const {JSDOM} = (await import(jsdom)) as {JSDOM: new (html: string) => {window: Window & typeof globalThis}};
const dom = new JSDOM("<!doctype html><body></body>");
Object.assign(globalThis, {window: dom.window, document: dom.window.document});

const histogram = [
  {size: 1, classes: 3},
  {size: 2, classes: 2},
  {size: 5, classes: 1},
  {size: 30, classes: 2},
  {size: 40, classes: 1}
];
const drivers: UniquenessDrivers = {
  uniqueRecords: 7,
  single: [
    {quasiIdentifiers: ["age"], uniqueRecords: 2},
    {quasiIdentifiers: ["zip"], uniqueRecords: 5},
    {quasiIdentifiers: ["sex"], uniqueRecords: 0}
  ],
  pairs: [
    {quasiIdentifiers: ["age", "zip"], uniqueRecords: 6},
    {quasiIdentifiers: ["age", "sex"], uniqueRecords: 3},
    {quasiIdentifiers: ["zip", "sex"], uniqueRecords: 5}
  ],
  withoutEach: [
    {quasiIdentifier: "age", uniqueRecordsWithout: 5, uniqueRecordsAdded: 2},
    {quasiIdentifier: "zip", uniqueRecordsWithout: 3, uniqueRecordsAdded: 4},
    {quasiIdentifier: "sex", uniqueRecordsWithout: 6, uniqueRecordsAdded: 1}
  ]
};

// Plot names its classes with a random-looking suffix per chart; strip it to compare renderings.
const normalize = (el: Element) => el.outerHTML.replace(/plot-[0-9a-f]{6}/g, "plot");

test("prosecutorRiskDistribution: one entry per class size, records = size x classes, highest risk first", () => {
  assert.deepEqual(prosecutorRiskDistribution(histogram), [
    {size: 1, risk: 1, records: 3},
    {size: 2, risk: 0.5, records: 4},
    {size: 5, risk: 0.2, records: 5},
    {size: 30, risk: 1 / 30, records: 60},
    {size: 40, risk: 1 / 40, records: 40}
  ]);
});

test("classSizeBuckets pools sizes above the cut-off", () => {
  assert.deepEqual(classSizeBuckets(histogram, 20), [
    {bucket: "1", order: 1, classes: 3, records: 3},
    {bucket: "2", order: 2, classes: 2, records: 4},
    {bucket: "5", order: 5, classes: 1, records: 5},
    {bucket: ">20", order: 21, classes: 3, records: 100}
  ]);
});

test("driverMatrix: singles on the diagonal, each pair on both sides", () => {
  const cells = driverMatrix(drivers);
  assert.equal(cells.length, 3 + 2 * 3);
  const at = (a: string, b: string) => cells.find((c) => c.a === a && c.b === b)!.uniqueRecords;
  assert.equal(at("zip", "zip"), 5);
  assert.equal(at("age", "zip"), 6);
  assert.equal(at("zip", "age"), 6);
  assert.equal(at("sex", "zip"), 5);
});

test("the risk chart draws one bar per risk value inside the frame, red above the threshold, and the threshold line", () => {
  const svg = prosecutorRiskChart(histogram, {width: 600, threshold: 0.2});
  const bars = [...svg.querySelectorAll("rect[fill]")].filter((r) => r.querySelector("title"));
  assert.equal(bars.length, 5);
  const red = bars.filter((b) => b.getAttribute("fill") === "#ff725c").map((b) => b.querySelector("title")!.textContent);
  assert.deepEqual(red, ["risk 100.0% (classes of 1): 3 records", "risk 50.0% (classes of 2): 4 records"]);
  for (const b of bars) {
    const x = Number(b.getAttribute("x"));
    const w = Number(b.getAttribute("width"));
    assert.ok(x >= 0 && x + w <= 600, `bar at ${x}+${w} leaves the 600 px frame`);
  }
  assert.match(svg.textContent!, /threshold 20\.0%/);
  assert.equal(normalize(svg), normalize(prosecutorRiskChart(histogram, {width: 600, threshold: 0.2})), "rendering is deterministic");
});

test("the class size chart colours classes below k", () => {
  const svg = classSizeChart(histogram, {width: 600, k: 5});
  const bars = [...svg.querySelectorAll("rect[fill]")].filter((r) => r.querySelector("title"));
  assert.deepEqual(
    bars.map((b) => [b.querySelector("title")!.textContent, b.getAttribute("fill")]),
    [
      ["size 1: 3 classes, 3 records", "#ff725c"],
      ["size 2: 2 classes, 4 records", "#ff725c"],
      ["size 5: 1 classes, 5 records", "#4269d0"],
      ["size >20: 3 classes, 100 records", "#4269d0"]
    ]
  );
});

test("the uniqueness charts label every cell and bar with its count", () => {
  const heat = uniquenessDriversChart(drivers, {width: 640});
  assert.equal(heat.querySelectorAll("rect title").length, 9);
  assert.deepEqual([...heat.querySelectorAll("text")].map((t) => t.textContent).filter((t) => /^\d+$/.test(t!)).length >= 9, true);
  const added = uniquenessAddedChart(drivers, {width: 640});
  const titles = [...added.querySelectorAll("rect title")].map((t) => t.textContent);
  assert.deepEqual(titles, ["zip: unique without it 3, adds 4", "age: unique without it 5, adds 2", "sex: unique without it 6, adds 1"]);
  assert.equal(normalize(added), normalize(uniquenessAddedChart(drivers, {width: 640})));
});

test("compactCount keeps heatmap labels short", () => {
  assert.deepEqual([0, 999, 1000, 1050, 9500, 9999, 10_000, 99_804, 999_499, 1_234_567, 12_345_678].map(compactCount), ["0", "999", "1k", "1.1k", "9.5k", "10k", "10k", "100k", "999k", "1.2M", "12M"]);
});
