/**
 * The export package, built as bytes in memory by a pure function: the same arguments give the same
 * bytes in the browser and in the CLI. Nothing here reads the clock, the environment or the engine
 * name; the export time comes from the caller (the only time in the package: audit.jsonl "time" fields
 * and the report's "generated" line).
 *
 *   config.json   the config as applied (canonical JSON, keys sorted)
 *   data.csv      (one input)  or data/<table>.csv      RFC 4180, UTF-8, "\n" line ends
 *   data.parquet  (one input)  or data/<table>.parquet  same rows, same order, same values
 *   report.html   self-contained compliance report (compliance-report.ts)
 *   audit.jsonl   one JSON object per step; no PHI
 *   SHA256SUMS    `sha256sum -c` compatible list of every other file
 */
import {zipSync} from "fflate";
import {parquetWriteBuffer} from "hyparquet-writer";
import type {ApplyStatistics} from "./apply-transformations.js";
import {renderComplianceReport, type ReportFigures} from "./compliance-report.js";
import {sha256Hex, utf8} from "./keys.js";
import {canonicalJson, hashConfig, orderedLevels, TOOL_VERSION, type AuditEvent, type FieldType, type TransformConfig} from "./transform-config.js";

export interface PackageTable {
  /** Config table name. */
  name: string;
  columns: string[];
  /** Rows in package order; values as text, null = missing. */
  rows: (string | null)[][];
}

export interface PackageInputFile {
  name: string;
  sha256: string;
  table: string;
  records: number;
  columns: number;
}

export interface ExportPackageInput {
  /** The config as applied (with key and input fingerprints filled in). */
  config: TransformConfig;
  tables: PackageTable[];
  inputs: PackageInputFile[];
  statistics: ApplyStatistics;
  /** Risk, utility, frontier and ML figures for the report (see ReportFigures: the seam for the risk/utility engines). */
  figures: ReportFigures;
  /** ISO 8601 UTC time of the export, e.g. "2026-01-31T12:00:00Z"; supplied by the caller, never read from a clock here. */
  exportTime: string;
}

export type PackageFiles = Map<string, Uint8Array>;

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

/** File names of the data files of each table. */
export function dataFileNames(tables: {name: string}[]): Map<string, {csv: string; parquet: string}> {
  const single = tables.length === 1;
  return new Map(tables.map((t) => [t.name, single ? {csv: "data.csv", parquet: "data.parquet"} : {csv: `data/${t.name}.csv`, parquet: `data/${t.name}.parquet`}]));
}

export async function buildExportPackage(input: ExportPackageInput): Promise<PackageFiles> {
  if (!ISO_TIME.test(input.exportTime)) throw new Error(`export time must be ISO 8601 UTC like 2026-01-31T12:00:00Z, got ${JSON.stringify(input.exportTime)}`);
  const files: PackageFiles = new Map();
  const configBytes = utf8(canonicalJson(input.config));
  const configHash = await hashConfig(input.config);
  files.set("config.json", configBytes);

  const names = dataFileNames(input.tables);
  for (const table of input.tables) {
    const spec = input.config.inputs.find((i) => i.table === table.name);
    const types = table.columns.map((c) => spec?.fields.find((f) => f.name === c)?.type ?? "string");
    const {csv, parquet} = names.get(table.name)!;
    files.set(csv, utf8(formatCsv(table.columns, table.rows)));
    files.set(parquet, writeParquet(table.columns, types, table.rows));
  }

  const fingerprints = new Map<string, string>();
  for (const [name, bytes] of files) fingerprints.set(name, await sha256Hex(bytes));

  const report = renderComplianceReport({
    config: input.config,
    configHash,
    inputs: input.inputs,
    tables: input.tables.map((t) => ({name: t.name, columns: t.columns, records: t.rows.length, files: names.get(t.name)!})),
    statistics: input.statistics,
    figures: input.figures,
    fingerprints,
    exportTime: input.exportTime
  });
  files.set("report.html", utf8(report));
  fingerprints.set("report.html", await sha256Hex(files.get("report.html")!));

  files.set("audit.jsonl", utf8(formatAudit(input, configHash, fingerprints)));
  fingerprints.set("audit.jsonl", await sha256Hex(files.get("audit.jsonl")!));
  const sums = [...fingerprints.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([name, hash]) => `${hash}  ${name}\n`);
  files.set("SHA256SUMS", utf8(sums.join("")));
  return files;
}

// ---------------------------------------------------------------------------------------------
// CSV

/** One CSV field (RFC 4180): quoted when it holds a comma, quote, CR or LF, or is the empty string (to tell it from missing). */
export function formatCsvField(value: string | null): string {
  if (value === null) return "";
  if (value === "" || /[",\r\n]/.test(value)) return `"${value.replace(/"/g, '""')}"`;
  return value;
}

export function formatCsv(columns: string[], rows: (string | null)[][]): string {
  const parts: string[] = [columns.map(formatCsvField).join(",") + "\n"];
  for (const row of rows) parts.push(row.map(formatCsvField).join(",") + "\n");
  return parts.join("");
}

// ---------------------------------------------------------------------------------------------
// Parquet

/**
 * Parquet through hyparquet-writer (pure JS: DuckDB-WASM cannot load its Parquet extension offline).
 * A column is typed INT64 / DOUBLE only when the dictionary says integer / decimal and every value's
 * canonical number text equals the CSV text, so both files hold exactly the same values; otherwise STRING.
 */
export function writeParquet(columns: string[], types: FieldType[], rows: (string | null)[][]): Uint8Array {
  const columnData = columns.map((name, j) => {
    const values = rows.map((r) => r[j]);
    const type = types[j];
    if (type === "integer" && values.every((v) => v === null || (/^-?\d+$/.test(v) && String(BigInt(v)) === v && BigInt(v) >= -(2n ** 63n) && BigInt(v) < 2n ** 63n))) {
      return {name, data: values.map((v) => (v === null ? null : BigInt(v))), type: "INT64" as const, nullable: true};
    }
    if (type === "decimal" && values.every((v) => v === null || (v.trim() === v && v !== "" && Number.isFinite(Number(v)) && String(Number(v)) === v))) {
      return {name, data: values.map((v) => (v === null ? null : Number(v))), type: "DOUBLE" as const, nullable: true};
    }
    return {name, data: values, type: "STRING" as const, nullable: true};
  });
  const buffer = parquetWriteBuffer({
    columnData: columnData as any,
    codec: "SNAPPY",
    statistics: true,
    rowGroupSize: 100_000,
    createdBy: `deid-workbench ${TOOL_VERSION} (hyparquet-writer)`
  });
  return new Uint8Array(buffer);
}

// ---------------------------------------------------------------------------------------------
// Audit trail

function flatten(prefix: string, record: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [`${prefix}${k}`, v]));
}

/**
 * audit.jsonl: the steps recorded before the export (config.history, with their own times), then one
 * "load" per input, "transformation" and "export", all stamped with the export time. Details hold counts,
 * field names and fingerprints only, never data values.
 */
export function formatAudit(input: ExportPackageInput, configHash: string, fingerprints: Map<string, string>): string {
  const {config, statistics} = input;
  const base = {toolVersion: TOOL_VERSION, configHash};
  const events: AuditEvent[] = [...(config.history ?? [])];
  for (const file of input.inputs) {
    events.push({time: input.exportTime, step: "load", ...base, inputs: [{name: file.name, sha256: file.sha256}], details: {table: file.table, records: file.records, columns: file.columns}});
  }
  const levels = orderedLevels(config).map(([k, v]) => `${k}=${v}`);
  events.push({
    time: input.exportTime,
    step: "transformation",
    ...base,
    inputs: input.inputs.map((f) => ({name: f.name, sha256: f.sha256})),
    details: {
      levels,
      k: config.privacyModel.k ?? null,
      suppressionLimit: config.privacyModel.suppressionLimit,
      violatingRecords: statistics.violatingRecords,
      suppressedRecords: statistics.suppressedRecords,
      patientsShifted: statistics.patientsShifted,
      ...flatten("tokens.", statistics.tokensByDomain),
      ...flatten("topCoded.", statistics.topCoded),
      ...flatten("datesBlankedNoPatient.", statistics.datesWithoutPatient),
      ...Object.fromEntries(input.tables.map((t) => [`records.${t.name}`, t.rows.length])),
      keyFingerprintPseudonym: config.keys?.fingerprints.pseudonym ?? null,
      keyFingerprintDateShift: config.keys?.fingerprints["date-shift"] ?? null
    }
  });
  events.push({
    time: input.exportTime,
    step: "export",
    ...base,
    outputs: [...fingerprints.entries()].map(([name, sha256]) => ({name, sha256}))
  });
  return events.map((e, i) => JSON.stringify(orderEvent(i + 1, e))).join("\n") + "\n";
}

function orderEvent(seq: number, e: AuditEvent): Record<string, unknown> {
  const out: Record<string, unknown> = {seq, time: e.time, step: e.step};
  // Nested keys sorted: history events come back from a config.json whose keys were sorted, and a
  // rerun from that config must write the same audit.jsonl.
  for (const key of ["toolVersion", "configHash", "inputs", "outputs", "details"] as const) if (e[key] !== undefined) out[key] = sortNestedKeys(e[key]);
  return out;
}

function sortNestedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortNestedKeys);
  if (value && typeof value === "object") return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortNestedKeys((value as Record<string, unknown>)[k])]));
  return value;
}

// ---------------------------------------------------------------------------------------------
// The whole run, host-independent: the browser (DuckDB-WASM) and the CLI (native DuckDB) both call this.

export interface ApplyAndExportOptions {
  /** Inputs already loaded as all-text tables, with the fingerprint of each file's bytes. */
  inputs: {table: string; sqlTable: string; name: string; sha256: string}[];
  keys?: import("./keys.js").RunKeys;
  refs?: import("./hierarchies.js").ReferenceTables;
  exportTime: string;
  /** Figures other engines computed (utility, frontier, ML); risk before/after is filled in here when absent. */
  figures?: ReportFigures;
  onProgress?: (step: string) => void;
  /** Compute information loss, drift and ML utility for the report (default true). */
  measureUtility?: boolean;
}

/**
 * Check the inputs against the config (fingerprints, key), apply the transformations and build the
 * package. Returns the files and the config as applied (input and key fingerprints filled in).
 */
export async function applyAndExport(conn: import("./sql.js").SqlConnection, config: TransformConfig, options: ApplyAndExportOptions): Promise<{files: PackageFiles; config: TransformConfig}> {
  const {applyTransformations, outputRowsSql, ApplyError} = await import("./apply-transformations.js");
  const applied: TransformConfig = structuredClone(config);
  for (const spec of applied.inputs) {
    const input = options.inputs.find((i) => i.table === spec.table);
    if (!input) throw new ApplyError(`no input file given for table "${spec.table}" (${spec.file})`);
    if (spec.sha256 && spec.sha256 !== input.sha256) {
      throw new ApplyError(
        `config for a different dataset: ${input.name} has SHA-256 ${input.sha256}, but the config was made for ${spec.file} with SHA-256 ${spec.sha256}`
      );
    }
    spec.sha256 = input.sha256;
  }
  if (options.keys) {
    const {checkKeyFingerprints} = await import("./keys.js");
    checkKeyFingerprints(options.keys, config.keys?.fingerprints);
    applied.keys = {derivation: options.keys.derivation, fingerprints: {...options.keys.fingerprints}};
  }
  const result = await applyTransformations(conn, applied, {
    sourceTables: Object.fromEntries(options.inputs.map((i) => [i.table, i.sqlTable])),
    keys: options.keys,
    refs: options.refs,
    onProgress: options.onProgress
  });
  const figures: ReportFigures = {riskBefore: result.riskBefore, riskAfter: result.riskAfter, ...options.figures, notes: {...options.figures?.notes}};
  if (options.measureUtility !== false) {
    options.onProgress?.("utility");
    const {measurePackageUtility, measurePackageMlUtility} = await import("./package-utility.js");
    const modelTable = applied.privacyModel.table ?? applied.inputs[0].table;
    const src = options.inputs.find((i) => i.table === modelTable)!.sqlTable;
    const out = result.tables.find((t) => t.table === modelTable)!;
    if (figures.utilityAfter === undefined) {
      try {
        const measured = await measurePackageUtility(conn, applied, src, options.refs);
        figures.utilityAfter = measured?.utility ?? null;
        if (!measured) figures.notes!.utility = "no released quasi-identifiers";
        if (figures.frontier === undefined) figures.frontier = measured?.frontier ?? null;
        if (measured?.frontierNote) figures.notes!.frontier = measured.frontierNote;
      } catch (error) {
        figures.utilityAfter = null;
        figures.notes!.utility = error instanceof Error ? error.message : String(error);
      }
    }
    if (figures.mlUtility === undefined) {
      const ml = await measurePackageMlUtility(conn, applied, src, out.sqlTable, out.columns);
      figures.mlUtility = ml.result;
      if (ml.note) figures.notes!.ml = ml.note;
    }
  }
  options.onProgress?.("export");
  const tables: PackageTable[] = [];
  try {
    for (const t of result.tables) {
      const rows = await conn.query(outputRowsSql(t));
      tables.push({name: t.table, columns: t.columns, rows: rows.map((r) => t.columns.map((c) => (r[c] === null ? null : String(r[c]))))});
    }
  } finally {
    for (const t of result.tables) await conn.exec(`DROP TABLE IF EXISTS "${t.sqlTable.replace(/"/g, '""')}"`);
  }
  const files = await buildExportPackage({
    config: applied,
    tables,
    inputs: applied.inputs.map((spec) => {
      const input = options.inputs.find((i) => i.table === spec.table)!;
      const t = result.tables.find((x) => x.table === spec.table)!;
      return {name: input.name, sha256: input.sha256, table: spec.table, records: t.inputRecords, columns: spec.fields.length};
    }),
    statistics: result.statistics,
    figures,
    exportTime: options.exportTime
  });
  return {files, config: applied};
}

/**
 * The package as one zip (for the browser's download). Deterministic: files in name order, DEFLATE
 * level 6, every entry's modification time = the export time. Zip stores local "DOS" time fields, which
 * fflate reads from a Date's local fields, so the Date is built from the export time's UTC fields: the
 * same bytes in every time zone.
 */
export function zipPackage(files: PackageFiles, exportTime: string): Uint8Array {
  if (!ISO_TIME.test(exportTime)) throw new Error(`export time must be ISO 8601 UTC, got ${JSON.stringify(exportTime)}`);
  const t = new Date(exportTime);
  const mtime = new Date(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate(), t.getUTCHours(), t.getUTCMinutes(), t.getUTCSeconds());
  const entries: Record<string, [Uint8Array, {level: 6; mtime: Date}]> = {};
  for (const name of [...files.keys()].sort()) entries[name] = [files.get(name)!, {level: 6, mtime}];
  return zipSync(entries as any, {level: 6, mtime});
}
