// Optimal generalization search (issue 5) on UCI Adult (9 QIs, 12,960-node lattice; k = 2, 5, 10;
// suppression 0 % and 5 %) and on the generated patient table, pruned vs exhaustive. Reference:
// ARX 3.9.2 on Adult, warm JVM: ~60-170 ms for k = 5 at 0 % and 1.0-2.5 s at 5 % suppression;
// the target is at most half of ARX's time.
import {existsSync, readFileSync} from "node:fs";
import {openNativeDuckDB} from "../loaders/duckdb-native.js";
import {openWasmDuckDBInNode} from "../loaders/duckdb-wasm-node.js";
import {readArxHierarchy, resolveHierarchy} from "../loaders/hierarchy-files.js";
import {computeClassCounts, type ClassCounts} from "../src/lib/class-counts.js";
import {loadCsv} from "../src/lib/ingest.js";
import {searchLattice} from "../src/lib/lattice-search.js";
import type {SqlConnection} from "../src/lib/sql.js";
import type {UtilityMetric} from "../src/lib/utility.js";
import {generatedTable} from "./generated-tables.js";

const ADULT = "../shared/data/adult";
const ADULT_QIS = ["sex", "age", "race", "marital-status", "education", "native-country", "workclass", "occupation", "salary-class"];
const ARX_MS: Record<string, [number, number]> = {"5/0": [60, 170], "5/0.05": [1000, 2500]};

type Conn = SqlConnection & {close(): void; registerFile?(name: string, bytes: Uint8Array): void};

async function load(conn: Conn, path: string, table: string, delimiter: string) {
  let ref = path;
  if (conn.registerFile) {
    ref = path.split("/").pop()!;
    conn.registerFile(ref, readFileSync(path));
  }
  await loadCsv(conn, ref, table, {delimiter, allText: true});
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function benchCounts(counts: ClassCounts, metric: UtilityMetric, cases: [number, number][], runs: number, exhaustive: boolean) {
  // Warm-up (JIT) on one case.
  await searchLattice(counts, {model: {k: 5, suppressionLimit: 0.05}, metric});
  for (const [k, s] of cases) {
    const times: number[] = [];
    const cpu: number[] = [];
    let result = await searchLattice(counts, {model: {k, suppressionLimit: s}, metric});
    for (let r = 0; r < runs; ++r) {
      // A fresh object each run: no lattice/bound preparation is reused from an earlier search.
      const c0 = process.cpuUsage();
      result = await searchLattice({...counts}, {model: {k, suppressionLimit: s}, metric});
      const c = process.cpuUsage(c0);
      times.push(result.seconds * 1000);
      cpu.push(c.user / 1000);
    }
    // Wall time suffers when other processes share the cores; the main thread's CPU time (user,
    // including GC helpers) does much less, so both are shown and the verdict uses the smaller.
    const ms = Math.min(median(times), median(cpu));
    let line = `  k=${String(k).padEnd(2)} suppression ${String(s * 100).padStart(2)}%  ${metric.padEnd(9)} optimum ${result.optimum?.levelList.join(",") ?? "none"}  value ${result.optimum?.metricValue.toFixed(4) ?? "-"}  evaluated ${String(result.nodesEvaluated).padStart(5)}/${result.nodesTotal}  ${median(times).toFixed(1).padStart(7)} ms wall, ${median(cpu).toFixed(1).padStart(7)} ms CPU (medians of ${runs})`;
    if (exhaustive) {
      const full = await searchLattice(counts, {model: {k, suppressionLimit: s}, metric, exhaustive: true});
      const same = full.optimum?.levelList.join() === result.optimum?.levelList.join() && full.optimum?.metricValue === result.optimum?.metricValue;
      line += `  | exhaustive ${(full.seconds * 1000).toFixed(0)} ms wall, ratio ${(full.seconds * 1000 / median(times)).toFixed(1)}x${same ? "" : "  MISMATCH"}`;
    }
    const arx = ARX_MS[`${k}/${s}`];
    if (arx && metric === "precision") line += `  | ARX ${arx[0]}-${arx[1]} ms: ${ms <= arx[0] / 2 ? "<= half of ARX's best" : ms <= arx[1] / 2 ? "<= half of ARX's worst" : "NOT within half"}`;
    console.log(line);
  }
}

export async function benchSearch(): Promise<void> {
  const cases: [number, number][] = [[2, 0], [5, 0], [10, 0], [2, 0.05], [5, 0.05], [10, 0.05]];
  if (!existsSync(`${ADULT}/adult.csv`)) console.log("(Adult skipped: ../shared/data/adult not found)");
  else {
    const qis = ADULT_QIS.map((name) => ({name, hierarchy: readArxHierarchy(`${ADULT}/adult_hierarchy_${name}.csv`)}));
    let counts: ClassCounts | undefined;
    for (const [engine, open] of [["native", openNativeDuckDB], ["wasm", openWasmDuckDBInNode]] as const) {
      const conn = (await open()) as Conn;
      await load(conn, `${ADULT}/adult.csv`, "adult", ";");
      await computeClassCounts(conn, {table: "adult", quasiIdentifiers: qis});
      const times: number[] = [];
      for (let r = 0; r < 3; ++r) {
        const t0 = performance.now();
        counts = await computeClassCounts(conn, {table: "adult", quasiIdentifiers: qis});
        times.push(performance.now() - t0);
      }
      console.log(`Adult class counts (one GROUP BY + encoding), ${engine}: ${median(times).toFixed(1)} ms, ${counts!.cells} cells`);
      conn.close();
    }
    console.log("Adult, 9 QIs, 12,960 nodes; search time excludes the GROUP BY above:");
    await benchCounts(counts!, "precision", cases, 5, true);
    await benchCounts(counts!, "loss", [[5, 0], [5, 0.05]], 3, true);
    await benchCounts(counts!, "entropy", [[5, 0], [5, 0.05]], 3, false);
    await benchCounts(counts!, "discernibility", [[5, 0], [5, 0.05]], 1, false);
  }
  const rows = Number(process.env.SEARCH_BENCH_ROWS ?? 1_000_000);
  if (!(rows > 0)) return;
  const path = await generatedTable(rows);
  // The generated table with hierarchies coarse enough at level 0 that the search has room: 8 QIs.
  const spec: [string, string][] = [["birth_date", "year"], ["sex", "flat"], ["race", "flat"], ["ethnicity", "flat"], ["zip", "zip"], ["admission_date", "date"], ["age", "age:5"], ["diagnosis_code", "icd10"]];
  const qis = spec.map(([name, s]) => ({name, hierarchy: resolveHierarchy(s)}));
  const conn = (await openNativeDuckDB()) as Conn;
  await load(conn, path, "patients", ",");
  const t0 = performance.now();
  const counts = await computeClassCounts(conn, {table: "patients", quasiIdentifiers: qis});
  console.log(`Generated table: ${rows.toLocaleString("en-US")} rows x ${qis.length} QIs; class counts ${(performance.now() - t0).toFixed(0)} ms (native), ${counts.cells.toLocaleString("en-US")} cells`);
  conn.close();
  for (const [k, s] of [[5, 0], [5, 0.05]] as [number, number][]) {
    const r = await searchLattice(counts, {model: {k, suppressionLimit: s}, metric: "precision"});
    console.log(`  k=${k} suppression ${s * 100}%  optimum ${r.optimum?.levelList.join(",") ?? "none"}  evaluated ${r.nodesEvaluated}/${r.nodesTotal}  ${(r.seconds * 1000).toFixed(0)} ms`);
  }
  console.log("  (no exhaustive run on this table: every one of its nodes rolls up ~1M cells)");
}
