// The report's risk/utility frontier (`apply`'s utility step: measurePackageUtility -> computeFrontier)
// on the generated patient table with the apply benchmark's released quasi-identifiers (sex, race,
// ethnicity, zip, age:5, icd10; 800 nodes): the fast path (rollUpClassSizes: classes in blocks, any
// order, sizes only) against the same frontier through ordered rollups without fixed-stride keys
// (the mixed-radix path), in the same run; the two must give the same points. Native DuckDB.
// Rows: FRONTIER_BENCH_ROWS (default 1000000).
import {isDeepStrictEqual} from "node:util";
import {openNativeDuckDB} from "../loaders/duckdb-native.js";
import {loadReferenceTables} from "../loaders/hierarchy-files.js";
import {computeClassCounts} from "../src/lib/class-counts.js";
import {builtinHierarchy} from "../src/lib/hierarchies.js";
import {loadCsv} from "../src/lib/ingest.js";
import {computeFrontier} from "../src/lib/lattice-search.js";
import {measurePackageUtility} from "../src/lib/package-utility.js";
import {hierarchyFromSpec, privacyModelTable} from "../src/lib/transform-config.js";
import {benchConfig} from "./apply-bench.js";
import {generatedTable} from "./generated-tables.js";

export async function benchFrontier(): Promise<void> {
  const rows = Number(process.env.FRONTIER_BENCH_ROWS ?? 1_000_000);
  const path = await generatedTable(rows);
  const refs = loadReferenceTables();
  const config = benchConfig();
  const conn = await openNativeDuckDB();
  try {
    await loadCsv(conn, path, "src", {delimiter: ",", allText: true});
    const input = privacyModelTable(config);
    const qiFields = input.fields.filter((f) => f.role === "quasi-identifier" && (f.transform.action === "generalize" || f.transform.action === "keep"));
    const quasiIdentifiers = qiFields.map((f) => ({name: f.name, hierarchy: f.transform.action === "generalize" ? hierarchyFromSpec(config, f.hierarchy!, refs) : builtinHierarchy("flat")}));
    let t0 = performance.now();
    const counts = await computeClassCounts(conn, {table: "src", quasiIdentifiers});
    const tCounts = performance.now() - t0;
    const model = {k: config.privacyModel.k, suppressionLimit: config.privacyModel.suppressionLimit};
    t0 = performance.now();
    const fast = await computeFrontier(counts, {model, metric: "precision"});
    const tFast = performance.now() - t0;
    t0 = performance.now();
    const ordered = await computeFrontier({...counts, strides: null}, {model, metric: "precision"});
    const tOrdered = performance.now() - t0;
    t0 = performance.now();
    await measurePackageUtility(conn, config, "src", refs);
    const tPackage = performance.now() - t0;
    const nodes = counts.quasiIdentifiers.reduce((a, q) => a * q.height, 1);
    console.log(
      `frontier, ${rows.toLocaleString("en-US")} rows, ${counts.cells.toLocaleString("en-US")} cells, ${nodes} nodes: class counts ${(tCounts / 1000).toFixed(1)} s; ` +
        `frontier ${(tFast / 1000).toFixed(1)} s vs ${(tOrdered / 1000).toFixed(1)} s through ordered rollups (ratio ${(tOrdered / tFast).toFixed(1)}x)` +
        `${isDeepStrictEqual(fast, ordered) ? "" : "  MISMATCH"}; measurePackageUtility ${(tPackage / 1000).toFixed(1)} s`
    );
  } finally {
    conn.close();
  }
}
