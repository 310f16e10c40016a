// Class counts (the one GROUP BY behind the search, the explorer and `search`) on the generated
// patient table, 8 QIs: the former row path (GROUP BY over text, one JS object per cell) against
// the coded columnar path (GROUP BY over dictionary ids, Int32 columns), native and DuckDB-WASM in
// Node. Rows: CLASS_COUNTS_BENCH_ROWS (default "100000,1000000").
import {readFileSync} from "node:fs";
import {openNativeDuckDB} from "../loaders/duckdb-native.js";
import {openWasmDuckDBInNode} from "../loaders/duckdb-wasm-node.js";
import {resolveHierarchy} from "../loaders/hierarchy-files.js";
import {computeClassCounts, computeClassCountsFromRows, type ClassCounts, type ClassCountsOptions} from "../src/lib/class-counts.js";
import {loadCsv} from "../src/lib/ingest.js";
import type {SqlConnection} from "../src/lib/sql.js";
import {generatedQuasiIdentifiers, generatedTable} from "./generated-tables.js";

type Conn = SqlConnection & {close(): void; registerFile?(name: string, bytes: Uint8Array): void};

const SPEC = generatedQuasiIdentifiers;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * An order-independent digest of the cells (two 32-bit hashes of codes and count, summed exactly):
 * codes are ranks in JS order on both paths, so equal class counts give equal digests.
 */
function fingerprint(c: ClassCounts): string {
  const q = c.quasiIdentifiers.length;
  let sum1 = 0;
  let sum2 = 0;
  for (let i = 0; i < c.cells; ++i) {
    let h1 = 0x811c9dc5;
    let h2 = c.counts[i];
    for (let j = 0; j < q; ++j) {
      h1 = Math.imul(h1 ^ c.codes[i * q + j], 0x01000193);
      h2 = Math.imul(h2 ^ (h2 >>> 15), 0x2c1b3c6d) + c.codes[i * q + j];
    }
    sum1 += Math.imul(h1 ^ c.counts[i], 0x9e3779b1) >>> 0;
    sum2 += h2 >>> 0;
  }
  return JSON.stringify([c.records, c.cells, c.quasiIdentifiers.map((x) => x.labels), sum1, sum2]);
}

async function time(f: () => Promise<ClassCounts>, runs: number): Promise<{ms: number; counts: ClassCounts}> {
  let counts = await f(); // warm-up (JIT, DuckDB caches)
  const times: number[] = [];
  for (let r = 0; r < runs; ++r) {
    const t0 = performance.now();
    counts = await f();
    times.push(performance.now() - t0);
  }
  return {ms: median(times), counts};
}

export async function benchClassCounts(): Promise<void> {
  const sizes = (process.env.CLASS_COUNTS_BENCH_ROWS ?? "100000,1000000").split(",").map(Number).filter((n) => n > 0);
  const runs = Number(process.env.CLASS_COUNTS_BENCH_RUNS ?? 3);
  const quasiIdentifiers = SPEC.map(([name, s]) => ({name, hierarchy: resolveHierarchy(s)}));
  console.log(`class counts, generated patient table, ${quasiIdentifiers.length} QIs (${SPEC.map(([n, s]) => `${n}=${s}`).join(" ")}); medians of ${runs} after a warm-up`);
  for (const rows of sizes) {
    const path = await generatedTable(rows);
    for (const [engine, open] of [["native", openNativeDuckDB], ["wasm", openWasmDuckDBInNode]] as const) {
      const conn = (await open()) as Conn;
      try {
        let ref = path;
        if (conn.registerFile) {
          ref = path.split("/").pop()!;
          conn.registerFile(ref, readFileSync(path));
        }
        await loadCsv(conn, ref, "patients", {delimiter: ",", allText: true});
        const options: ClassCountsOptions = {table: "patients", quasiIdentifiers};
        const oldPath = await time(() => computeClassCountsFromRows(conn, options), runs);
        const newPath = await time(() => computeClassCounts(conn, options), runs);
        const same = fingerprint(oldPath.counts) === fingerprint(newPath.counts);
        console.log(
          `  ${rows.toLocaleString("en-US").padStart(9)} rows  ${engine.padEnd(6)}  ${newPath.counts.cells.toLocaleString("en-US").padStart(9)} cells  rows path ${oldPath.ms.toFixed(0).padStart(6)} ms  columnar ${newPath.ms.toFixed(0).padStart(6)} ms  speed-up ${(oldPath.ms / newPath.ms).toFixed(1)}x${same ? "  (same counts)" : "  MISMATCH"}`
        );
        if (!same) process.exitCode = 1;
      } finally {
        conn.close();
      }
    }
  }
}
