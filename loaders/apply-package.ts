/** Node host for `deid-workbench apply`: read files, run the engine on native DuckDB, write the package atomically. */
import {createHash, randomBytes} from "node:crypto";
import {createReadStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync} from "node:fs";
import {basename, dirname, join, resolve} from "node:path";
import {openNativeDuckDB} from "./duckdb-native.js";
import {loadReferenceTables} from "./hierarchy-files.js";
import {loadCsv} from "../src/lib/ingest.js";
import {applyAndExport, type PackageFiles} from "../src/lib/export-package.js";
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
  onProgress?: (step: string) => void;
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

/** Write the package into a temporary folder beside `outDir`, then rename it: the folder appears complete or not at all. */
export function writePackageAtomically(files: PackageFiles, outDir: string, force = false): void {
  const target = resolve(outDir);
  if (existsSync(target) && !force) throw new Error(`output folder ${outDir} already exists; choose another --out or pass --force to replace it`);
  const parent = dirname(target);
  mkdirSync(parent, {recursive: true});
  const temp = join(parent, `.${basename(target)}.partial-${process.pid}-${randomBytes(4).toString("hex")}`);
  try {
    mkdirSync(temp);
    for (const [name, bytes] of files) {
      const path = join(temp, name);
      mkdirSync(dirname(path), {recursive: true});
      writeFileSync(path, bytes);
    }
    if (existsSync(target)) {
      const old = `${temp}.old`;
      renameSync(target, old);
      renameSync(temp, target);
      rmSync(old, {recursive: true, force: true});
    } else {
      renameSync(temp, target);
    }
  } catch (error) {
    rmSync(temp, {recursive: true, force: true});
    throw error;
  }
}

export async function runApply(options: ApplyRunOptions): Promise<{files: PackageFiles; config: TransformConfig}> {
  const progress = options.onProgress ?? (() => {});
  if (!existsSync(options.configPath)) throw new Error(`config file ${options.configPath} does not exist`);
  const config = parseTransformConfig(readFileSync(options.configPath, "utf8"), options.configPath);
  const target = resolve(options.outDir);
  if (existsSync(target) && !options.force) throw new Error(`output folder ${options.outDir} already exists; choose another --out or pass --force to replace it`);
  for (const p of options.inputPaths) if (!existsSync(p)) throw new Error(`input file ${p} does not exist`);
  progress("fingerprints");
  const hashed = await Promise.all(options.inputPaths.map(async (path) => ({path, sha256: await sha256File(path)})));
  const matched = matchInputs(config, hashed);
  const keys = await deriveRunKeys(config, options.keyFile, options.passphrase);
  const exportTime = resolveExportTime(options.exportTime);
  let refs: ReferenceTables | undefined;
  if (needsReferenceTables(config)) refs = loadReferenceTables();
  const conn = await openNativeDuckDB();
  try {
    const inputs = [];
    for (const spec of config.inputs) {
      const file = matched.get(spec.table)!;
      const sqlTable = `src_${spec.table}`;
      progress(`load ${file.path}`);
      await loadCsv(conn, file.path, sqlTable, {delimiter: spec.delimiter, allText: true, displayName: file.path});
      inputs.push({table: spec.table, sqlTable, name: basename(file.path), sha256: file.sha256});
    }
    const result = await applyAndExport(conn, config, {
      inputs,
      keys,
      refs,
      exportTime,
      onProgress: progress
    });
    progress("write");
    writePackageAtomically(result.files, options.outDir, options.force);
    return result;
  } finally {
    conn.close();
  }
}
