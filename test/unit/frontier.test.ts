/**
 * The fast rollups behind the risk/utility frontier (class-counts.ts: partitioned grouping, keys
 * decoded from fixed-stride keys, rollUpClassSizes' blocks) against a naive node-by-node grouping
 * of the cells with Maps; the frontier against a naive Pareto set; measurePackageUtility's frontier
 * on both hosts against the same naive definitions; and measurePackageMlUtility's size check.
 */
import {test} from "node:test";
import assert from "node:assert/strict";
import {bottomClasses, encodeClassCounts, rollUpClasses, rollUpClassSizes, createRollUpScratch, type ClassCounts, type NodeClasses} from "../../src/lib/class-counts.js";
import {builtinHierarchy, tableHierarchy, type Hierarchy} from "../../src/lib/hierarchies.js";
import {Lattice} from "../../src/lib/lattice.js";
import {computeFrontier} from "../../src/lib/lattice-search.js";
import {measurePackageMlUtility, measurePackageUtility, ML_UTILITY_MAX_RECORDS} from "../../src/lib/package-utility.js";
import {validateTransformConfig} from "../../src/lib/transform-config.js";
import type {SqlConnection} from "../../src/lib/sql.js";
import {createTextTable, HOSTS} from "../helpers/hosts.js";
import {random} from "../helpers/random.js";

type Qi = {name: string; hierarchy: Hierarchy};

const groups = ["a", "b", "c", "d", "e", "f"];
const grp = tableHierarchy("grp", groups.map((g, i) => [g, i < 2 ? "ab" : i < 4 ? "cd" : "ef", i < 4 ? "a-d" : "ef", "*"]));

/** Distinct rows (cells) with counts, in order of first appearance, and the ClassCounts built from them in that order. */
function cellsOf(rows: (string | null)[][], qis: Qi[]): {values: (string | null)[][]; counts: number[]; classCounts: ClassCounts} {
  const index = new Map<string, number>();
  const values: (string | null)[][] = [];
  const counts: number[] = [];
  for (const r of rows) {
    const key = JSON.stringify(r);
    const i = index.get(key);
    if (i === undefined) {
      index.set(key, values.length);
      values.push(r);
      counts.push(1);
    } else counts[i]++;
  }
  const classCounts = encodeClassCounts({quasiIdentifiers: qis, qiValues: qis.map((_, j) => values.map((v) => v[j])), counts});
  return {values, counts, classCounts};
}

/** A table with tens of thousands of cells: the partitioned and blocked rollups only start above 32768. */
function largeTable(seed: number, rows: number): {rows: (string | null)[][]; qis: Qi[]} {
  const next = random(seed);
  const zips = Array.from({length: 1500}, () => String(10000 + Math.floor(next() * 89999)));
  const out: (string | null)[][] = [];
  for (let i = 0; i < rows; ++i) {
    const zip = zips[Math.floor(next() ** 1.3 * zips.length)];
    const age = String(Math.floor(next() * 100));
    const sex = next() < 0.03 ? null : next() < 0.5 ? "F" : "M";
    out.push([zip, age, sex, groups[Math.floor(next() * groups.length)]]);
  }
  return {
    rows: out,
    qis: [
      {name: "zip", hierarchy: builtinHierarchy("mask:2")},
      {name: "age", hierarchy: builtinHierarchy("interval:5,10")},
      {name: "sex", hierarchy: builtinHierarchy("flat")},
      {name: "grp", hierarchy: grp}
    ]
  };
}

/**
 * Naive classes of a node, straight from the hierarchies' labels: one Map over the cells in their
 * order, so classes come in order of first appearance. Each class is "label|label|...": size.
 */
function naiveClasses(values: (string | null)[][], counts: number[], qis: Qi[], levels: number[]): {labels: string[]; sizes: number[]} {
  const paths = qis.map((q) => new Map<string | null, (string | null)[]>());
  const label = (j: number, v: string | null) => {
    let p = paths[j].get(v);
    if (!p) paths[j].set(v, (p = qis[j].hierarchy.generalize(v)));
    return levels[j] === 0 ? v : p[levels[j]];
  };
  const index = new Map<string, number>();
  const labels: string[] = [];
  const sizes: number[] = [];
  values.forEach((row, i) => {
    const key = JSON.stringify(row.map((v, j) => label(j, v)));
    const c = index.get(key);
    if (c === undefined) {
      index.set(key, labels.length);
      labels.push(key);
      sizes.push(counts[i]);
    } else sizes[c] += counts[i];
  });
  return {labels, sizes};
}

/** The engine's classes of a node as the same "labels": size strings, read through its (possibly decoded) codes. */
function engineClasses(counts: ClassCounts, node: NodeClasses): {labels: string[]; sizes: number[]} {
  const q = counts.quasiIdentifiers.length;
  const codes = node.codes;
  const labels: string[] = [];
  for (let c = 0; c < node.classes; ++c) labels.push(JSON.stringify(counts.quasiIdentifiers.map((qi, j) => qi.labels[node.levels[j]][codes[c * q + j]])));
  // Keys are the codes in mixed radix.
  if (node.keys && counts.strides) {
    for (let c = 0; c < node.classes; ++c) {
      let key = 0;
      for (let j = 0; j < q; ++j) key += codes[c * q + j] * counts.strides[j];
      if (key !== node.keys[c]) throw new Error(`class ${c} of ${node.levels}: key ${node.keys[c]} but codes give ${key}`);
    }
  }
  return {labels, sizes: Array.from(node.classSizes.subarray(0, node.classes))};
}

const sortedPairs = (x: {labels: string[]; sizes: number[]}) => x.labels.map((l, i) => `${l}=${x.sizes[i]}`).sort();

test("frontier: rollups over 40k+ cells (partitioned, blocked, hashed) equal a naive grouping of every node", () => {
  const {rows, qis} = largeTable(11, 52_000);
  const {values, counts, classCounts} = cellsOf(rows, qis);
  assert.ok(classCounts.cells > 40_000, `only ${classCounts.cells} cells: the fast paths would not run`);
  assert.ok(classCounts.strides && classCounts.treeShaped);
  const lattice = new Lattice(qis.map((q) => q.hierarchy.height));
  const bottom = bottomClasses(classCounts).node;
  const ordered: NodeClasses[] = [bottom];
  const anyOrder: NodeClasses[] = [bottom];
  const hashed: NodeClasses[] = [bottom];
  // Not tree-shaped: rollUpClassSizes finds no block dimension and groups by hash partitions.
  const untree = {...classCounts, treeShaped: false};
  const scratch = createRollUpScratch();
  const order = Array.from({length: lattice.size}, (_, n) => n).sort((a, b) => lattice.levelSum(a) - lattice.levelSum(b) || a - b);
  let large = 0;
  for (const n of order) {
    if (n === 0) continue;
    const levels = lattice.levels(n);
    const preds = lattice.predecessors(n);
    // Ordered rollups from the bottom and from a predecessor; any-order ones from the smallest predecessor (as the frontier does).
    const fromPred = ordered[preds[n % preds.length]];
    const smallest = preds.reduce((a, b) => (anyOrder[b].cells < anyOrder[a].cells ? b : a));
    ordered[n] = rollUpClasses(classCounts, fromPred, levels, scratch);
    anyOrder[n] = rollUpClassSizes(classCounts, anyOrder[smallest], levels, scratch);
    hashed[n] = rollUpClassSizes(untree, bottom, levels, scratch);
    const expected = naiveClasses(values, counts, qis, levels);
    if (anyOrder[smallest].cells >= 32768) large++;
    const label = `node ${levels}`;
    assert.deepEqual(engineClasses(classCounts, ordered[n]), expected, `${label}: ordered rollup from ${ordered[preds[n % preds.length]].levels}`);
    assert.deepEqual(engineClasses(classCounts, rollUpClasses(classCounts, bottom, levels, scratch)), expected, `${label}: ordered rollup from the bottom`);
    assert.deepEqual(sortedPairs(engineClasses(classCounts, anyOrder[n])), sortedPairs(expected), `${label}: rollUpClassSizes`);
    assert.deepEqual(sortedPairs(engineClasses(classCounts, hashed[n])), sortedPairs(expected), `${label}: rollUpClassSizes by hash partitions`);
    // Without fixed-stride keys: the mixed-radix path, in order.
    if (lattice.levelSum(n) <= 2) assert.deepEqual(engineClasses(classCounts, rollUpClasses({...classCounts, strides: null}, {...bottom, keys: null}, levels, scratch)), expected, `${label}: without strides`);
  }
  assert.ok(large >= 10, `only ${large} rollups from 32768+ cells`);
});

test("frontier: keys near 2^53 decode exactly", () => {
  // Four quasi-identifiers with ~6000 distinct values each: the product of the radices is ~1.3e15.
  const next = random(5);
  const rows = Array.from({length: 9000}, () => Array.from({length: 4}, () => String(Math.floor(next() * 9000))));
  const qis = ["a", "b", "c", "d"].map((name) => ({name, hierarchy: builtinHierarchy("interval:10,100,1000")}));
  const {values, counts, classCounts} = cellsOf(rows, qis);
  assert.ok(classCounts.strides);
  const product = classCounts.strides[0] * classCounts.quasiIdentifiers[0].labels[0].length;
  assert.ok(product > 2 ** 49 && product <= Number.MAX_SAFE_INTEGER, `product ${product}`);
  const bottom = bottomClasses(classCounts).node;
  for (const levels of [[1, 0, 0, 0], [0, 0, 0, 1], [2, 1, 0, 3], [1, 2, 3, 1], [4, 4, 4, 0]]) {
    const expected = naiveClasses(values, counts, qis, levels);
    assert.deepEqual(engineClasses(classCounts, rollUpClasses(classCounts, bottom, levels)), expected, `${levels}`);
    const step = rollUpClasses(classCounts, bottom, levels.map((l) => Math.min(l, 1)));
    assert.deepEqual(engineClasses(classCounts, rollUpClasses(classCounts, step, levels)), expected, `${levels} via ${step.levels}`);
  }
});

interface NaivePoint {
  levels: number[];
  risk: number;
  loss: number;
}

/**
 * docs/semantics.md: classes smaller than k violate; when their records fit the suppression limit
 * they are suppressed (counted as generalized to the top); risk = remaining classes / remaining
 * records; precision = mean over records and QIs of level / (height - 1), suppressed records 1.
 */
function naivePoint(sizes: number[], levels: number[], heights: number[], model: {k?: number; suppressionLimit?: number}): NaivePoint & {anonymous: boolean | null; maxProsecutorRisk: number; suppressed: number} {
  const records = sizes.reduce((a, b) => a + b, 0);
  const k = model.k ?? 1;
  const violating = sizes.filter((s) => s < k).reduce((a, b) => a + b, 0);
  const anonymous = model.k === undefined ? null : violating <= Math.floor((model.suppressionLimit ?? 0) * records);
  const suppress = anonymous === true && violating > 0;
  const kept = suppress ? sizes.filter((s) => s >= k) : sizes;
  const remaining = kept.reduce((a, b) => a + b, 0);
  const suppressed = records - remaining;
  const q = levels.length;
  const share = levels.reduce((a, l, j) => a + l / (heights[j] - 1), 0);
  const smallest = kept.reduce((a, s) => (a === 0 || s < a ? s : a), 0);
  return {levels, risk: remaining ? kept.length / remaining : 0, loss: (remaining * share + suppressed * q) / (records * q), anonymous, maxProsecutorRisk: smallest ? 1 / smallest : 0, suppressed};
}

/** Points no other point beats on both axes (one strictly): the naive Pareto set, as "risk|loss" strings. */
function naivePareto(points: NaivePoint[]): string[] {
  const eps = 1e-12;
  const dominated = (p: NaivePoint) => points.some((o) => o.risk <= p.risk + eps && o.loss <= p.loss + eps && (o.risk < p.risk - eps || o.loss < p.loss - eps));
  return [...new Set(points.filter((p) => !dominated(p)).map((p) => `${p.risk.toFixed(12)}|${p.loss.toFixed(12)}`))].sort();
}

test("frontier: computeFrontier (precision, discernibility) over 40k+ cells equals the naive frontier and the path without strides", async () => {
  const {rows, qis} = largeTable(23, 45_000);
  const {values, counts, classCounts} = cellsOf(rows, qis);
  assert.ok(classCounts.cells > 32768);
  const heights = qis.map((q) => q.hierarchy.height);
  const lattice = new Lattice(heights);
  const nodeSizes = Array.from({length: lattice.size}, (_, n) => naiveClasses(values, counts, qis, lattice.levels(n)).sizes);
  for (const model of [{k: 5, suppressionLimit: 1}, {k: 3, suppressionLimit: 0.02}, {k: 2}, {}]) {
    const fast = await computeFrontier(classCounts, {model, metric: "precision"});
    const naive = nodeSizes.map((sizes, n) => naivePoint(sizes, lattice.levels(n), heights, model));
    assert.deepEqual(fast.map((p) => `${p.risk.toFixed(12)}|${p.metricValue.toFixed(12)}`).sort(), naivePareto(naive), JSON.stringify(model));
    for (const p of fast) {
      const e = naive[lattice.index(p.levelList)];
      const label = `${JSON.stringify(model)} node ${p.levelList}`;
      assert.deepEqual([p.anonymous, p.suppressed], [e.anonymous, e.suppressed], label);
      for (const [got, want] of [[p.risk, e.risk], [p.metricValue, e.loss], [p.maxProsecutorRisk, e.maxProsecutorRisk]]) assert.ok(Math.abs(got - want) < 1e-12, `${label}: ${got} vs ${want}`);
    }
    // Without fixed-stride keys every node is rolled up in order (the mixed-radix path): the same points, to the bit.
    const slow = await computeFrontier({...classCounts, strides: null}, {model, metric: "precision"});
    assert.deepEqual(fast, slow, JSON.stringify(model));
    const anonymousOnly = await computeFrontier(classCounts, {model, metric: "precision", anonymousOnly: true});
    assert.deepEqual(anonymousOnly, await computeFrontier({...classCounts, strides: null}, {model, metric: "precision", anonymousOnly: true}));
    // Discernibility: sum of squared class sizes, |records| per suppressed record.
    const dm = await computeFrontier(classCounts, {model, metric: "discernibility"});
    assert.deepEqual(dm, await computeFrontier({...classCounts, strides: null}, {model, metric: "discernibility"}), `discernibility ${JSON.stringify(model)}`);
    const records = rows.length;
    const k = model.k ?? 1;
    const naiveDm = nodeSizes.map((sizes, n) => {
      const p = naivePoint(sizes, lattice.levels(n), heights, model);
      const suppress = p.anonymous === true && sizes.some((s) => s < k);
      return {levels: p.levels, risk: p.risk, loss: sizes.reduce((a, s) => a + (suppress && s < k ? s * records : s * s), 0)};
    });
    assert.deepEqual(dm.map((p) => `${p.risk.toFixed(12)}|${p.metricValue.toFixed(12)}`).sort(), naivePareto(naiveDm), `discernibility ${JSON.stringify(model)}`);
  }
});

function smallConfig(table: string, k: number, suppressionLimit: number) {
  const qi = (name: string, hierarchy: string) => ({name, role: "quasi-identifier", type: "string", hierarchy, transform: {action: "generalize"}});
  return validateTransformConfig({
    format: "deid-workbench-config",
    version: 1,
    toolVersion: "0.1.0",
    referenceDate: "2026-01-01",
    inputs: [
      {
        table,
        file: `${table}.csv`,
        delimiter: ",",
        fields: [
          {name: "id", role: "direct-identifier", type: "string", transform: {action: "remove"}},
          qi("zip", "mask"),
          qi("age", "interval"),
          {name: "sex", role: "quasi-identifier", type: "string", transform: {action: "keep"}},
          qi("grp", "flat"),
          {name: "outcome", role: "target", type: "string", transform: {action: "keep"}}
        ]
      }
    ],
    hierarchies: {mask: {kind: "builtin", spec: "mask:2"}, interval: {kind: "builtin", spec: "interval:5,10"}, flat: {kind: "builtin", spec: "flat"}},
    levels: {zip: 1, age: 1, grp: 0},
    privacyModel: {k, suppressionLimit, riskThreshold: 0.2},
    restrictedZip3: {name: "none", codes: []},
    dateShift: {maxDays: 10, keepTimeOfDay: false}
  });
}

for (const host of HOSTS) {
  test(`frontier: measurePackageUtility's frontier and chosen point equal the naive ones (${host.name})`, async () => {
    const conn = await host.open();
    try {
      const next = random(77);
      const rows = Array.from({length: 400}, (_, i) => [
        String(i),
        ["02139", "02138", "02141", "10001", "10002", "10013", "94105"][Math.floor(next() ** 1.5 * 7)],
        String(Math.floor(next() * 60)),
        next() < 0.5 ? "F" : "M",
        groups[Math.floor(next() * 6)],
        next() < 0.3 ? "1" : "0"
      ]);
      await createTextTable(conn, "people", ["id", "zip", "age", "sex", "grp", "outcome"], rows);
      for (const [k, limit] of [[5, 1], [3, 0.05], [2, 0]] as const) {
        const config = smallConfig("people", k, limit);
        const measured = await measurePackageUtility(conn, config, "people");
        assert.ok(measured?.frontier, "a frontier");
        // Released quasi-identifiers in config order: zip, age, sex (kept: flat), grp.
        const qis: Qi[] = [
          {name: "zip", hierarchy: builtinHierarchy("mask:2")},
          {name: "age", hierarchy: builtinHierarchy("interval:5,10")},
          {name: "sex", hierarchy: builtinHierarchy("flat")},
          {name: "grp", hierarchy: builtinHierarchy("flat")}
        ];
        const heights = qis.map((q) => q.hierarchy.height);
        const lattice = new Lattice(heights);
        const cells = rows.map((r) => r.slice(1, 5));
        const ones = cells.map(() => 1);
        const points = Array.from({length: lattice.size}, (_, n) => naivePoint(naiveClasses(cells, ones, qis, lattice.levels(n)).sizes, lattice.levels(n), heights, {k, suppressionLimit: limit}));
        const label = `k=${k} limit=${limit}`;
        assert.deepEqual(measured.frontier.points.map((p) => `${p.risk.toFixed(12)}|${p.loss.toFixed(12)}`).sort(), naivePareto(points), label);
        const chosen = naivePoint(naiveClasses(cells, ones, qis, [1, 1, 0, 0]).sizes, [1, 1, 0, 0], heights, {k, suppressionLimit: limit});
        const got = measured.frontier.chosen!;
        assert.ok(Math.abs(got.risk - chosen.risk) < 1e-12, `${label}: chosen risk ${got.risk} vs ${chosen.risk}`);
        assert.ok(Math.abs(got.loss - chosen.loss) < 1e-12, `${label}: chosen loss ${got.loss} vs ${chosen.loss}`);
        assert.ok(Math.abs(measured.utility.precision - chosen.loss) < 1e-12, `${label}: precision`);
      }
    } finally {
      conn.close();
    }
  });

  test(`frontier: measurePackageMlUtility counts the released rows before reading any (${host.name})`, async () => {
    const conn = await host.open();
    try {
      const n = ML_UTILITY_MAX_RECORDS + 1;
      await conn.exec(`CREATE TABLE people AS SELECT CAST(i AS VARCHAR) AS id, CAST(i % 1000 AS VARCHAR) AS zip, CAST(i % 90 AS VARCHAR) AS age, CASE WHEN i % 2 = 0 THEN 'F' ELSE 'M' END AS sex, 'a' AS grp, CAST(i % 2 AS VARCHAR) AS outcome FROM range(${n}) t(i)`);
      await conn.exec(`CREATE TABLE released AS SELECT rowid AS __row, zip, age, sex, grp, outcome FROM people`);
      const seen: string[] = [];
      const recording: SqlConnection = {
        engine: conn.engine,
        query: (sql: string) => {
          seen.push(sql);
          return conn.query(sql);
        },
        exec: (sql: string) => {
          seen.push(sql);
          return conn.exec(sql);
        }
      };
      const ml = await measurePackageMlUtility(recording, smallConfig("people", 5, 1), "people", "released", ["zip", "age", "sex", "grp", "outcome"]);
      assert.equal(ml.result, null);
      assert.match(ml.note ?? "", new RegExp(`skipped: ${n} records exceed the ${ML_UTILITY_MAX_RECORDS}`));
      assert.equal(seen.length, 1, `queries: ${seen.join(" ; ")}`);
      assert.match(seen[0], /count\(\*\)/i);
      // Under the limit the rows are read (the check does not simply always skip).
      await conn.exec(`DELETE FROM released WHERE __row >= 2000`);
      seen.length = 0;
      const small = await measurePackageMlUtility(recording, smallConfig("people", 5, 1), "people", "released", ["zip", "age", "sex", "grp", "outcome"]);
      assert.ok(seen.length >= 3, "count, then the original and the released rows");
      assert.ok(small.result || small.note, "a result or a note");
    } finally {
      conn.close();
    }
  });
}
