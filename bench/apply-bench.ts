// `deid-workbench apply` throughput on the generated patient table (src/lib/sample-data.ts): rows per
// second for the whole CLI run (fingerprint, load, tokens + offsets, SQL transformations, risk and
// utility figures, streamed CSV + Parquet, report), phases broken down, and peak memory, each run in
// its own process. Baseline in the same run: DuckDB alone copying the CSV sorted. Memory: peak RSS at
// 10M rows against 1M (flat = the package streams). APPLY_BENCH_ROWS sets the sizes (default
// 1000000,10000000; the 10M table is ~1.2 GB and is generated once under bench/.cache).
import {createHash} from "node:crypto";
import {spawnSync} from "node:child_process";
import {mkdirSync, rmSync, statSync, writeFileSync} from "node:fs";
import {basename, join} from "node:path";
import {fileURLToPath} from "node:url";
import {openNativeDuckDB} from "../loaders/duckdb-native.js";
import {defaultMemoryLimit, sha256File} from "../loaders/apply-package.js";
import {formatKeyFile} from "../src/lib/keys.js";
import {validateTransformConfig, type TransformConfig} from "../src/lib/transform-config.js";
import {generatedTable} from "./generated-tables.js";

/** A realistic config for the generated table: every Safe Harbor category present is handled. */
export function benchConfig(): TransformConfig {
  const keep = (name: string, role: string, type: string) => ({name, role, type, transform: {action: "keep"}});
  return validateTransformConfig({
    format: "deid-workbench-config",
    version: 1,
    toolVersion: "0.1.0",
    referenceDate: "2026-01-01",
    inputs: [
      {
        table: "patients",
        file: "patients.csv",
        delimiter: ",",
        patientField: "mrn",
        fields: [
          {name: "mrn", role: "direct-identifier", type: "string", phiCategory: "mrn", transform: {action: "pseudonymize", domain: "patient", prefix: "pt_"}},
          {name: "patient_name", role: "direct-identifier", type: "string", phiCategory: "names", transform: {action: "remove"}},
          {name: "ssn", role: "direct-identifier", type: "string", phiCategory: "ssn", transform: {action: "mask", keepSuffix: 4}},
          {name: "phone", role: "direct-identifier", type: "string", phiCategory: "telephone", transform: {action: "redact"}},
          {name: "email", role: "direct-identifier", type: "string", phiCategory: "email", transform: {action: "remove"}},
          {name: "birth_date", role: "quasi-identifier", type: "date", phiCategory: "dates", transform: {action: "date-shift", topCodeAge: true}},
          {name: "sex", role: "quasi-identifier", type: "string", transform: {action: "keep"}},
          {name: "race", role: "quasi-identifier", type: "string", hierarchy: "flat", transform: {action: "generalize"}},
          {name: "ethnicity", role: "quasi-identifier", type: "string", hierarchy: "flat", transform: {action: "generalize"}},
          {name: "zip", role: "quasi-identifier", type: "string", phiCategory: "geographic", hierarchy: "zip", transform: {action: "generalize"}},
          {name: "admission_date", role: "feature", type: "date", phiCategory: "dates", transform: {action: "date-shift"}},
          {name: "age", role: "quasi-identifier", type: "integer", phiCategory: "dates", hierarchy: "age", transform: {action: "generalize", topCodeAge: true}},
          {name: "diagnosis_code", role: "quasi-identifier", type: "string", hierarchy: "icd10", transform: {action: "generalize"}},
          keep("systolic_bp", "feature", "integer"),
          keep("bmi", "feature", "decimal"),
          keep("hba1c", "feature", "decimal"),
          keep("length_of_stay", "feature", "integer"),
          keep("num_prior_admissions", "feature", "integer"),
          keep("readmitted_30d", "target", "integer")
        ]
      }
    ],
    hierarchies: {flat: {kind: "builtin", spec: "flat"}, zip: {kind: "builtin", spec: "zip"}, age: {kind: "builtin", spec: "age:5"}, icd10: {kind: "builtin", spec: "icd10"}},
    levels: {race: 1, ethnicity: 0, zip: 2, age: 2, diagnosis_code: 2},
    privacyModel: {k: 5, suppressionLimit: 1, riskThreshold: 0.2},
    restrictedZip3: {name: "hhs-2000+hrsa-2020", codes: ["036", "059", "063", "102", "203", "556", "692", "790", "821", "823", "830", "831", "878", "879", "884", "890", "893"]},
    dateShift: {maxDays: 365, keepTimeOfDay: false}
  });
}

/**
 * One `apply` run in a child process (so its peak memory is its own): the CLI's runApply end to end on
 * `path`, with phase times from its progress lines. Prints one JSON line.
 */
export async function runApplyChild(path: string, workDir: string, memoryLimit?: string): Promise<{seconds: number; maxRssMb: number; phases: [string, number][]; records: number}> {
  const config = benchConfig();
  config.inputs[0].file = basename(path);
  config.inputs[0].sha256 = await sha256File(path);
  writeFileSync(join(workDir, "config.json"), JSON.stringify(config));
  writeFileSync(join(workDir, "bench.key"), formatKeyFile(createHash("sha256").update("bench").digest()));
  const out = join(workDir, "package");
  rmSync(out, {recursive: true, force: true});
  const child = spawnSync(process.execPath, ["--import", "tsx", fileURLToPath(new URL("./apply-child.ts", import.meta.url)), path, workDir, ...(memoryLimit ? [memoryLimit] : [])], {encoding: "utf8", maxBuffer: 1 << 24});
  if (child.status !== 0) throw new Error(`apply child failed: ${child.stderr}`);
  rmSync(out, {recursive: true, force: true});
  return JSON.parse(child.stdout.trim().split("\n").at(-1)!);
}

/** Baseline in the same run: native DuckDB alone reads the CSV as text and writes it back sorted (no transformation, no JS). */
async function duckdbCopyBaseline(path: string, workDir: string): Promise<number> {
  const conn = await openNativeDuckDB(":memory:", {temp_directory: join(workDir, "spill"), memory_limit: defaultMemoryLimit()});
  try {
    const t0 = performance.now();
    await conn.exec(`COPY (SELECT * FROM read_csv('${path}', all_varchar = true, header = true) ORDER BY ALL) TO '${join(workDir, "baseline.csv")}' (HEADER)`);
    return (performance.now() - t0) / 1000;
  } finally {
    conn.close();
    rmSync(join(workDir, "baseline.csv"), {force: true});
  }
}

export async function benchApply(): Promise<void> {
  const sizes = (process.env.APPLY_BENCH_ROWS ?? "1000000,10000000").split(",").map(Number);
  const workDir = "bench/.cache/apply-work";
  mkdirSync(workDir, {recursive: true});
  const peaks: [number, number, number][] = [];
  for (const rows of sizes) {
    const path = await generatedTable(rows);
    const inputMb = statSync(path).size / 1e6;
    const baseline = await duckdbCopyBaseline(path, workDir);
    const run = await runApplyChild(path, workDir);
    peaks.push([rows, run.maxRssMb, inputMb]);
    const phases = run.phases.map(([step, s]) => `${step} ${s.toFixed(1)} s`).join(", ");
    console.log(
      `apply ${rows.toLocaleString("en-US")} rows (${inputMb.toFixed(0)} MB CSV, native, whole CLI run): ${run.seconds.toFixed(1)} s = ${Math.round(rows / run.seconds).toLocaleString("en-US")} rows/s, ` +
        `peak RSS ${run.maxRssMb.toFixed(0)} MB | x${(run.seconds / baseline).toFixed(1)} the time of DuckDB alone copying the CSV sorted (${baseline.toFixed(1)} s) | ${phases}`
    );
  }
  // the same largest table with DuckDB held to 1 GB: database-file storage and spilling; what remains
  // of the peak is Node's share, which must not grow with the table
  const largest = sizes[sizes.length - 1];
  const small = await runApplyChild(await generatedTable(largest), workDir, "1GB");
  console.log(
    `apply ${largest.toLocaleString("en-US")} rows with --memory-limit 1GB (input ${(statSync(await generatedTable(largest)).size / 1e9).toFixed(1)} GB > DuckDB's memory): ` +
      `${small.seconds.toFixed(1)} s = ${Math.round(largest / small.seconds).toLocaleString("en-US")} rows/s, peak RSS ${small.maxRssMb.toFixed(0)} MB ` +
      `(x${(small.maxRssMb / peaks[0][1]).toFixed(2)} the peak of ${peaks[0][0].toLocaleString("en-US")} rows with the default limit) | ${small.phases.map(([step, s]) => `${step} ${s.toFixed(1)} s`).join(", ")}`
  );
  if (peaks.length > 1) {
    const [r0, m0, i0] = peaks[0];
    for (const [r, m, i] of peaks.slice(1)) {
      console.log(`apply memory: ${r.toLocaleString("en-US")} rows (x${(r / r0).toFixed(0)} the rows, x${(i / i0).toFixed(1)} the input) peak RSS x${(m / m0).toFixed(2)} that of ${r0.toLocaleString("en-US")} rows`);
    }
  }
}
