/** Node host for `deid-workbench apply`: read files, run the engine on native DuckDB, write the package atomically. */
import {createHash, randomBytes} from "node:crypto";
import {closeSync, createReadStream, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync} from "node:fs";
import {totalmem} from "node:os";
import {basename, dirname, join, resolve} from "node:path";
import {openNativeDuckDB} from "./duckdb-native.js";
import {loadReferenceTables} from "./hierarchy-files.js";
import {loadCsv} from "../src/lib/ingest.js";
import {applyAndWritePackage, type PackageFiles, type PackageSink} from "../src/lib/export-package.js";
import {writeZip} from "../src/lib/package-zip.js";
import {deriveKeys, parseKeyFile, type RunKeys} from "../src/lib/keys.js";
import {attachNodeSigners} from "./node-hmac.js";
import {configNeedsKey, parseTransformConfig, type TransformConfig} from "../src/lib/transform-config.js";
import type {ReferenceTables} from "../src/lib/hierarchies.js";

export interface ApplyRunOptions {
  configPath: string;
  inputPaths: string[];
  outDir: string;
  keyFile?: string;
  passphrase?: string;
  /** ISO UTC export time; default SOURCE_DATE_EPOCH, else now (to the second). */
  exportTime?: string;
  /** Replace an existing output folder. */
  force?: boolean;
  /** DuckDB memory limit, e.g. "8GB" (default: half of this machine's memory). */
  memoryLimit?: string;
  /**
   * Where DuckDB keeps the loaded tables: "memory" (fastest; uncompressed, spilled past the limit),
   * "disk" (a compressed database file in the work folder), or "auto" (default: disk when the inputs
   * would not fit in a quarter of the memory limit).
   */
  storage?: "memory" | "disk" | "auto";
  /** Also write the package as one zip here (atomically, like the folder). */
  zipPath?: string;
  onProgress?: (step: string) => void;
}

/** The package's files (name -> SHA-256) and where they were written. */
export interface ApplyRunResult {
  config: TransformConfig;
  fingerprints: Map<string, string>;
  records: Map<string, number>;
  outDir: string;
}

/** SHA-256 of a file, streamed (inputs can be larger than memory). */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** The export time: explicit, else SOURCE_DATE_EPOCH (reproducible-builds.org convention), else the clock. */
export function resolveExportTime(explicit?: string): string {
  if (explicit) return explicit;
  const epoch = process.env.SOURCE_DATE_EPOCH;
  if (epoch !== undefined && /^\d+$/.test(epoch)) return new Date(Number(epoch) * 1000).toISOString().replace(/\.000Z$/, "Z");
  return new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** Match each config input to one given file: by fingerprint when the config has one, else by file name, else by position. */
export function matchInputs(config: TransformConfig, files: {path: string; sha256: string}[]): Map<string, {path: string; sha256: string}> {
  if (files.length !== config.inputs.length) {
    throw new Error(`the config describes ${config.inputs.length} input file(s) (${config.inputs.map((i) => i.file).join(", ")}) but ${files.length} were given`);
  }
  const result = new Map<string, {path: string; sha256: string}>();
  const used = new Set<number>();
  config.inputs.forEach((spec, position) => {
    let index = spec.sha256 ? files.findIndex((f, i) => !used.has(i) && f.sha256 === spec.sha256) : -1;
    if (index < 0 && spec.sha256) {
      const candidate = files.findIndex((f, i) => !used.has(i) && basename(f.path) === spec.file);
      const shown = candidate >= 0 ? files[candidate] : files[position];
      throw new Error(
        `config for a different dataset: the config was made for ${spec.file} with SHA-256 ${spec.sha256}, ` +
          `but no input matches (${shown ? `${shown.path} has ${shown.sha256}` : "none given"}). Use the config made for this file, or remove "sha256" to bind it to this file.`
      );
    }
    if (index < 0) index = files.findIndex((f, i) => !used.has(i) && basename(f.path) === spec.file);
    if (index < 0) index = used.has(position) ? files.findIndex((_, i) => !used.has(i)) : position;
    used.add(index);
    result.set(spec.table, files[index]);
  });
  return result;
}

export async function deriveRunKeys(config: TransformConfig, keyFile: string | undefined, passphrase: string | undefined): Promise<RunKeys | undefined> {
  if (!configNeedsKey(config)) return undefined;
  const derivation = config.keys?.derivation ?? (keyFile ? {source: "key-file" as const} : undefined);
  if (!derivation) {
    if (passphrase === undefined) throw new Error("this config pseudonymizes or shifts dates: give --key-file FILE (see `deid-workbench keygen`) or --passphrase-env VAR");
    const {deriveKeysFromPassphrase} = await import("../src/lib/keys.js");
    return attachNodeSigners(await deriveKeysFromPassphrase(passphrase), {passphrase});
  }
  if (derivation.source === "key-file") {
    if (!keyFile) throw new Error("this config was made with a key file: give it with --key-file FILE");
    if (!existsSync(keyFile)) throw new Error(`key file ${keyFile} does not exist`);
    const secret = parseKeyFile(readFileSync(keyFile, "utf8"), keyFile);
    return attachNodeSigners(await deriveKeys(derivation, {keyFile: secret}), {keyFile: secret});
  }
  if (passphrase === undefined) throw new Error("this config was made with a passphrase: give the name of an environment variable holding it with --passphrase-env VAR");
  return attachNodeSigners(await deriveKeys(derivation, {passphrase}), {passphrase});
}

function needsReferenceTables(config: TransformConfig): boolean {
  return Object.values(config.hierarchies).some((h) => h.kind === "builtin" && h.spec.startsWith("icd10"));
}

/** A sibling path of `target` for work in progress: hidden, unique, removed on failure. */
function siblingPath(target: string, what: string): string {
  return join(dirname(target), `.${basename(target)}.${what}-${process.pid}-${randomBytes(4).toString("hex")}`);
}

/** Move a finished temporary folder (or file) into place: it appears complete or not at all. */
function moveIntoPlace(temp: string, target: string): void {
  if (existsSync(target)) {
    const old = `${temp}.old`;
    renameSync(target, old);
    renameSync(temp, target);
    rmSync(old, {recursive: true, force: true});
  } else {
    renameSync(temp, target);
  }
}

/** Package files written into a folder as they stream in, each hashed on the way. */
export function createFolderSink(dir: string): PackageSink {
  return {
    create(name: string) {
      const path = join(dir, name);
      mkdirSync(dirname(path), {recursive: true});
      const fd = openSync(path, "wx");
      const hash = createHash("sha256");
      return {
        write(bytes: Uint8Array) {
          hash.update(bytes);
          for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at, bytes.length - at);
        },
        async close() {
          closeSync(fd);
          return hash.digest("hex");
        }
      };
    }
  };
}

/**
 * Fill a new hidden folder beside `target` with `fill`, then rename it to `target`: the folder appears
 * complete or not at all (on any error the partial folder is removed).
 */
export async function writeFolderAtomically<T>(target: string, fill: (temp: string) => Promise<T>): Promise<T> {
  const temp = siblingPath(target, "partial");
  try {
    mkdirSync(temp);
    const result = await fill(temp);
    moveIntoPlace(temp, target);
    return result;
  } catch (error) {
    rmSync(temp, {recursive: true, force: true});
    throw error;
  }
}

/** Write an in-memory package into `outDir` atomically (writeFolderAtomically). */
export async function writePackageAtomically(files: PackageFiles, outDir: string, force = false): Promise<void> {
  const target = resolve(outDir);
  if (existsSync(target) && !force) throw new Error(`output folder ${outDir} already exists; choose another --out or pass --force to replace it`);
  mkdirSync(dirname(target), {recursive: true});
  await writeFolderAtomically(target, async (temp) => {
    const sink = createFolderSink(temp);
    for (const [name, bytes] of files) {
      const file = sink.create(name);
      file.write(bytes);
      await file.close();
    }
  });
}

/** Write the package folder `dir` as one zip at `zipPath` (streamed; the same bytes as the browser's zip of these files). */
export async function zipFolder(dir: string, names: string[], exportTime: string, zipPath: string): Promise<void> {
  const target = resolve(zipPath);
  mkdirSync(dirname(target), {recursive: true});
  const temp = siblingPath(target, "partial");
  const fd = openSync(temp, "wx");
  try {
    await writeZip(
      names.map((name) => ({name, size: statSync(join(dir, name)).size, chunks: () => createReadStream(join(dir, name), {highWaterMark: 1 << 20}) as AsyncIterable<Buffer>})),
      exportTime,
      (bytes) => {
        for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at, bytes.length - at);
      }
    );
    closeSync(fd);
    moveIntoPlace(temp, target);
  } catch (error) {
    try {
      closeSync(fd);
    } catch {}
    rmSync(temp, {force: true});
    throw error;
  }
}

/** Half this machine's memory, in MiB, for DuckDB: the rest is for Node (token pages, row groups) and the OS. */
export function defaultMemoryLimit(): string {
  return `${Math.max(512, Math.floor(totalmem() / 2 / 2 ** 20))}MiB`;
}

const SIZE_UNITS: Record<string, number> = {kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40};

/** Bytes in a DuckDB size setting like "8GB" or "4096MiB". */
export function parseMemorySize(size: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]i?b)$/i.exec(size.trim());
  if (!m) throw new Error(`memory limit must be a size like 8GB or 4096MiB, got ${JSON.stringify(size)}`);
  return Number(m[1]) * SIZE_UNITS[m[2].toLowerCase()];
}

/**
 * In-memory DuckDB tables are uncompressed: text takes about 4x its CSV size (measured: a 10 GB CSV
 * spilled 40 GB). Past a quarter of the limit, a database file (compressed) is smaller and faster.
 */
export function chooseStorage(inputBytes: number, memoryLimit: string): "memory" | "disk" {
  return inputBytes * 4 > parseMemorySize(memoryLimit) ? "disk" : "memory";
}

/** Remove work and partial folders beside `target` left by earlier runs that were killed (their process is gone). */
export function removeStaleWork(target: string): void {
  const prefix = `.${basename(target)}.`;
  const parent = dirname(target);
  if (!existsSync(parent)) return;
  for (const name of readdirSync(parent)) {
    const m = /^\.(?:work|partial)-(\d+)-[0-9a-f]{8}(?:\.old)?$/.exec(name.slice(prefix.length - 1));
    if (!name.startsWith(prefix) || !m || Number(m[1]) === process.pid) continue;
    try {
      process.kill(Number(m[1]), 0);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ESRCH") rmSync(join(parent, name), {recursive: true, force: true});
    }
  }
}

/**
 * `apply` end to end. Inputs are loaded into DuckDB (in memory or a database file, see `storage`) whose
 * memory is capped and which spills to a hidden work folder beside `outDir`, so tables larger than memory
 * work; the package streams into a hidden partial folder and only a complete package is renamed into
 * place; the work folder is always removed.
 */
export async function runApply(options: ApplyRunOptions): Promise<ApplyRunResult> {
  const progress = options.onProgress ?? (() => {});
  if (!existsSync(options.configPath)) throw new Error(`config file ${options.configPath} does not exist`);
  const config = parseTransformConfig(readFileSync(options.configPath, "utf8"), options.configPath);
  const target = resolve(options.outDir);
  if (existsSync(target) && !options.force) throw new Error(`output folder ${options.outDir} already exists; choose another --out or pass --force to replace it`);
  if (options.zipPath && existsSync(options.zipPath) && !options.force) throw new Error(`zip file ${options.zipPath} already exists; choose another --zip or pass --force to replace it`);
  for (const p of options.inputPaths) if (!existsSync(p)) throw new Error(`input file ${p} does not exist`);
  progress("fingerprints");
  const hashed = await Promise.all(options.inputPaths.map(async (path) => ({path, sha256: await sha256File(path)})));
  const matched = matchInputs(config, hashed);
  const keys = await deriveRunKeys(config, options.keyFile, options.passphrase);
  const exportTime = resolveExportTime(options.exportTime);
  let refs: ReferenceTables | undefined;
  if (needsReferenceTables(config)) refs = loadReferenceTables();
  mkdirSync(dirname(target), {recursive: true});
  removeStaleWork(target);
  const memoryLimit = options.memoryLimit ?? defaultMemoryLimit();
  const inputBytes = options.inputPaths.reduce((n, p) => n + statSync(p).size, 0);
  const storage = !options.storage || options.storage === "auto" ? chooseStorage(inputBytes, memoryLimit) : options.storage;
  const work = siblingPath(target, "work");
  mkdirSync(join(work, "spill"), {recursive: true});
  let conn: Awaited<ReturnType<typeof openNativeDuckDB>> | undefined;
  try {
    // bounded either way: past the limit DuckDB evicts blocks and sort runs to the spill folder
    conn = await openNativeDuckDB(storage === "disk" ? join(work, "work.duckdb") : ":memory:", {temp_directory: join(work, "spill"), memory_limit: memoryLimit});
    progress(`DuckDB: ${storage === "disk" ? "database file" : "in memory"}, memory limit ${memoryLimit}, spilling to ${work}`);
    const inputs: {table: string; sqlTable: string; name: string; sha256: string}[] = [];
    for (const spec of config.inputs) {
      const file = matched.get(spec.table)!;
      const sqlTable = `src_${spec.table}`;
      progress(`load ${file.path}`);
      await loadCsv(conn, file.path, sqlTable, {delimiter: spec.delimiter, allText: true, displayName: file.path});
      inputs.push({table: spec.table, sqlTable, name: basename(file.path), sha256: file.sha256});
    }
    const reported = new Map<string, number>();
    const onRows = (table: string, rows: number, total: number) => {
      const step = Math.max(100_000, Math.ceil(total / 10));
      if (rows === total || rows - (reported.get(table) ?? 0) >= step) {
        reported.set(table, rows);
        progress(`write ${table}: ${rows.toLocaleString("en-US")} of ${total.toLocaleString("en-US")} rows`);
      }
    };
    const db = conn;
    const result = await writeFolderAtomically(target, async (temp) => {
      const written = await applyAndWritePackage(db, config, {inputs, keys, refs, exportTime, onProgress: progress, onRows}, createFolderSink(temp));
      // DuckDB's memory and spill are released before the zip reads the package back
      db.close();
      conn = undefined;
      if (options.zipPath) {
        progress(`zip ${options.zipPath}`);
        await zipFolder(temp, [...written.fingerprints.keys()], exportTime, options.zipPath);
      }
      return written;
    });
    return {config: result.config, fingerprints: result.fingerprints, records: result.records, outDir: target};
  } finally {
    conn?.close();
    rmSync(work, {recursive: true, force: true});
  }
}
