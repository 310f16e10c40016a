import {test} from "node:test";
import assert from "node:assert/strict";
import {tableHierarchy, builtinHierarchy} from "../../src/lib/hierarchies.js";
import {bottomClasses, encodeClassCounts, rollUpClasses} from "../../src/lib/class-counts.js";
import {jensenShannon, measureUtility, metricLowerBound, metricValue, prepareUtilityTables} from "../../src/lib/utility.js";

const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

// 8 records: ages 21-24 and 35-38 (value -> decade -> *), sex M/F (value -> *).
const ages = ["21", "22", "23", "24", "35", "36", "37", "38"];
const sexes = ["M", "M", "F", "F", "M", "M", "F", "F"];
const age = tableHierarchy("age", ages.map((a) => [a, a < "30" ? "20-29" : "30-39", "*"]));
const counts = encodeClassCounts({
  quasiIdentifiers: [{name: "age", hierarchy: age}, {name: "sex", hierarchy: builtinHierarchy("flat")}],
  qiValues: [ages, sexes],
  counts: ages.map(() => 1)
});
const tables = prepareUtilityTables(counts);
const bottom = bottomClasses(counts).node;

test("utility: hand-worked metrics at levels (age 1, sex 0), nothing suppressed", () => {
  const node = rollUpClasses(counts, bottom, [1, 0]);
  assert.equal(node.classes, 4);
  // precision: age cells 1/2, sex cells 0 -> 1/4. loss: age (4-1)/(8-1), sex 0 -> 3/14.
  close(metricValue(tables, node, null, "precision"), 0.25, "precision");
  close(metricValue(tables, node, null, "loss"), 3 / 14, "loss");
  // discernibility: 4 classes of 2.
  assert.equal(metricValue(tables, node, null, "discernibility"), 16);
  // entropy: each age cell -log2(1/4) = 2 bits, 8 cells; sex at level 0 costs 0.
  close(metricValue(tables, node, null, "entropy"), 16, "entropy");
  // Without suppression the lower bounds are the values.
  for (const m of ["precision", "loss", "entropy"] as const) close(metricLowerBound(tables, [1, 0], m), metricValue(tables, node, null, m), m);
  const report = measureUtility(counts, tables, node, null, {k: 2, weights: {age: 3, sex: 1}});
  close(report.averageClassSize, 1, "C_AVG = (8/4)/2");
  // Suppressing everything: 24 bits for age (-log2 1/8) + 8 for sex (-log2 4/8) = 32.
  close(report.entropyNormalized, 0.5, "entropy / 32");
  close(report.weightedLoss, (3 * (3 / 7) + 1 * 0) / 4, "weighted loss");
  close(report.weightedPrecision, (3 * 0.5) / 4, "weighted precision");
  const a = report.attributes[0];
  close(a.loss, 3 / 7, "age loss");
  close(a.jensenShannon, 0, "uniform ages spread evenly: no drift");
  close(a.meanOriginal!, 29.5, "mean");
  close(a.meanDeidentified!, 29.5, "mean after");
});

test("utility: suppression counts suppressed cells as fully generalized", () => {
  const node = rollUpClasses(counts, bottom, [1, 0]);
  // Suppress the class (20-29, M) = records 21, 22.
  const suppressed = new Uint8Array(node.classes);
  for (let c = 0; c < node.classes; ++c) if (node.codes[c * 2] === counts.quasiIdentifiers[0].labels[1].indexOf("20-29") && counts.quasiIdentifiers[1].labels[0][node.codes[c * 2 + 1]] === "M") suppressed[c] = 1;
  assert.equal(suppressed.reduce((a, b) => a + b, 0), 1);
  // precision: 6 records x (1/2 + 0) + 2 records x 2 cells of 1 = 3 + 4 = 7 over 16 cells.
  close(metricValue(tables, node, suppressed, "precision"), 7 / 16, "precision");
  // loss: 6 x 3/7 + 2 x 2 = 18/7 + 4 over 16.
  close(metricValue(tables, node, suppressed, "loss"), (18 / 7 + 4) / 16, "loss");
  // discernibility: 3 kept classes of 2 (12) + 2 suppressed x 8 records (16).
  assert.equal(metricValue(tables, node, suppressed, "discernibility"), 28);
  // entropy: kept 6 age cells x 2 bits; suppressed: 2 age cells x 3 bits + 2 sex cells x 1 bit.
  close(metricValue(tables, node, suppressed, "entropy"), 12 + 6 + 2, "entropy");
  const report = measureUtility(counts, tables, node, suppressed, {k: 2});
  assert.equal(report.suppressed, 2);
  close(report.averageClassSize, 6 / 3 / 2, "C_AVG over kept records");
  const sex = report.attributes[1];
  // Sex: original 4 M / 4 F; after: 2 M + 4 F kept + 2 suppressed spread 1/1 -> 3 M / 5 F.
  const expected = 0.5 * (0.5 * Math.log2(0.5 / 0.4375) + 0.5 * Math.log2(0.5 / 0.5625)) + 0.5 * (0.375 * Math.log2(0.375 / 0.4375) + 0.625 * Math.log2(0.625 / 0.5625));
  close(sex.jensenShannon, expected, "JSD of sex");
});

test("utility: Jensen-Shannon divergence and numeric drift by hand", () => {
  assert.equal(jensenShannon([1, 0], [0, 1]), 1);
  assert.equal(jensenShannon([2, 2], [1, 1]), 0);
  // p = (.75, .25), q = (.5, .5): 0.0487946 (worked with log2 1.2, log2 2/3, log2 0.8, log2 4/3).
  assert.ok(Math.abs(jensenShannon([3, 1], [1, 1]) - 0.0487946) < 1e-6);
  // Ages 20, 20, 20, 30 generalized to "*": spread evenly over {20, 30} -> mean 25, variance 25.
  const h = tableHierarchy("a", [["20", "*"], ["30", "*"]]);
  const c = encodeClassCounts({quasiIdentifiers: [{name: "a", hierarchy: h}], qiValues: [["20", "30"]], counts: [3, 1]});
  const t = prepareUtilityTables(c);
  const top = rollUpClasses(c, bottomClasses(c).node, [1]);
  const a = measureUtility(c, t, top, null).attributes[0];
  close(a.meanOriginal!, 22.5, "mean before");
  close(a.varianceOriginal!, 18.75, "variance before");
  close(a.meanDeidentified!, 25, "mean after");
  close(a.varianceDeidentified!, 25, "variance after");
  assert.ok(Math.abs(a.jensenShannon - 0.0487946) < 1e-6);
});
