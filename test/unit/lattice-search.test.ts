/**
 * The pruned search against (a) the exhaustive search over every node and (b) a naive
 * maps-and-loops implementation, on hand-worked data, random tables and UCI Adult; and the
 * optimum's measurements against the SQL risk engine on both hosts.
 */
import {test} from "node:test";
import assert from "node:assert/strict";
import {existsSync, readFileSync} from "node:fs";
import {builtinHierarchy, tableHierarchy, type Hierarchy} from "../../src/lib/hierarchies.js";
import {computeClassCounts, encodeClassCounts, type ClassCounts} from "../../src/lib/class-counts.js";
import {Lattice} from "../../src/lib/lattice.js";
import {computeFrontier, minSizeForRisk, paretoFrontier, searchLattice, type SearchPrivacyModel} from "../../src/lib/lattice-search.js";
import {computeRiskSummary} from "../../src/lib/risk.js";
import {readArxHierarchy} from "../../loaders/hierarchy-files.js";
import {naiveEvaluate, naiveLevelsList, naiveOptimum, type NaiveMetric, type NaiveModel} from "./lattice-naive.js";
import {createTextTable, HOSTS, loadCsvFile} from "../helpers/hosts.js";
import {random} from "../helpers/random.js";

type Row = {qi: (string | null)[]; sensitive: (string | null)[]};


/** Group rows in JS into ClassCounts (the SQL path is tested separately against this). */
function countsOf(rows: Row[], qis: {name: string; hierarchy: Hierarchy}[], sensitive: string[] = []): ClassCounts {
  const groups = new Map<string, {row: Row; n: number}>();
  for (const r of rows) {
    const key = JSON.stringify([r.qi, r.sensitive]);
    const g = groups.get(key);
    if (g) g.n++;
    else groups.set(key, {row: r, n: 1});
  }
  const list = [...groups.values()];
  return encodeClassCounts({
    quasiIdentifiers: qis,
    sensitive,
    qiValues: qis.map((_, j) => list.map((g) => g.row.qi[j])),
    sensitiveValues: sensitive.map((_, t) => list.map((g) => g.row.sensitive[t])),
    counts: list.map((g) => g.n)
  });
}

function toSearchModel(m: NaiveModel): SearchPrivacyModel {
  return {
    k: m.k,
    maxProsecutorRisk: m.maxProsecutorRisk,
    suppressionLimit: m.suppressionLimit,
    lDiversity: m.l ? [{variant: m.l.variant, l: m.l.l, c: m.l.c}] : undefined,
    tCloseness: m.t ? [{t: m.t.t, distance: m.t.distance}] : undefined
  };
}

// Hand-worked: 8 records, age (value -> decade -> *) and sex (value -> *).
const handAge = tableHierarchy("age", ["21", "22", "23", "24", "35", "36", "37", "38"].map((a) => [a, a < "30" ? "20-29" : "30-39", "*"]));
const handSex = builtinHierarchy("flat");
const handRows: Row[] = [
  ["21", "M"], ["22", "M"], ["23", "F"], ["24", "F"], ["35", "M"], ["36", "M"], ["37", "F"], ["38", "F"]
].map((qi) => ({qi, sensitive: []}));
const handQis = [{name: "age", hierarchy: handAge}, {name: "sex", hierarchy: handSex}];

test("lattice-search: lattice indexing, neighbours and boxes", () => {
  const lattice = new Lattice([2, 5, 3]);
  assert.equal(lattice.size, 30);
  assert.deepEqual(lattice.levels(lattice.index([1, 3, 2])), [1, 3, 2]);
  assert.equal(lattice.index([0, 0, 0]), 0);
  assert.equal(lattice.index([1, 4, 2]), 29);
  assert.deepEqual(lattice.successors(lattice.index([1, 3, 1])).map((n) => lattice.levels(n)), [[1, 4, 1], [1, 3, 2]]);
  assert.deepEqual(lattice.predecessors(lattice.index([1, 0, 1])).map((n) => lattice.levels(n)), [[0, 0, 1], [1, 0, 0]]);
  let below = 0;
  lattice.forEachSpecialization(lattice.index([1, 2, 1]), (n) => {
    below++;
    assert.ok(lattice.generalizes(lattice.index([1, 2, 1]), n));
  });
  assert.equal(below, 2 * 3 * 2);
  let above = 0;
  lattice.forEachGeneralization(lattice.index([1, 2, 1]), () => above++);
  assert.equal(above, 1 * 3 * 2);
  assert.throws(() => lattice.index([2, 0, 0]), /out of range/);
});

test("lattice-search: hand-worked optimum for k=2 and k=3 (precision)", async () => {
  const counts = countsOf(handRows, handQis);
  const r2 = await searchLattice(counts, {model: {k: 2}, metric: "precision"});
  assert.deepEqual(r2.optimum?.levels, {age: 1, sex: 0});
  assert.equal(r2.optimum?.metricValue, 0.25);
  assert.equal(r2.optimum?.measures.classes, 4);
  assert.equal(r2.optimum?.measures.minClassSize, 2);
  assert.equal(r2.optimum?.measures.avgProsecutorRisk, 0.5);
  assert.equal(r2.optimum?.measures.recordsAtRisk, 1);
  const r3 = await searchLattice(counts, {model: {k: 3}, metric: "precision"});
  assert.deepEqual(r3.optimum?.levels, {age: 2, sex: 0});
  assert.equal(r3.optimum?.metricValue, 0.5);
  // Loss at (1,0): age cells (4-1)/(8-1), sex 0 -> 3/14; discernibility 4 classes of 2 -> 16.
  const loss = await searchLattice(counts, {model: {k: 2}, metric: "loss"});
  assert.deepEqual(loss.optimum?.levelList, [1, 0]);
  assert.ok(Math.abs(loss.optimum!.metricValue - 3 / 14) < 1e-12);
  const dm = await searchLattice(counts, {model: {k: 2}, metric: "discernibility"});
  assert.deepEqual(dm.optimum?.levelList, [1, 0]);
  assert.equal(dm.optimum?.metricValue, 16);
  // No node is 9-anonymous with 8 records, even fully generalized.
  const none = await searchLattice(counts, {model: {k: 9}, metric: "precision"});
  assert.equal(none.optimum, null);
  // maxProsecutorRisk r is class size >= the least n with 1/n <= r.
  assert.equal(minSizeForRisk(0.5), 2);
  assert.equal(minSizeForRisk(0.34), 3);
  assert.equal(minSizeForRisk(1 / 3), 3);
  const risk = await searchLattice(counts, {model: {maxProsecutorRisk: 0.34}, metric: "precision"});
  assert.deepEqual(risk.optimum?.levelList, [2, 0]);
});

function randomDataset(seed: number, size: number): {rows: Row[]; qis: {name: string; hierarchy: Hierarchy}[]; sensitive: string[]} {
  const next = random(seed);
  const groups = ["a", "b", "c", "d", "e", "f"];
  const grp = tableHierarchy(
    "grp",
    groups.map((g, i) => [g, i < 2 ? "ab" : i < 4 ? "cd" : "ef", i < 4 ? "a-d" : "ef", "*"])
  );
  const zips = ["02139", "02138", "02141", "10001", "10002", "10013"];
  const rows: Row[] = [];
  const skew = next() < 0.5;
  for (let i = 0; i < size; ++i) {
    const age = String(Math.floor((skew ? next() ** 2 : next()) * 40));
    const zip = zips[Math.floor(next() * zips.length)];
    const sex = next() < 0.05 ? null : next() < 0.5 ? "F" : "M";
    const g = groups[Math.floor(next() * groups.length)];
    const dx = ["I10", "E11", "J45", "N18", "K21"][Math.floor(next() ** 1.5 * 5)];
    const los = String(Math.floor(next() * 6));
    rows.push({qi: [age, zip, sex, g], sensitive: [dx, los]});
  }
  return {
    rows,
    qis: [
      {name: "age", hierarchy: builtinHierarchy("interval:5,10")},
      {name: "zip", hierarchy: builtinHierarchy("mask:2")},
      {name: "sex", hierarchy: builtinHierarchy("flat")},
      {name: "grp", hierarchy: grp}
    ],
    sensitive: ["dx", "los"]
  };
}

function randomModel(next: () => number): NaiveModel {
  const model: NaiveModel = {suppressionLimit: [0, 0, 0.02, 0.05, 0.2][Math.floor(next() * 5)]};
  const kind = Math.floor(next() * 6);
  if (kind <= 1 || next() < 0.5) model.k = 2 + Math.floor(next() * 6);
  if (kind === 2) model.l = {variant: "distinct", l: 2 + Math.floor(next() * 2)};
  if (kind === 3) model.l = {variant: "entropy", l: 1.5 + next()};
  if (kind === 4) model.l = {variant: "recursive", l: 2, c: 2 + Math.floor(next() * 3)};
  if (kind === 5) model.t = {t: 0.15 + next() * 0.3, distance: next() < 0.5 ? "equal" : "ordered"};
  if (kind === 1 && next() < 0.5) model.maxProsecutorRisk = 0.1 + next() * 0.3;
  return model;
}

test("lattice-search: pruned = exhaustive = naive optimum on random tables, every metric and model", async () => {
  const metrics: NaiveMetric[] = ["precision", "loss", "discernibility", "entropy"];
  for (let seed = 1; seed <= 24; ++seed) {
    const {rows, qis, sensitive} = randomDataset(seed, 150 + seed * 10);
    const next = random(seed * 7919);
    const counts = countsOf(rows, qis, sensitive);
    for (let m = 0; m < 2; ++m) {
      const model = randomModel(next);
      const metric = metrics[(seed + m) % 4];
      const label = `seed ${seed} ${metric} ${JSON.stringify(model)}`;
      const pruned = await searchLattice(counts, {model: toSearchModel(model), metric});
      const exhaustive = await searchLattice(counts, {model: toSearchModel(model), metric, exhaustive: true});
      const naive = naiveOptimum(rows, qis.map((q) => q.hierarchy), model, metric);
      // Without fixed-stride keys (too many original values for 2^53) the rollups take the other path.
      const unkeyed = await searchLattice({...counts, strides: null}, {model: toSearchModel(model), metric});
      assert.deepEqual(unkeyed.optimum?.levelList, pruned.optimum?.levelList, `${label}: without strides`);
      assert.equal(exhaustive.nodesEvaluated, exhaustive.nodesTotal, label);
      if (!naive) {
        assert.equal(pruned.optimum, null, label);
        assert.equal(exhaustive.optimum, null, label);
        continue;
      }
      assert.deepEqual(pruned.optimum?.levelList, naive.levels, `${label}: pruned`);
      assert.deepEqual(exhaustive.optimum?.levelList, naive.levels, `${label}: exhaustive`);
      for (const r of [pruned, exhaustive]) {
        const v = r.optimum!.metricValue;
        assert.ok(Math.abs(v - naive.value) <= 1e-9 * Math.max(1, Math.abs(naive.value)), `${label}: value ${v} vs ${naive.value}`);
        assert.equal(r.optimum!.measures.suppressed, naive.suppressed, label);
        assert.equal(r.optimum!.measures.classes, naive.classes, label);
      }
    }
  }
});

test("lattice-search: a hierarchy that is not a tree falls back to exhaustive evaluation and stays right", async () => {
  // Level 1 puts a,b together but level 2 splits them: classes at level 2 are not unions of level-1 classes.
  const odd = tableHierarchy("odd", [
    ["a", "ab", "x", "*"],
    ["b", "ab", "y", "*"],
    ["c", "cd", "x", "*"],
    ["d", "cd", "y", "*"]
  ]);
  const next = random(99);
  const rows: Row[] = Array.from({length: 60}, () => ({qi: ["abcd"[Math.floor(next() * 4)], String(Math.floor(next() * 20))], sensitive: []}));
  const qis = [{name: "odd", hierarchy: odd}, {name: "n", hierarchy: builtinHierarchy("interval:5,10")}];
  const counts = countsOf(rows, qis);
  assert.equal(counts.treeShaped, false);
  for (const k of [2, 4, 8]) {
    const r = await searchLattice(counts, {model: {k, suppressionLimit: 0.1}, metric: "loss"});
    assert.equal(r.exhaustive, true);
    const naive = naiveOptimum(rows, qis.map((q) => q.hierarchy), {k, suppressionLimit: 0.1}, "loss");
    assert.deepEqual(r.optimum?.levelList, naive?.levels);
  }
});

test("lattice-search: frontier equals the naive Pareto set over all nodes", async () => {
  for (const seed of [3, 8]) {
    const {rows, qis, sensitive} = randomDataset(seed, 200);
    const counts = countsOf(rows, qis, sensitive);
    const model: NaiveModel = {k: 3, suppressionLimit: 0.05};
    const frontier = await computeFrontier(counts, {model: toSearchModel(model), metric: "loss"});
    const all = naiveLevelsList(qis.map((q) => q.hierarchy.height)).map((levels) => {
      const node = naiveEvaluate(rows, qis.map((q) => q.hierarchy), levels, model, "loss");
      return {levels, risk: node.classes / (rows.length - node.suppressed), metricValue: node.value, sum: levels.reduce((a, b) => a + b, 0)};
    });
    // Naive Pareto: keep points no other point beats on both axes (one strictly).
    const dominated = (p: (typeof all)[number]) => all.some((o) => o.risk <= p.risk + 1e-12 && o.metricValue <= p.metricValue + 1e-12 && (o.risk < p.risk - 1e-12 || o.metricValue < p.metricValue - 1e-12));
    const expected = all.filter((p) => !dominated(p));
    const expectedRisks = [...new Set(expected.map((p) => `${p.risk.toFixed(12)}|${p.metricValue.toFixed(12)}`))].sort();
    const actualRisks = frontier.map((p) => `${p.risk.toFixed(12)}|${p.metricValue.toFixed(12)}`).sort();
    assert.deepEqual(actualRisks, expectedRisks, `seed ${seed}`);
    assert.deepEqual(paretoFrontier([{risk: 1, metricValue: 1}, {risk: 0.5, metricValue: 2}, {risk: 0.6, metricValue: 3}, {risk: 1, metricValue: 0.5}]), [{risk: 0.5, metricValue: 2}, {risk: 1, metricValue: 0.5}]);
  }
});

test("lattice-search: progress callbacks and cancellation", async () => {
  const {rows, qis, sensitive} = randomDataset(5, 300);
  const counts = countsOf(rows, qis, sensitive);
  const seen: number[] = [];
  const r = await searchLattice(counts, {model: {k: 3}, exhaustive: true, onProgress: (p) => seen.push(p.processed)});
  assert.ok(seen.length >= 1 && seen[seen.length - 1] === r.nodesTotal);
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(searchLattice(counts, {model: {k: 3}, signal: controller.signal}), (e: Error) => e.name === "AbortError");
});

const RISK_KEYS = ["records", "suppressed", "classes", "minClassSize", "avgClassSize", "maxClassSize", "maxProsecutorRisk", "avgProsecutorRisk", "recordsAtRisk", "uniqueRecords", "marketerRisk", "levels", "anonymous", "violatingRecords"] as const;

function assertSameMeasures(actual: Record<string, unknown>, expected: Record<string, unknown>, label: string) {
  for (const key of RISK_KEYS) {
    const a = actual[key];
    const e = expected[key];
    if (typeof e === "number" && typeof a === "number") assert.ok(Math.abs(a - e) <= 1e-12 * Math.max(1, Math.abs(e)), `${label}.${key}: ${a} vs ${e}`);
    else assert.deepEqual(a, e, `${label}.${key}`);
  }
}

for (const host of HOSTS) {
  test(`lattice-search (${host.name}): SQL class counts equal JS grouping; optimum measures equal computeRiskSummary`, async () => {
    const conn = await host.open();
    try {
      for (const seed of [11, 12, 13]) {
        const {rows, qis, sensitive} = randomDataset(seed, 400);
        await createTextTable(conn, "t", [...qis.map((q) => q.name), ...sensitive], rows.map((r) => [...r.qi, ...r.sensitive]));
        const counts = await computeClassCounts(conn, {table: "t", quasiIdentifiers: qis, sensitive});
        const reference = countsOf(rows, qis, sensitive);
        assert.equal(counts.records, reference.records);
        assert.equal(counts.cells, reference.cells);
        const next = random(seed);
        for (let m = 0; m < 3; ++m) {
          const model = randomModel(next);
          delete model.maxProsecutorRisk;
          const r = await searchLattice(counts, {model: toSearchModel(model), metric: "loss"});
          const r2 = await searchLattice(reference, {model: toSearchModel(model), metric: "loss"});
          assert.deepEqual(r.optimum?.levelList, r2.optimum?.levelList);
          if (!r.optimum) continue;
          const summary = await computeRiskSummary(conn, {
            table: "t",
            quasiIdentifiers: qis,
            sensitive,
            levels: r.optimum.levels,
            k: model.k,
            suppressionLimit: model.suppressionLimit,
            lDiversity: model.l,
            tCloseness: model.t,
            drivers: false
          });
          assertSameMeasures(r.optimum.measures as unknown as Record<string, unknown>, summary as unknown as Record<string, unknown>, `seed ${seed} ${JSON.stringify(model)}`);
        }
      }
    } finally {
      conn.close();
    }
  });
}

const ADULT = "/work/shared/data/adult";
const adultNames = ["sex", "age", "race", "marital-status", "education", "native-country", "workclass", "occupation", "salary-class"];

test("lattice-search: UCI Adult, 9 QIs: pruned = exhaustive, and measures = computeRiskSummary (native and wasm)", async (t) => {
  if (!existsSync(`${ADULT}/adult.csv`)) return t.skip("UCI Adult not found in ../shared/data/adult");
  const qis = adultNames.map((name) => ({name, hierarchy: readArxHierarchy(`${ADULT}/adult_hierarchy_${name}.csv`)}));
  for (const host of HOSTS) {
    const conn = await host.open();
    try {
      await loadCsvFile(conn, `${ADULT}/adult.csv`, "adult", ";");
      const counts = await computeClassCounts(conn, {table: "adult", quasiIdentifiers: qis});
      assert.equal(counts.records, 30162);
      const cases: [number, number, NaiveMetric][] =
        host.name === "native"
          ? [[2, 0, "precision"], [5, 0, "loss"], [10, 0.05, "precision"], [5, 0.05, "loss"], [5, 0.05, "entropy"], [5, 0.05, "discernibility"]]
          : [[5, 0.05, "precision"]];
      for (const [k, suppressionLimit, metric] of cases) {
        const label = `${host.name} k=${k} s=${suppressionLimit} ${metric}`;
        const pruned = await searchLattice(counts, {model: {k, suppressionLimit}, metric});
        const exhaustive = await searchLattice(counts, {model: {k, suppressionLimit}, metric, exhaustive: true});
        assert.deepEqual(pruned.optimum?.levelList, exhaustive.optimum?.levelList, label);
        assert.equal(pruned.optimum?.metricValue, exhaustive.optimum?.metricValue, label);
        // Discernibility has only weak bounds under suppression: fewer nodes, not a quarter.
        assert.ok(pruned.nodesEvaluated < exhaustive.nodesEvaluated / (metric === "discernibility" ? 1.5 : 4), `${label}: evaluated ${pruned.nodesEvaluated}`);
        const summary = await computeRiskSummary(conn, {table: "adult", quasiIdentifiers: qis, levels: pruned.optimum!.levels, k, suppressionLimit, drivers: false});
        assertSameMeasures(pruned.optimum!.measures as unknown as Record<string, unknown>, summary as unknown as Record<string, unknown>, label);
      }
    } finally {
      conn.close();
    }
  }
});

test("lattice-search: UCI Adult with occupation sensitive: l-diversity and t-closeness, pruned = exhaustive", async (t) => {
  if (!existsSync(`${ADULT}/adult.csv`)) return t.skip("UCI Adult not found in ../shared/data/adult");
  const names = adultNames.filter((n) => n !== "occupation");
  const qis = names.map((name) => ({name, hierarchy: readArxHierarchy(`${ADULT}/adult_hierarchy_${name}.csv`)}));
  const conn = await HOSTS[0].open();
  try {
    await loadCsvFile(conn, `${ADULT}/adult.csv`, "adult", ";");
    const counts = await computeClassCounts(conn, {table: "adult", quasiIdentifiers: qis, sensitive: ["occupation"]});
    const models: SearchPrivacyModel[] = [
      {k: 5, lDiversity: [{variant: "entropy", l: 3}], suppressionLimit: 0.05},
      {k: 2, lDiversity: [{variant: "distinct", l: 4}], suppressionLimit: 0.01},
      {tCloseness: [{t: 0.2, distance: "equal"}], suppressionLimit: 0.05}
    ];
    for (const model of models) {
      const label = JSON.stringify(model);
      const pruned = await searchLattice(counts, {model, metric: "loss"});
      const exhaustive = await searchLattice(counts, {model, metric: "loss", exhaustive: true});
      assert.deepEqual(pruned.optimum?.levelList, exhaustive.optimum?.levelList, label);
      assert.equal(pruned.optimum?.metricValue, exhaustive.optimum?.metricValue, label);
      assert.ok(pruned.nodesEvaluated < exhaustive.nodesEvaluated, label);
      const summary = await computeRiskSummary(conn, {
        table: "adult",
        quasiIdentifiers: qis,
        sensitive: ["occupation"],
        levels: pruned.optimum!.levels,
        k: model.k,
        suppressionLimit: model.suppressionLimit,
        lDiversity: model.lDiversity?.[0],
        tCloseness: model.tCloseness?.[0],
        drivers: false
      });
      assertSameMeasures(pruned.optimum!.measures as unknown as Record<string, unknown>, summary as unknown as Record<string, unknown>, label);
    }
  } finally {
    conn.close();
  }
});
