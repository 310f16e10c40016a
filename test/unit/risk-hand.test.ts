/**
 * Hand-worked risk figures on a 12-record table, on both hosts.
 *
 *  #  age sex disease     age:5 level 2 (10-year bands), sex level 0 gives six classes:
 *  1  23  M   flu          C1 (20-29, M): rows 1-3   size 3  flu 2, cold 1
 *  2  24  M   flu          C2 (30-39, F): rows 4-7   size 4  flu 1, cancer 2, cold 1
 *  3  27  M   cold         C3 (40-49, M): rows 8-9   size 2  flu 2
 *  4  31  F   flu          C4 (40-49, F): row 10     size 1  cancer
 *  5  33  F   cancer       C5 (50-59, F): row 11     size 1  flu
 *  6  35  F   cancer       C6 (50-59, M): row 12     size 1  cold
 *  7  36  F   cold
 *  8  41  M   flu         Whole table: flu 6/12 = .5, cold 3/12 = .25, cancer 3/12 = .25.
 *  9  44  M   flu         Text order for the ordered distance: cancer < cold < flu.
 * 10  47  F   cancer
 * 11  52  F   flu
 * 12  58  M   cold
 */
import {test} from "node:test";
import assert from "node:assert/strict";
import {builtinHierarchy, tableHierarchy} from "../../src/lib/hierarchies.js";
import {computeRiskSummary, hypergeometricOne, type RiskOptions} from "../../src/lib/risk.js";
import {equivalenceClasses} from "../../src/lib/equivalence-classes.js";
import {assertClose, createTextTable, HOSTS, type TestConnection} from "../helpers/hosts.js";

const ROWS: string[][] = [
  ["23", "M", "flu"],
  ["24", "M", "flu"],
  ["27", "M", "cold"],
  ["31", "F", "flu"],
  ["33", "F", "cancer"],
  ["35", "F", "cancer"],
  ["36", "F", "cold"],
  ["41", "M", "flu"],
  ["44", "M", "flu"],
  ["47", "F", "cancer"],
  ["52", "F", "flu"],
  ["58", "M", "cold"]
];
const sex = tableHierarchy("sex", [
  ["M", "*"],
  ["F", "*"]
]);
const QIS = [
  {name: "age", hierarchy: builtinHierarchy("age:5")},
  {name: "sex", hierarchy: sex}
];
const LEVELS = {age: 2, sex: 0};

async function withHand<T>(fn: (conn: TestConnection, run: (o: Partial<RiskOptions>) => ReturnType<typeof computeRiskSummary>) => Promise<T>) {
  for (const host of HOSTS) {
    const conn = await host.open();
    try {
      await createTextTable(conn, "hand", ["age", "sex", "disease"], ROWS);
      await fn(conn, (o) => computeRiskSummary(conn, {table: "hand", quasiIdentifiers: QIS, levels: LEVELS, sensitive: ["disease"], ...o}));
    } catch (error) {
      (error as Error).message = `[${host.name}] ${(error as Error).message}`;
      throw error;
    } finally {
      conn.close();
    }
  }
}

test("risk-hand: classes and prosecutor risk without a privacy model", async () => {
  await withHand(async (_conn, run) => {
    const s = await run({threshold: 0.3});
    // 6 classes of sizes 1,1,1,2,3,4; risks 1/size; at 0.3: sizes 1,1,1,2,3 -> 3+2+3 = 8 of 12 records.
    assertClose(s, {records: 12, suppressed: 0, classes: 6, minClassSize: 1, avgClassSize: 2, maxClassSize: 4, maxProsecutorRisk: 1, avgProsecutorRisk: 0.5, recordsAtRisk: 8 / 12, marketerRisk: 0.5, uniqueRecords: 3, anonymous: null, levels: LEVELS});
    // At 0.2 every class is at risk (1/4 = 0.25 > 0.2).
    assert.equal(s.recordsAtRiskByThreshold["0.2"], 1);
    // Sensitive: C3..C6 hold one value -> distinct-l 1, entropy-l 1, (c,2) impossible.
    // Equal EMD: C4 (cancer only): (|0-.5| + |1-.25| + |0-.25|) / 2 = .75 (also C6).
    // Ordered EMD: C4: cumulative diffs .75, .5, 0 -> 1.25 / (3-1) = .625.
    assertClose(s.sensitive[0], {attribute: "disease", distinctL: 1, entropyL: 1, recursiveC: null, tClosenessEqual: 0.75, tClosenessOrdered: 0.625, valueOrder: "text", domainSize: 3});
    // Drivers: 10-year band alone: 3,4,3,2 records -> none unique; sex alone 6/6 -> none; both -> 3 uniques.
    assertClose(s.drivers, {
      uniqueRecords: 3,
      single: [{quasiIdentifiers: ["age"], uniqueRecords: 0}, {quasiIdentifiers: ["sex"], uniqueRecords: 0}],
      pairs: [{quasiIdentifiers: ["age", "sex"], uniqueRecords: 3}],
      withoutEach: [
        {quasiIdentifier: "age", uniqueRecordsWithout: 0, uniqueRecordsAdded: 3},
        {quasiIdentifier: "sex", uniqueRecordsWithout: 0, uniqueRecordsAdded: 3}
      ]
    });
  });
});

test("risk-hand: k=2 suppresses the 3 singletons when the limit allows floor(.25*12)=3", async () => {
  await withHand(async (_conn, run) => {
    const s = await run({k: 2, suppressionLimit: 0.25, threshold: 0.3});
    // Remaining C1..C3 (3+4+2 = 9 records); at 0.3: sizes 3 (1/3) and 2 (1/2) -> 5 of 9.
    assertClose(s, {records: 12, suppressed: 3, violatingRecords: 3, anonymous: true, classes: 3, minClassSize: 2, avgClassSize: 3, maxClassSize: 4, maxProsecutorRisk: 0.5, avgProsecutorRisk: 3 / 9, recordsAtRisk: 5 / 9, marketerRisk: 3 / 9, uniqueRecords: 0});
    // Over C1..C3: C3 (flu, flu) has one value: equal EMD (.5 + .25 + .25)/2 = .5, ordered (-.25, -.5, 0) -> .375.
    assertClose(s.sensitive[0], {distinctL: 1, entropyL: 1, recursiveC: null, tClosenessEqual: 0.5, tClosenessOrdered: 0.375});
    assert.match(s.note, /3 record\(s\).*suppressed.*9 remaining/);
  });
});

test("risk-hand: k=2 with a limit below the violating records suppresses nothing and is not anonymous", async () => {
  await withHand(async (_conn, run) => {
    // floor(.2 * 12) = 2 < 3 violating records.
    const s = await run({k: 2, suppressionLimit: 0.2});
    assertClose(s, {suppressed: 0, violatingRecords: 3, anonymous: false, classes: 6, minClassSize: 1, avgProsecutorRisk: 0.5});
    const none = await run({k: 2});
    assertClose(none, {suppressed: 0, anonymous: false, classes: 6});
    // ARX's output view: suppress the violating classes anyway, still not anonymous.
    const always = await run({k: 2, suppressionLimit: 0.2, suppressAlways: true});
    assertClose(always, {suppressed: 3, violatingRecords: 3, anonymous: false, classes: 3, minClassSize: 2, avgProsecutorRisk: 3 / 9});
    const k1 = await run({k: 1});
    assertClose(k1, {suppressed: 0, anonymous: true, classes: 6});
  });
});

test("risk-hand: k=3 with limit .5 keeps C1 and C2 (7 records)", async () => {
  await withHand(async (_conn, run) => {
    const s = await run({k: 3, suppressionLimit: 0.5});
    assertClose(s, {suppressed: 5, anonymous: true, classes: 2, minClassSize: 3, maxClassSize: 4, avgClassSize: 3.5, avgProsecutorRisk: 2 / 7, maxProsecutorRisk: 1 / 3});
    // C1: flu 2, cold 1: entropy-l = exp(-(2/3 ln 2/3 + 1/3 ln 1/3)) = 1.88988; (c,2): C1 2/1 = 2, C2 2/(1+1) = 1.
    // Equal EMD C1: (1/6 + 1/12 + 1/4)/2 = .25, C2: (.25 + .25 + 0)/2 = .25. Ordered C1: (.25 + 1/6)/2, C2: (.25+.25)/2 = .25.
    const entropyC1 = Math.exp(-((2 / 3) * Math.log(2 / 3) + (1 / 3) * Math.log(1 / 3)));
    assertClose(s.sensitive[0], {distinctL: 2, entropyL: entropyC1, recursiveC: 2, tClosenessEqual: 0.25, tClosenessOrdered: 0.25});
  });
});

test("risk-hand: l-diversity variants and t-closeness decide suppression per class", async () => {
  await withHand(async (_conn, run) => {
    // distinct-2: C3 (1 value) and C4..C6 violate: 2 + 3 = 5 <= floor(6).
    assertClose(await run({k: 2, lDiversity: {l: 2}, suppressionLimit: 0.5}), {suppressed: 5, anonymous: true, classes: 2});
    // recursive (2,2): C1 r1 = 2 is not < 2 * 1, so C1 violates too: 8 > 6 -> nothing suppressed.
    assertClose(await run({lDiversity: {variant: "recursive", l: 2, c: 2}, suppressionLimit: 0.5}), {suppressed: 0, violatingRecords: 8, anonymous: false});
    // recursive (3,2): C1 2 < 3 holds; C2 2 < 3 * 2 holds -> 5 suppressed.
    assertClose(await run({lDiversity: {variant: "recursive", l: 2, c: 3}, suppressionLimit: 0.5}), {suppressed: 5, anonymous: true, classes: 2});
    // entropy-2: ln 2 = .6931 > H(C1) = .6365 -> C1 violates: 8 records.
    assertClose(await run({lDiversity: {variant: "entropy", l: 2}, suppressionLimit: 0.5}), {violatingRecords: 8, anonymous: false});
    // entropy-1.8: ln 1.8 = .5878 <= .6365 -> only the 5 one-value records violate.
    assertClose(await run({lDiversity: {variant: "entropy", l: 1.8}, suppressionLimit: 0.5}), {suppressed: 5, classes: 2});
    // t = .3, equal: C1 .25, C2 .25 pass; C3 .5, C4 .75, C5 .5, C6 .75 fail -> 5.
    assertClose(await run({tCloseness: {t: 0.3}, suppressionLimit: 0.5}), {suppressed: 5, classes: 2});
    // t = .3, ordered: C1 .2083, C2 .25 pass; C3 .375, C4 .625, C5 .375, C6 .375 fail -> 5.
    assertClose(await run({tCloseness: {t: 0.3, distance: "ordered"}, suppressionLimit: 0.5}), {suppressed: 5, classes: 2});
    // t = .21, ordered: C2 (.25) fails too -> 9 > 6.
    assertClose(await run({tCloseness: {t: 0.21, distance: "ordered"}, suppressionLimit: 0.5}), {violatingRecords: 9, anonymous: false, suppressed: 0});
  });
});

test("risk-hand: journalist risk against a population table and the Zayatz estimate", async () => {
  await withHand(async (conn, run) => {
    // Population = the 12 sample records + 4 more: (45,F) joins C4 -> 2; (55,F) x2 join C5 -> 3; (57,M) joins C6 -> 2.
    await createTextTable(conn, "pop", ["age", "sex", "disease"], [...ROWS, ["45", "F", "flu"], ["55", "F", "flu"], ["55", "F", "cold"], ["57", "M", "flu"]]);
    const s = await run({threshold: 0.3, population: {table: "pop"}});
    // F per class: 3, 4, 2, 2, 3, 2 (16). At 0.3: F = 3 and F = 2 are at risk: 3 + 2 + 1 + 1 + 1 = 8 of 12.
    // avg = max(6 / 16, (1 + 1 + 1 + 1/2 + 1/3 + 1/2) / 12) = max(.375, .36111) = .375.
    assertClose(s.journalist, {basis: "population table", populationSize: 16, kMap: 2, maxRisk: 0.5, avgRisk: 0.375, recordsAtRisk: 8 / 12, marketerRisk: (4 + 1 / 3) / 12});
    // Zayatz with N = 16, n = 12, class sizes 1 (x3), 2, 3, 4:
    // P1(i) = i C(16-i, 11) / C(16, 12): 1365/1820 = .75, 728/1820 = .4, 234/1820, 48/1820.
    // P(F=1|f=1) = (3/6 * .75) / ((3 * .75 + .4 + 234/1820 + 48/1820) / 6); uniques = 3 * that / (12/16).
    const conditional = 2.25 / (2.65 + 282 / 1820);
    assertClose(s.populationUniqueness, {estimator: "Zayatz (1991)", populationSize: 16, samplingFraction: 0.75, populationUniques: (3 * conditional) / 0.75, fraction: (3 * conditional) / 0.75 / 16});
  });
});

test("risk-hand: journalist risk from a sampling fraction uses F = f / pi", async () => {
  await withHand(async (_conn, run) => {
    // pi = .5: F = 2f = 2, 2, 2, 4, 6, 8 (N = 24); kMap 2; 1/F > .3 only for F = 2: 3 records; avg = max(6/24, 6 * .5 / 12) = .25.
    const s = await run({threshold: 0.3, population: {samplingFraction: 0.5}});
    assertClose(s.journalist, {basis: "sampling fraction", populationSize: 24, kMap: 2, maxRisk: 0.5, recordsAtRisk: 3 / 12, avgRisk: 0.25, marketerRisk: 0.25});
    assert.equal(s.marketerRisk, 0.5);
  });
});

test("risk-hand: hypergeometric P(X=1) matches exact binomials", () => {
  assertClose(hypergeometricOne(16, 1, 12), 0.75);
  assertClose(hypergeometricOne(16, 2, 12), 728 / 1820);
  assertClose(hypergeometricOne(16, 3, 12), 234 / 1820);
  assertClose(hypergeometricOne(16, 4, 12), 48 / 1820);
  assert.equal(hypergeometricOne(16, 6, 12), 0); // C(10, 11) = 0
});

test("risk-hand: equivalence class table, smallest first, with suppression flags", async () => {
  for (const host of HOSTS) {
    const conn = await host.open();
    await createTextTable(conn, "hand", ["age", "sex", "disease"], ROWS);
    const r = await equivalenceClasses(conn, {table: "hand", quasiIdentifiers: QIS, levels: LEVELS, k: 2, suppressionLimit: 0.25});
    assert.equal(r.totalClasses, 6);
    assert.equal(r.suppressed, 3);
    assert.deepEqual(
      r.classes.map((c) => [c.labels.age, c.labels.sex, c.size, c.suppressed]),
      [
        ["40-49", "F", 1, true],
        ["50-59", "F", 1, true],
        ["50-59", "M", 1, true],
        ["40-49", "M", 2, false],
        ["20-29", "M", 3, false],
        ["30-39", "F", 4, false]
      ],
      host.name
    );
    conn.close();
  }
});

test("risk-hand: bad levels and unknown columns are clear errors", async () => {
  await withHand(async (conn, run) => {
    await assert.rejects(run({levels: {age: 7, sex: 0}}), /level 7 for quasi-identifier "age" is out of range: hierarchy "age:5" has levels 0..4/);
    await assert.rejects(run({levels: {age: 1}}), /no level given for quasi-identifier "sex"/);
    await assert.rejects(computeRiskSummary(conn, {table: "hand", quasiIdentifiers: [{name: "zip", hierarchy: sex}], levels: {zip: 0}}), /column "zip" is not in table hand/);
    await createTextTable(conn, "bad", ["age", "sex"], [["23", "X"]]);
    await assert.rejects(computeRiskSummary(conn, {table: "bad", quasiIdentifiers: QIS, levels: LEVELS}), /does not cover.*"X"/);
  });
});
