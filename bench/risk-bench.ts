// Risk summary on the generated 1M-row patient table with 8 quasi-identifiers, native DuckDB vs
// DuckDB-WASM in Node. Target (issue 4): under 1 s in DuckDB-WASM for one full risk summary.
import {readFileSync} from "node:fs";
import {openNativeDuckDB} from "../loaders/duckdb-native.js";
import {openWasmDuckDBInNode} from "../loaders/duckdb-wasm-node.js";
import {resolveHierarchy} from "../loaders/hierarchy-files.js";
import {dropFrequencyTable, prepareFrequencyTable} from "../src/lib/equivalence-classes.js";
import {loadCsv} from "../src/lib/ingest.js";
import {computeRiskSummary, type RiskOptions} from "../src/lib/risk.js";
import type {SqlConnection} from "../src/lib/sql.js";
import {generatedQuasiIdentifiers, generatedTable} from "./generated-tables.js";

const QIS = generatedQuasiIdentifiers;
// Fine levels leave ~880k classes (nearly every record unique: the hard case for SQL); coarse levels a
// typical release candidate (birth decade, ZIP3, admission year, 20-year age bands, ICD-10 chapter).
const CONFIGS: Record<string, Record<string, number>> = {
  fine: {birth_date: 3, sex: 0, race: 0, ethnicity: 0, zip: 2, admission_date: 3, age: 1, diagnosis_code: 2},
  coarse: {birth_date: 4, sex: 0, race: 0, ethnicity: 0, zip: 2, admission_date: 3, age: 3, diagnosis_code: 3}
};

async function time<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t0 = performance.now();
  const result = await fn();
  return [performance.now() - t0, result];
}

export async function benchRisk(rows = Number(process.env.RISK_BENCH_ROWS ?? 1_000_000)): Promise<void> {
  const path = await generatedTable(rows);
  const quasiIdentifiers = QIS.map(([name, spec]) => ({name, hierarchy: resolveHierarchy(spec)}));
  const results: Record<string, Record<string, number>> = {};
  const references = new Map<string, string>();
  for (const [engine, open] of [["native", openNativeDuckDB], ["wasm", openWasmDuckDBInNode]] as const) {
    const conn = (await open()) as SqlConnection & {close(): void; registerFile?(name: string, bytes: Uint8Array): void};
    let ref = path;
    if (conn.registerFile) {
      conn.registerFile("patients.csv", readFileSync(path));
      ref = "patients.csv";
    }
    await loadCsv(conn, ref, "patients", {delimiter: ",", allText: true});
    const t: Record<string, number> = {};
    for (const [config, levels] of Object.entries(CONFIGS)) {
      const options: RiskOptions = {table: "patients", quasiIdentifiers, levels, k: 5, suppressionLimit: 0.05, threshold: 0.1};
      // Warm-up run (first-query compilation, allocator), then the measured ones.
      await computeRiskSummary(conn, {...options, drivers: false});
      [t[`${config}: full summary from scratch, no drivers`]] = await time(() => computeRiskSummary(conn, {...options, drivers: false}));
      [t[`${config}: full summary from scratch, with drivers`]] = await time(() => computeRiskSummary(conn, options));
      const [prepare, freq] = await time(() => prepareFrequencyTable(conn, options));
      t[`${config}: encode frequency table (once)`] = prepare;
      const [perNode, summary] = await time(() => computeRiskSummary(conn, {...options, prepared: freq}));
      [t[`${config}: one transformation, prepared, no drivers`]] = await time(() => computeRiskSummary(conn, {...options, prepared: freq, drivers: false}));
      t[`${config}: one transformation, prepared, with drivers`] = perNode;
      await dropFrequencyTable(conn, freq);
      const key = JSON.stringify(summary);
      if (!references.has(config)) references.set(config, key);
      else if (references.get(config) !== key) console.log(`WARNING: native and wasm summaries differ (${config})`);
      if (engine === "native") console.log(`${config}: ${rows.toLocaleString("en-US")} rows x ${QIS.length} QIs; ${summary.classes} classes, ${summary.suppressed} suppressed, anonymous ${summary.anonymous}`);
    }
    results[engine] = t;
    conn.close();
  }
  console.log(`${"measurement".padEnd(52)} ${"native ms".padStart(10)} ${"wasm ms".padStart(10)} ${"wasm/native".padStart(12)}`);
  for (const name of Object.keys(results.native)) {
    const n = results.native[name];
    const w = results.wasm[name];
    console.log(`${name.padEnd(52)} ${n.toFixed(0).padStart(10)} ${w.toFixed(0).padStart(10)} ${(w / n).toFixed(2).padStart(12)}`);
  }
  for (const config of Object.keys(CONFIGS)) {
    const target = results.wasm[`${config}: full summary from scratch, no drivers`];
    console.log(`target (${config}): full risk summary under 1000 ms in DuckDB-WASM: ${target.toFixed(0)} ms (${target < 1000 ? "met" : "not met"}; drivers are extra)`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchRisk();
