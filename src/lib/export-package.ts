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
import type {ApplyStatistics} from "./apply-transformations.js";
import {renderComplianceReport, type ReportFigures} from "./compliance-report.js";
import {formatCsv, formatCsvField, tableRowsFromRows, writeDataFiles, type ByteSink, type TableRows, type TextColumns} from "./data-files.js";
import {sha256Hex, utf8} from "./keys.js";
import {quoteIdentifier, streamColumns, type SqlColumns, type SqlConnection} from "./sql.js";
import {canonicalJson, hashConfig, orderedLevels, TOOL_VERSION, type AuditEvent, type FieldType, type TransformConfig} from "./transform-config.js";

export {formatCsv, formatCsvField};

export interface PackageTable {
  /** Config table name. */
  name: string;
  columns: string[];
  /** Rows in package order; values as text, null = missing. */
  rows: (string | null)[][];
}

/** A table to write without holding its rows: they arrive chunk by chunk (see data-files.ts). */
export interface PackageTableSource extends Omit<TableRows, "types"> {
  /** Config table name. */
  name: string;
}

export interface PackageInputFile {
  name: string;
  sha256: string;
  table: string;
  records: number;
  columns: number;
}

interface PackageInputCommon {
  /** The config as applied (with key and input fingerprints filled in). */
  config: TransformConfig;
  inputs: PackageInputFile[];
  statistics: ApplyStatistics;
  /** Risk, utility, frontier and ML figures for the report (see ReportFigures: the seam for the risk/utility engines). */
  figures: ReportFigures;
  /** ISO 8601 UTC time of the export, e.g. "2026-01-31T12:00:00Z"; supplied by the caller, never read from a clock here. */
  exportTime: string;
}

export interface ExportPackageInput extends PackageInputCommon {
  tables: PackageTable[];
}

export interface ExportPackageStreamInput extends PackageInputCommon {
  tables: PackageTableSource[];
  /** Progress while data files are written: table name and rows written so far. */
  onRows?: (table: string, rows: number) => void;
}

export type PackageFiles = Map<string, Uint8Array>;

/** Where the package's files go: memory (browser download, tests) or a folder (CLI, streamed to disk). */
export interface PackageSink {
  /** Open a new file; its bytes arrive in order through `write`. */
  create(name: string): PackageFileWriter;
}

export interface PackageFileWriter extends ByteSink {
  /** Finish the file; resolves to the SHA-256 (hex) of every byte written. */
  close(): Promise<string>;
}

/** A sink that keeps every file in memory (the browser's download, tests). */
export function createMemorySink(): {sink: PackageSink; files: PackageFiles} {
  const files: PackageFiles = new Map();
  return {
    files,
    sink: {
      create(name: string): PackageFileWriter {
        const parts: Uint8Array[] = [];
        return {
          write(bytes) {
            parts.push(bytes);
          },
          async close() {
            const size = parts.reduce((n, p) => n + p.length, 0);
            const bytes = new Uint8Array(size);
            let at = 0;
            for (const p of parts) {
              bytes.set(p, at);
              at += p.length;
            }
            files.set(name, bytes);
            return sha256Hex(bytes);
          }
        };
      }
    }
  };
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

/** File names of the data files of each table. */
export function dataFileNames(tables: {name: string}[]): Map<string, {csv: string; parquet: string}> {
  const single = tables.length === 1;
  return new Map(tables.map((t) => [t.name, single ? {csv: "data.csv", parquet: "data.parquet"} : {csv: `data/${t.name}.csv`, parquet: `data/${t.name}.parquet`}]));
}

async function writeWholeFile(sink: PackageSink, name: string, bytes: Uint8Array): Promise<string> {
  const file = sink.create(name);
  await file.write(bytes);
  return file.close();
}

/** The dictionary type of each output column of a table (string when the config does not say). */
function columnTypes(config: TransformConfig, table: string, columns: string[]): FieldType[] {
  const spec = config.inputs.find((i) => i.table === table);
  return columns.map((c) => spec?.fields.find((f) => f.name === c)?.type ?? "string");
}

/**
 * Write the package into `sink`, streaming each table's rows into its CSV and Parquet files. Returns
 * every file's SHA-256 (the same list SHA256SUMS holds, plus SHA256SUMS itself) and the records per table.
 */
export async function writeExportPackage(input: ExportPackageStreamInput, sink: PackageSink): Promise<{fingerprints: Map<string, string>; records: Map<string, number>}> {
  if (!ISO_TIME.test(input.exportTime)) throw new Error(`export time must be ISO 8601 UTC like 2026-01-31T12:00:00Z, got ${JSON.stringify(input.exportTime)}`);
  const fingerprints = new Map<string, string>();
  const configHash = await hashConfig(input.config);
  fingerprints.set("config.json", await writeWholeFile(sink, "config.json", utf8(canonicalJson(input.config))));

  const names = dataFileNames(input.tables);
  const records = new Map<string, number>();
  for (const table of input.tables) {
    const {csv, parquet} = names.get(table.name)!;
    const csvFile = sink.create(csv);
    const parquetFile = sink.create(parquet);
    const written = await writeDataFiles({...table, types: columnTypes(input.config, table.name, table.columns)}, csvFile, parquetFile, {
      onRows: input.onRows ? (rows) => input.onRows!(table.name, rows) : undefined
    });
    records.set(table.name, written.records);
    fingerprints.set(csv, await csvFile.close());
    fingerprints.set(parquet, await parquetFile.close());
  }

  const report = renderComplianceReport({
    config: input.config,
    configHash,
    inputs: input.inputs,
    tables: input.tables.map((t) => ({name: t.name, columns: t.columns, records: records.get(t.name)!, files: names.get(t.name)!})),
    statistics: input.statistics,
    figures: input.figures,
    fingerprints: new Map(fingerprints),
    exportTime: input.exportTime
  });
  fingerprints.set("report.html", await writeWholeFile(sink, "report.html", utf8(report)));
  fingerprints.set("audit.jsonl", await writeWholeFile(sink, "audit.jsonl", utf8(formatAudit(input, configHash, fingerprints, records))));
  const sums = [...fingerprints.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([name, hash]) => `${hash}  ${name}\n`);
  fingerprints.set("SHA256SUMS", await writeWholeFile(sink, "SHA256SUMS", utf8(sums.join(""))));
  return {fingerprints, records};
}

/** The package as bytes in memory, from tables held as rows. */
export async function buildExportPackage(input: ExportPackageInput): Promise<PackageFiles> {
  const {sink, files} = createMemorySink();
  await writeExportPackage(
    {
      ...input,
      tables: input.tables.map((t) => {
        const rows = tableRowsFromRows(t.columns, [], t.rows);
        return {name: t.name, columns: t.columns, chunks: rows.chunks};
      })
    },
    sink
  );
  return files;
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
export function formatAudit(input: PackageInputCommon & {tables: {name: string}[]}, configHash: string, fingerprints: Map<string, string>, records: Map<string, number>): string {
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
      ...Object.fromEntries(input.tables.map((t) => [`records.${t.name}`, records.get(t.name) ?? 0])),
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
  /** Progress while the data files are written. */
  onRows?: (table: string, rows: number, total: number) => void;
}

/**
 * Check the inputs against the config (fingerprints, key), apply the transformations and build the
 * package in memory. Returns the files and the config as applied (input and key fingerprints filled in).
 */
export async function applyAndExport(conn: SqlConnection, config: TransformConfig, options: ApplyAndExportOptions): Promise<{files: PackageFiles; config: TransformConfig}> {
  const {sink, files} = createMemorySink();
  const result = await applyAndWritePackage(conn, config, options, sink);
  return {files, config: result.config};
}

/**
 * The same run as `applyAndExport`, writing into any sink: the output rows stream from DuckDB into the
 * data files a chunk at a time (never all in JS memory), so the CLI handles tables larger than memory.
 */
export async function applyAndWritePackage(
  conn: SqlConnection,
  config: TransformConfig,
  options: ApplyAndExportOptions,
  sink: PackageSink
): Promise<{config: TransformConfig; fingerprints: Map<string, string>; records: Map<string, number>}> {
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
  try {
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
          if (figures.frontier === undefined) figures.frontier = null;
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
    const tables: PackageTableSource[] = result.tables.map((t) => ({
      name: t.table,
      columns: t.columns,
      chunks: (only?: number[]) =>
        textChunks(streamColumns(conn, only ? `SELECT ${only.map((j) => quoteIdentifier(t.columns[j])).join(", ")} FROM ${quoteIdentifier(t.sqlTable)}` : outputRowsSql(t))),
      distinct: (j: number) => textChunks(streamColumns(conn, `SELECT DISTINCT ${quoteIdentifier(t.columns[j])} FROM ${quoteIdentifier(t.sqlTable)}`))
    }));
    const written = await writeExportPackage(
      {
        config: applied,
        tables,
        inputs: applied.inputs.map((spec) => {
          const input = options.inputs.find((i) => i.table === spec.table)!;
          const t = result.tables.find((x) => x.table === spec.table)!;
          return {name: input.name, sha256: input.sha256, table: spec.table, records: t.inputRecords, columns: spec.fields.length};
        }),
        statistics: result.statistics,
        figures,
        exportTime: options.exportTime,
        onRows: options.onRows ? (table, rows) => options.onRows!(table, rows, result.tables.find((t) => t.table === table)!.outputRecords) : undefined
      },
      sink
    );
    return {config: applied, ...written};
  } finally {
    for (const t of result.tables) await conn.exec(`DROP TABLE IF EXISTS ${quoteIdentifier(t.sqlTable)}`);
  }
}

/** Result chunks as text columns (output tables are VARCHAR; anything else is turned into its text). */
async function* textChunks(chunks: AsyncIterable<SqlColumns>): AsyncIterable<TextColumns> {
  for await (const chunk of chunks) {
    yield {
      rows: chunk.rows,
      columns: chunk.columns.map((column) => {
        const values = column as (string | null)[];
        for (let i = 0; i < chunk.rows; ++i) if (values[i] !== null && typeof values[i] !== "string") return Array.from(column as ArrayLike<unknown>, (v) => (v === null ? null : String(v)));
        return values;
      })
    };
  }
}
export {zipPackage, writeZip} from "./package-zip.js";
