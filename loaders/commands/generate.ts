import {createWriteStream, renameSync, rmSync} from "node:fs";
import {once} from "node:events";
import {dirname} from "node:path";
import type {Writable} from "node:stream";
import {UsageError, parseFlags} from "../args.js";
import {MAX_PATIENT_ROWS, generatePatientsCsv} from "../../src/lib/sample-data.js";
import type {Command} from "./command.js";

export const generateCommand: Command = {
  summary: "Generate a synthetic clinical-style patient table (CSV) of any size",
  usage: `Usage: deid-workbench generate --rows N [--seed S] [--out FILE] [--crlf] [--quiet]

Writes N synthetic patient admissions as CSV: direct identifiers (mrn, patient_name, ssn, phone,
email), quasi-identifiers (birth_date, sex, race, ethnicity, zip, admission_date, age,
diagnosis_code), clinical features and a 30-day readmission outcome. Every value is made up; the
same seed always gives byte-identical output, and a smaller table is a prefix of a larger one.
Rows are streamed, so any size up to ${MAX_PATIENT_ROWS.toLocaleString("en-US")} fits in constant memory.

  --rows N      number of rows (required; 1000000, 1e6 and 1_000_000 all work)
  --seed S      integer seed (default 1; data/sample-patients.csv is --rows 2000 --seed 1)
  --out FILE    write to FILE (default: standard output). The file is written under a temporary
                name and renamed when complete, so an interrupted run never leaves a partial FILE.
  --crlf        end lines with CRLF instead of LF
  --quiet       no progress on standard error (shown by default for 100,000 rows or more)`,
  async run(argv) {
    const flags = parseFlags(argv, {switches: ["crlf", "quiet"], known: ["rows", "seed", "out"]});
    const rows = parseCount(flags.require("rows"), "rows");
    if (rows > MAX_PATIENT_ROWS) throw new UsageError(`--rows must be at most ${MAX_PATIENT_ROWS} (MRNs are 8 digits), got ${rows}`);
    const seedText = flags.string("seed") ?? "1";
    const seed = Number(seedText);
    if (!Number.isSafeInteger(seed)) throw new UsageError(`--seed must be an integer, got ${JSON.stringify(seedText)}`);
    const out = flags.string("out");
    if (out === "true") throw new UsageError("--out needs a file name");
    const showProgress = !flags.boolean("quiet") && rows >= 100_000;
    await writeGeneratedPatients({
      rows,
      seed,
      out,
      lineEnding: flags.boolean("crlf") ? "\r\n" : "\n",
      onProgress: showProgress ? progressPrinter(rows) : undefined
    });
  }
};

function parseCount(text: string, flag: string): number {
  const n = Number(text.replace(/[_,]/g, ""));
  if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`--${flag} must be a whole number of rows, got ${JSON.stringify(text)}`);
  return n;
}

export interface WriteGeneratedPatientsOptions {
  rows: number;
  seed: number;
  /** File path; standard output when absent. */
  out?: string;
  lineEnding?: "\n" | "\r\n";
  onProgress?: (rowsWritten: number) => void;
}

/** Stream the generated CSV to a file (atomically: temporary name, then rename) or to standard output. */
export async function writeGeneratedPatients({rows, seed, out, lineEnding = "\n", onProgress}: WriteGeneratedPatientsOptions): Promise<void> {
  const chunkRows = 4096;
  if (!out) {
    try {
      await writeChunks(process.stdout, generatePatientsCsv({rows, seed, lineEnding, chunkRows}), chunkRows, onProgress);
    } catch (error) {
      // The reader went away (`generate ... | head`): not an error of ours.
      if ((error as NodeJS.ErrnoException).code !== "EPIPE") throw error;
    }
    return;
  }
  const temporary = `${out}.partial-${process.pid}`;
  const stream = createWriteStream(temporary);
  const interrupted = () => {
    rmSync(temporary, {force: true});
    process.exit(130);
  };
  process.once("SIGINT", interrupted);
  try {
    await once(stream, "open");
    await writeChunks(stream, generatePatientsCsv({rows, seed, lineEnding, chunkRows}), chunkRows, onProgress);
    stream.end();
    await once(stream, "finish");
    renameSync(temporary, out);
  } catch (error) {
    stream.destroy();
    rmSync(temporary, {force: true});
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === "ENOENT" ? `its folder ${dirname(out)} does not exist` : code === "EACCES" ? "permission denied" : code === "ENOSPC" ? "the disk is full" : error instanceof Error ? error.message : String(error);
    throw new Error(`could not write ${out}: ${reason}`);
  } finally {
    process.off("SIGINT", interrupted);
  }
}

async function writeChunks(stream: Writable, chunks: Iterable<string>, chunkRows: number, onProgress?: (rowsWritten: number) => void): Promise<void> {
  let failure: Error | null = null;
  const onError = (error: Error) => (failure = error);
  stream.on("error", onError);
  try {
    let written = -1; // the first chunk is the header line
    for (const chunk of chunks) {
      if (failure) throw failure;
      if (!stream.write(chunk)) await drained(stream);
      written += written < 0 ? 1 : chunkRows;
      onProgress?.(written);
    }
    if (failure) throw failure;
  } finally {
    stream.off("error", onError);
  }
}

function drained(stream: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (error?: Error) => {
      stream.off("drain", done);
      stream.off("error", done);
      if (error) reject(error);
      else resolve();
    };
    stream.on("drain", done);
    stream.on("error", done);
  });
}

function progressPrinter(total: number): (rowsWritten: number) => void {
  const started = performance.now();
  let nextReport = 0;
  const tty = process.stderr.isTTY;
  return (written) => {
    const done = Math.min(written, total);
    if (done < nextReport && done < total) return;
    nextReport = done + Math.max(1, Math.floor(total / 20));
    const seconds = (performance.now() - started) / 1000;
    const message = `generate: ${done.toLocaleString("en-US")} / ${total.toLocaleString("en-US")} rows (${Math.floor((100 * done) / Math.max(1, total))}%, ${seconds.toFixed(1)} s)`;
    process.stderr.write(tty ? `\r${message}${done >= total ? "\n" : ""}` : `${message}\n`);
  };
}
