import {test} from "node:test";
import assert from "node:assert/strict";
import {openHost} from "../helpers/hosts.js";
import {loadCsv} from "../../src/lib/ingest.js";
import {profileTable} from "../../src/lib/profile.js";

// One engine, three hosts: the same SQL must give the same answers in DuckDB-WASM and native DuckDB.
function randomCsv(rows: number, seed: number): string {
  let s = seed >>> 0;
  const next = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  const lines = ["age,sex,zip,dx,los,visit"];
  for (let i = 0; i < rows; ++i) {
    const age = Math.floor(next() * 95);
    const sex = next() < 0.5 ? "F" : "M";
    const zip = String(10000 + Math.floor(next() * 40) * 7).padStart(5, "0");
    const dx = ["E11.9", "I10", "J45.909", "N18.3", ""][Math.floor(next() * 5)];
    const los = next() < 0.05 ? "" : (next() * 12).toFixed(2);
    const visit = `2021-${String(1 + Math.floor(next() * 12)).padStart(2, "0")}-${String(1 + Math.floor(next() * 28)).padStart(2, "0")}`;
    lines.push([age, sex, zip, dx, los, visit].join(","));
  }
  return lines.join("\n") + "\n";
}

const queries = [
  "SELECT age, sex, count(*)::BIGINT AS n FROM t GROUP BY ALL ORDER BY ALL",
  "SELECT zip, dx, count(*)::BIGINT AS n, round(avg(los), 6) AS mean_los FROM t GROUP BY ALL ORDER BY ALL",
  "SELECT date_trunc('month', visit)::DATE AS month, count(DISTINCT zip)::BIGINT AS zips FROM t GROUP BY ALL ORDER BY ALL",
  "SELECT count(*)::BIGINT AS classes, min(n)::BIGINT AS k FROM (SELECT age // 10 AS band, sex, left(CAST(zip AS VARCHAR), 3) AS zip3, count(*) AS n FROM t GROUP BY ALL)"
];

test("DuckDB-WASM and native DuckDB agree on profiles and grouped queries over a random table", async () => {
  const text = randomCsv(3000, 42);
  const wasm = await openHost("duckdb-wasm");
  const native = await openHost("duckdb-native");
  try {
    await loadCsv(wasm, await wasm.loadText("t.csv", text), "t", {delimiter: ","});
    await loadCsv(native, await native.loadText("t.csv", text), "t", {delimiter: ","});
    assert.deepEqual(await profileTable(wasm, "t"), await profileTable(native, "t"));
    for (const sql of queries) {
      const a = await wasm.query(sql);
      const b = await native.query(sql);
      assert.ok(a.length > 0, sql);
      assert.deepEqual(a, b, sql);
    }
  } finally {
    wasm.close();
    native.close();
  }
});
