import {test} from "node:test";
import assert from "node:assert/strict";
import {builtinHierarchy} from "../../src/lib/hierarchies.js";
import {computeClassCounts} from "../../src/lib/class-counts.js";
import {computeRiskSummary} from "../../src/lib/risk.js";
import {WhatIfExplorer} from "../../src/lib/what-if.js";
import {assertClose, createTextTable, HOSTS} from "../helpers/hosts.js";
import {random} from "../helpers/random.js";

// The explorer answers from rolled-up counts in JS; the risk engine computes the same node with SQL
// over the generalized rows. They are independent paths and must give the same figures.
const KEYS = ["records", "suppressed", "classes", "minClassSize", "avgClassSize", "maxClassSize", "maxProsecutorRisk", "avgProsecutorRisk", "recordsAtRisk", "uniqueRecords", "marketerRisk", "anonymous", "violatingRecords"] as const;

function randomRows(n: number, seed: number): (string | null)[][] {
  const r = random(seed);
  return Array.from({length: n}, () => [
    String(18 + Math.floor(r() * r() * 80)),
    r() < 0.5 ? "F" : "M",
    ["02139", "02141", "10001", "10013", "94110", "03601"][Math.floor(r() * 6)],
    r() < 0.05 ? null : `20${10 + Math.floor(r() * 10)}-0${1 + Math.floor(r() * 9)}-1${Math.floor(r() * 9)}`
  ]);
}

for (const host of HOSTS) {
  test(`what-if: every visited node equals computeRiskSummary's SQL figures (${host.name})`, async () => {
    const conn = await host.open();
    try {
      await createTextTable(conn, "t", ["age", "sex", "zip", "visit"], randomRows(400, 7));
      const quasiIdentifiers = [
        {name: "age", hierarchy: builtinHierarchy("age:5")},
        {name: "sex", hierarchy: builtinHierarchy("flat")},
        {name: "zip", hierarchy: builtinHierarchy("mask:3")},
        {name: "visit", hierarchy: builtinHierarchy("date")}
      ];
      const explorer = new WhatIfExplorer(await computeClassCounts(conn, {table: "t", quasiIdentifiers}));
      const r = random(11);
      // A drag-like walk: one level changes at a time, so the cache and roll-ups from cached nodes are exercised.
      const levels: Record<string, number> = {age: 0, sex: 0, zip: 0, visit: 0};
      let checked = 0;
      let suppressedSeen = false;
      for (let step = 0; step < 24; ++step) {
        const q = quasiIdentifiers[Math.floor(r() * quasiIdentifiers.length)];
        levels[q.name] = Math.floor(r() * q.hierarchy.height);
        for (const [k, suppressionLimit] of [[3, 0.1], [2, 0]] as const) {
          const fast = explorer.evaluate(levels, {model: {k, suppressionLimit}, threshold: 0.2});
          const sql = await computeRiskSummary(conn, {table: "t", quasiIdentifiers, levels, k, suppressionLimit, threshold: 0.2, drivers: false});
          for (const key of KEYS) assertClose(fast.measures[key], sql[key], `${JSON.stringify(levels)} k=${k} ${key}`);
          assert.deepEqual(fast.levels, levels);
          assert.equal(fast.classSizeHistogram.reduce((s, d) => s + d.records, 0), sql.records - sql.suppressed);
          suppressedSeen ||= sql.suppressed > 0;
          checked++;
        }
      }
      assert.equal(checked, 48);
      assert.ok(suppressedSeen, "the walk should reach a node where suppression happens");
    } finally {
      conn.close();
    }
  });
}
