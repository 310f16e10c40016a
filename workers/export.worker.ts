import * as Comlink from "comlink";
import {createBrowserDuckDB, type BrowserDuckDB} from "../src/components/duckdb-client.js";
import {computeClassCounts} from "../src/lib/class-counts.js";
import {ACTIONS_BY_ROLE, draftTransformConfig, type DraftConfigOptions} from "../src/lib/export-config.js";
import {applyAndExport, zipPackage} from "../src/lib/export-package.js";
import {builtinHierarchy, type ReferenceTables} from "../src/lib/hierarchies.js";
import {loadCsv} from "../src/lib/ingest.js";
import {checkKeyFingerprints, sha256Hex, type RunKeys} from "../src/lib/keys.js";
import {searchLattice} from "../src/lib/lattice-search.js";
import {dropEvaluation, dropFrequencyTable, evaluateTransformation, prepareFrequencyTable} from "../src/lib/equivalence-classes.js";
import {canonicalJson, configNeedsKey, hierarchyFromSpec, levelForField, parseTransformConfig, privacyModelTable, type TransformConfig} from "../src/lib/transform-config.js";

/**
 * Export worker: everything that touches the transformation config and the package runs here, off
 * the page's thread, with its own DuckDB-WASM (a nested worker). It runs exactly what
 * `deid-workbench apply` runs (loaders/apply-package.ts), with DuckDB-WASM instead of native DuckDB
 * and WebCrypto keys instead of node:crypto, so the package bytes are the same.
 *
 * (The config code lives here rather than in the page also because Framework's parser rejects the
 * JSON import attribute transform-config.ts uses for the schema; the worker bundle resolves it.)
 */

export type Outcome<T> = {ok: true; value: T} | {ok: false; error: string};
const attempt = async <T>(f: () => T | Promise<T>): Promise<Outcome<T>> => {
  try {
    return {ok: true, value: await f()};
  } catch (error) {
    return {ok: false, error: error instanceof Error ? error.message : String(error)};
  }
};

/** The self-hosted DuckDB-WASM file URLs, resolved by the page (see duckdbBundles). */
export type DuckDBBundleUrls = import("@duckdb/duckdb-wasm").DuckDBBundles;

export interface ExportRequest {
  config: TransformConfig;
  keys?: RunKeys;
  refs?: ReferenceTables;
  /** ISO 8601 UTC, e.g. 2026-01-31T12:00:00Z. */
  exportTime: string;
}

export interface ExportResult {
  /** Package files in name order. */
  files: [string, Uint8Array][];
  zip: Uint8Array;
  config: TransformConfig;
  configText: string;
}

/** Steps shown on the page, in order: fingerprint input, transform, measure, report, zip. */
export type ExportStep = "fingerprint input" | "transform" | "measure" | "report" | "zip";

let connection: Promise<BrowserDuckDB> | null = null;

/** The dataset, sent once by the page (transferred, not copied); its all-text table for checks is cached per delimiter. */
let dataset: {bytes: Uint8Array; name: string; delimiter: string; sha256: string} | null = null;
let checkTable: {delimiter: string} | null = null;

function currentDataset() {
  if (!dataset) throw new Error("no dataset: the page must call setDataset first");
  return dataset;
}

/** The all-text copy of the dataset the checks and the search read (table src__deid_check). */
async function ensureCheckTable(delimiter: string): Promise<string> {
  const d = currentDataset();
  if (checkTable?.delimiter !== delimiter) {
    await loadDataset(d.bytes, d.name, "_deid_check", delimiter);
    checkTable = {delimiter};
  }
  return "src__deid_check";
}

/** Load the dataset as the CLI does: every column as text, into src_<table>. */
async function loadDataset(bytes: Uint8Array, name: string, table: string, delimiter: string): Promise<string> {
  const conn = await connection!;
  const sqlTable = `src_${table}`;
  // DuckDB-WASM takes ownership of the buffer it is given (transfers it), so it gets a copy
  await conn.registerFile("export-input.csv", bytes.slice());
  try {
    await loadCsv(conn, "export-input.csv", sqlTable, {delimiter, allText: true, displayName: name});
  } finally {
    await conn.dropFile("export-input.csv");
  }
  return sqlTable;
}

function needsReferenceTables(config: TransformConfig): boolean {
  return Object.values(config.hierarchies).some((h) => h.kind === "builtin" && h.spec.startsWith("icd10"));
}

const api = {
  async init(bundles: DuckDBBundleUrls): Promise<Outcome<true>> {
    return attempt(async () => {
      connection ??= createBrowserDuckDB(bundles);
      await connection;
      return true as const;
    });
  },

  /** Keep the dataset's bytes here (the page transfers them) and return their SHA-256. */
  async setDataset(bytes: Uint8Array, name: string, delimiter: string): Promise<string> {
    dataset = {bytes, name, delimiter, sha256: await sha256Hex(bytes)};
    checkTable = null;
    return dataset.sha256;
  },

  async draftConfig(options: DraftConfigOptions): Promise<Outcome<{config: TransformConfig; text: string}>> {
    return attempt(() => {
      const config = draftTransformConfig(options);
      return {config, text: canonicalJson(config)};
    });
  },

  async parseConfig(text: string, fileName: string): Promise<Outcome<{config: TransformConfig; text: string}>> {
    return attempt(() => {
      const config = parseTransformConfig(text, fileName);
      if (config.inputs.length !== 1) {
        throw new Error(`${fileName} describes ${config.inputs.length} input files (${config.inputs.map((i) => i.file).join(", ")}); this page exports one dataset. Use \`deid-workbench apply\` for several files.`);
      }
      return {config, text: canonicalJson(config)};
    });
  },

  /** Problems that would stop the export, found before it starts (empty when none). */
  async checkReady(config: TransformConfig, sha256: string, name: string, keys?: RunKeys): Promise<string[]> {
    const problems: string[] = [];
    const spec = config.inputs[0];
    if (spec.sha256 && spec.sha256 !== sha256) {
      problems.push(`config for a different dataset: ${name} has SHA-256 ${sha256}, but the config was made for ${spec.file} with SHA-256 ${spec.sha256}`);
    }
    if (configNeedsKey(config)) {
      if (!keys) problems.push("this configuration pseudonymizes or shifts dates: give a key file or a passphrase first");
      else {
        const derivation = config.keys?.derivation;
        const k = keys.derivation;
        if (derivation && derivation.source !== k.source) {
          problems.push(`this configuration was made with a ${derivation.source === "key-file" ? "key file" : "passphrase"}; give ${derivation.source === "key-file" ? "that key file" : "that passphrase"}`);
        } else if (derivation?.source === "passphrase" && k.source === "passphrase" && (derivation.salt !== k.salt || derivation.iterations !== k.iterations)) {
          problems.push("this configuration derives its key from the passphrase with its own recorded salt: enter the passphrase again");
        } else {
          try {
            checkKeyFingerprints(keys, config.keys?.fingerprints);
          } catch (error) {
            problems.push((error as Error).message);
          }
        }
      }
    }
    return problems;
  },

  /**
   * The least-loss levels meeting k and the suppression limit (the same search as `deid-workbench
   * search`, precision metric), for when the Explorer chose none.
   */
  async findLevels(quasiIdentifiers: {name: string; hierarchy: string}[], k: number, suppressionLimit: number, refs: ReferenceTables): Promise<Outcome<Record<string, number> | null>> {
    return attempt(async () => {
      const conn = await connection!;
      const table = await ensureCheckTable(currentDataset().delimiter);
      const counts = await computeClassCounts(conn, {table, quasiIdentifiers: quasiIdentifiers.map((q) => ({name: q.name, hierarchy: builtinHierarchy(q.hierarchy, refs)}))});
      const result = await searchLattice(counts, {model: {k, suppressionLimit}, metric: "precision"});
      return result.optimum?.levels ?? null;
    });
  },

  /**
   * Whether the config's levels meet its privacy model on this dataset: the same evaluation `apply`
   * makes before it transforms (quasi-identifiers kept or generalized; sensitive fields released).
   */
  async checkModel(config: TransformConfig, refs: ReferenceTables): Promise<Outcome<{records: number; violatingRecords: number; suppressed: number; limit: number; anonymous: boolean | null} | null>> {
    return attempt(async () => {
      const conn = await connection!;
      const input = privacyModelTable(config);
      const table = await ensureCheckTable(input.delimiter);
      const qis = input.fields
        .filter((f) => f.role === "quasi-identifier" && (f.transform.action === "generalize" || f.transform.action === "keep"))
        .map((f) => ({name: f.name, hierarchy: f.transform.action === "generalize" ? hierarchyFromSpec(config, f.hierarchy!, refs) : builtinHierarchy("flat")}));
      if (qis.length === 0) return null;
      const sensitive = input.fields.filter((f) => f.role === "sensitive" && !["remove", "redact", "suppress"].includes(f.transform.action)).map((f) => f.name);
      const pm = config.privacyModel;
      const freq = await prepareFrequencyTable(conn, {table, quasiIdentifiers: qis, sensitive});
      try {
        const levels = Object.fromEntries(qis.map((q) => [q.name, levelForField(config, input, input.fields.find((f) => f.name === q.name)!) ?? 0]));
        const ev = await evaluateTransformation(conn, freq, levels, {k: pm.k, lDiversity: pm.lDiversity, tCloseness: pm.tCloseness, suppressionLimit: pm.suppressionLimit});
        await dropEvaluation(conn, ev);
        return {records: ev.records, violatingRecords: ev.violatingRecords, suppressed: ev.suppressed, limit: Math.floor(pm.suppressionLimit * ev.records), anonymous: ev.anonymous};
      } finally {
        await dropFrequencyTable(conn, freq);
      }
    });
  },

  async exportPackage(request: ExportRequest, onStep: (step: ExportStep, detail: string) => void): Promise<Outcome<ExportResult>> {
    return attempt(async () => {
      const conn = await connection!;
      const {config} = request;
      const spec = config.inputs[0];
      const input = currentDataset();
      const name = input.name;
      onStep("fingerprint input", `SHA-256 of ${name}`);
      const sha256 = await sha256Hex(input.bytes);
      if (spec.sha256 && spec.sha256 !== sha256) {
        throw new Error(`config for a different dataset: ${name} has SHA-256 ${sha256}, but the config was made for ${spec.file} with SHA-256 ${spec.sha256}`);
      }
      if (configNeedsKey(config) && !request.keys) throw new Error("this configuration pseudonymizes or shifts dates: a key is required");
      const keys = configNeedsKey(config) ? request.keys : undefined;
      onStep("fingerprint input", `loading ${name}`);
      const sqlTable = await loadDataset(input.bytes, name, spec.table, spec.delimiter);
      // same reference tables as the CLI: only when an ICD-10 hierarchy needs them
      const refs = needsReferenceTables(config) ? request.refs : undefined;
      onStep("transform", "checking columns and values");
      try {
        const result = await applyAndExport(conn, config, {
          inputs: [{table: spec.table, sqlTable, name, sha256}],
          keys,
          refs,
          exportTime: request.exportTime,
          onProgress: (step) => {
            if (step === "utility") onStep("measure", "information loss, drift and ML utility");
            else if (step === "export") onStep("report", "CSV, Parquet, report.html, audit.jsonl");
            else onStep("transform", step.replace(/^transform /, "table "));
          }
        });
        onStep("zip", "deterministic zip (entries in name order, time = export time)");
        const zip = await zipPackage(result.files, request.exportTime);
        const files = [...result.files.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
        return {files, zip, config: result.config, configText: canonicalJson(result.config)};
      } finally {
        await conn.exec(`DROP TABLE IF EXISTS "${sqlTable.replace(/"/g, '""')}"`);
      }
    });
  },

  /** The table the privacy model applies to (for the page's display). */
  modelTable(config: TransformConfig): string {
    return privacyModelTable(config).table;
  },

  /** Actions each role allows (the page's action menus). */
  actionsByRole(): typeof ACTIONS_BY_ROLE {
    return ACTIONS_BY_ROLE;
  },

  /**
   * The config bound to this dataset and key, as config.json text for `deid-workbench apply`
   * (the same binding the export records in the package).
   */
  bindConfig(config: TransformConfig, sha256: string, keys?: Pick<RunKeys, "derivation" | "fingerprints">): string {
    const bound: TransformConfig = structuredClone(config);
    bound.inputs[0].sha256 = sha256;
    if (keys && configNeedsKey(config)) bound.keys = {derivation: keys.derivation, fingerprints: {...keys.fingerprints}};
    return canonicalJson(bound);
  }
};

export type ExportWorkerApi = typeof api;
Comlink.expose(api);
