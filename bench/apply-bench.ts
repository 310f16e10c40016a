// `deid-workbench apply` throughput on the generated patient table (src/lib/sample-data.ts): rows per
// second for the whole run (fingerprint, load, tokens + offsets, SQL transformations, package build),
// with the phases broken down. Native DuckDB (the CLI's engine). APPLY_BENCH_ROWS sets the sizes
// (comma-separated; default 100000,1000000).
import {createHash} from "node:crypto";
import {openNativeDuckDB} from "../loaders/duckdb-native.js";
import {loadReferenceTables} from "../loaders/hierarchy-files.js";
import {sha256File} from "../loaders/apply-package.js";
import {applyTransformations, outputRowsSql} from "../src/lib/apply-transformations.js";
import {buildExportPackage} from "../src/lib/export-package.js";
import {loadCsv} from "../src/lib/ingest.js";
import {deriveKeysFromSecret} from "../src/lib/keys.js";
import {validateTransformConfig, type TransformConfig} from "../src/lib/transform-config.js";
import {generatedTable} from "./generated-tables.js";
import {attachNodeSigners} from "../loaders/node-hmac.js";

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

async function time<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t0 = performance.now();
  const result = await fn();
  return [(performance.now() - t0) / 1000, result];
}

export async function benchApply(): Promise<void> {
  const sizes = (process.env.APPLY_BENCH_ROWS ?? "100000,1000000").split(",").map(Number);
  const refs = loadReferenceTables();
  const secret = createHash("sha256").update("bench").digest();
  const keys = attachNodeSigners(await deriveKeysFromSecret(secret), {keyFile: secret});
  for (const rows of sizes) {
    const path = await generatedTable(rows);
    const config = benchConfig();
    const conn = await openNativeDuckDB();
    try {
      const [tHash, sha256] = await time(() => sha256File(path));
      config.inputs[0].sha256 = sha256;
      const [tLoad] = await time(() => loadCsv(conn, path, "src_patients", {delimiter: ",", allText: true}));
      const [tApply, result] = await time(() => applyTransformations(conn, config, {sourceTables: {patients: "src_patients"}, keys, refs}));
      const t = result.tables[0];
      const [tRead, out] = await time(async () => (await conn.query(outputRowsSql(t))).map((r) => t.columns.map((c) => (r[c] === null ? null : String(r[c])))));
      const [tBuild, files] = await time(() =>
        buildExportPackage({
          config,
          tables: [{name: "patients", columns: t.columns, rows: out}],
          inputs: [{name: "patients.csv", sha256, table: "patients", records: t.inputRecords, columns: 19}],
          statistics: result.statistics,
          figures: {riskBefore: result.riskBefore, riskAfter: result.riskAfter},
          exportTime: "2026-01-01T00:00:00Z"
        })
      );
      const total = tHash + tLoad + tApply + tRead + tBuild;
      const mb = (name: string) => ((files.get(name)?.length ?? 0) / 1e6).toFixed(1);
      console.log(
        `apply ${rows.toLocaleString("en-US")} rows (native): total ${total.toFixed(2)} s = ${Math.round(rows / total).toLocaleString("en-US")} rows/s | ` +
          `sha256 ${tHash.toFixed(2)} s, load ${tLoad.toFixed(2)} s, transform ${tApply.toFixed(2)} s, read rows ${tRead.toFixed(2)} s, build package ${tBuild.toFixed(2)} s | ` +
          `suppressed ${result.statistics.suppressedRecords}, data.csv ${mb("data.csv")} MB, data.parquet ${mb("data.parquet")} MB`
      );
    } finally {
      conn.close();
    }
  }
}
