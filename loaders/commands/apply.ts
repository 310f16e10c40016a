import {parseFlags, UsageError} from "../args.js";
import {resolveExportTime, runApply} from "../apply-package.js";
import type {Command} from "./command.js";

const FLAGS = ["config", "input", "out", "key-file", "passphrase-env", "time", "zip", "memory-limit", "storage"];
const SWITCHES = ["force", "quiet"];

export const applyCommand: Command = {
  summary: "Apply a transformation config and write the export package (config, CSV, Parquet, report, audit)",
  usage: `Usage: deid-workbench apply --config CONFIG.json --input FILE [FILE...] --out DIR
                           [--key-file KEY | --passphrase-env VAR] [--time ISO] [--zip FILE]
                           [--memory-limit SIZE] [--storage auto|memory|disk] [--force] [--quiet]

Checks every input against the config (SHA-256 fingerprint, columns, values), applies the
transformations (remove, redact, mask, keyed pseudonyms, per-patient date shift, generalization,
top-coding of ages over 89, record suppression) in native DuckDB and writes the package:
config.json, data.csv + data.parquet (data/<table>.* for several inputs), report.html, audit.jsonl,
SHA256SUMS. The package is written to a temporary folder beside DIR and renamed at the end, so DIR
appears complete or not at all. Inputs larger than memory work: DuckDB keeps its tables in a work
folder beside DIR (spilling to disk past --memory-limit; removed at the end) and the rows stream into
the CSV and Parquet files a chunk at a time, so Node's memory stays flat whatever the input's size. Same input, config, key and time => byte-identical package (also
identical to the browser's export).

  --config FILE         the transformation config (schemas/config.schema.json)
  --input FILE...       the input CSV file(s); matched to the config's inputs by SHA-256
                        (or, for a config without fingerprints, by file name, then by position)
  --out DIR             the package folder to create (must not exist unless --force)
  --key-file KEY        the secret key file (from \`deid-workbench keygen\`); its fingerprint must
                        match the config's
  --passphrase-env VAR  read the passphrase from environment variable VAR (never from the command line)
                        when the config's keys were derived from a passphrase
  --time ISO            the export time written to audit.jsonl and report.html, e.g.
                        2026-01-31T12:00:00Z (default: $SOURCE_DATE_EPOCH if set, else now)
  --zip FILE            also write the package as one zip (byte-identical to the browser's download;
                        streamed from the folder; refused above 4 GiB, as fflate writes no ZIP64)
  --memory-limit SIZE   DuckDB's memory limit, e.g. 8GB (default: half of this machine's memory);
                        beyond it DuckDB spills to the work folder beside DIR
  --storage MODE        where DuckDB keeps the loaded tables: memory (fastest, uncompressed: about
                        4x the CSV's size, spilled past the limit), disk (a compressed database file
                        in the work folder), auto (default: disk when 4x the inputs exceed the limit)
  --force               replace DIR if it exists (still atomically)
  --quiet               no progress on stderr`,
  run: async (argv: string[]) => {
  const flags = parseFlags(argv, {known: FLAGS, switches: SWITCHES});
  const inputs = [...flags.all("input"), ...flags.positional].filter((v) => v !== "true");
  if (inputs.length === 0) throw new UsageError("missing required flag --input");
  const passphraseVar = flags.string("passphrase-env");
  if (passphraseVar === "true") throw new UsageError("--passphrase-env needs the name of an environment variable");
  if (passphraseVar !== undefined && process.env[passphraseVar] === undefined) throw new UsageError(`environment variable ${passphraseVar} (from --passphrase-env) is not set`);
  const time = flags.string("time");
  if (time !== undefined && !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/.test(time)) throw new UsageError(`--time must be ISO 8601 UTC like 2026-01-31T12:00:00Z, got ${JSON.stringify(time)}`);
  const quiet = flags.boolean("quiet");
  const zipPath = flags.string("zip");
  if (zipPath === "true") throw new UsageError("--zip needs a file name");
  const exportTime = resolveExportTime(time);
  const memoryLimit = flags.string("memory-limit");
  if (memoryLimit !== undefined && !/^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i.test(memoryLimit)) throw new UsageError(`--memory-limit must be a size like 8GB or 4096MiB, got ${JSON.stringify(memoryLimit)}`);
  const storage = flags.string("storage") ?? "auto";
  if (!["auto", "memory", "disk"].includes(storage)) throw new UsageError(`--storage must be auto, memory or disk, got ${JSON.stringify(storage)}`);
  const {fingerprints, config, records} = await runApply({
    configPath: flags.require("config"),
    inputPaths: inputs,
    outDir: flags.require("out"),
    keyFile: flags.string("key-file"),
    passphrase: passphraseVar ? process.env[passphraseVar] : undefined,
    exportTime,
    force: flags.boolean("force"),
    memoryLimit,
    storage: storage as "auto" | "memory" | "disk",
    zipPath,
    onProgress: quiet ? undefined : (step) => process.stderr.write(`apply: ${step}\n`)
  });
  if (zipPath && !quiet) process.stderr.write(`apply: wrote ${zipPath}\n`);
  if (!quiet) process.stderr.write(`apply: wrote ${fingerprints.size} files to ${flags.require("out")} (${config.inputs.map((i) => `${i.table}: ${(records.get(i.table) ?? 0).toLocaleString("en-US")} records`).join(", ")})\n`);
  return 0;
  }
};
