import * as Comlink from "comlink";
import {prepareCsvBytes, type PreparedCsv, type PrepareCsvOptions} from "../src/lib/csv-prepare.js";

/**
 * Ingest worker: reads a user's file, sniffs encoding and delimiter, validates every record and
 * re-encodes to UTF-8 for DuckDB, off the main thread so a 500 MB file never freezes the page.
 */
const api = {
  async prepareCsv(file: Blob, options: PrepareCsvOptions, onProgress?: (phase: string, fraction: number) => void): Promise<PreparedCsv> {
    const bytes = await readWithProgress(file, (f) => onProgress?.("reading", f));
    const prepared = prepareCsvBytes(bytes, options, (f) => onProgress?.("validating", f));
    return prepared.bytes ? Comlink.transfer(prepared, [prepared.bytes.buffer as ArrayBuffer]) : prepared;
  }
};

async function readWithProgress(file: Blob, onProgress: (fraction: number) => void): Promise<Uint8Array> {
  const total = file.size;
  const out = new Uint8Array(total);
  const reader = file.stream().getReader();
  let offset = 0;
  let lastReport = 0;
  for (;;) {
    const {done, value} = await reader.read();
    if (done) break;
    out.set(value, offset);
    offset += value.length;
    if (offset - lastReport > 1 << 22 || offset === total) (lastReport = offset), onProgress(total ? offset / total : 1);
  }
  return offset === total ? out : out.subarray(0, offset);
}

export type IngestWorkerApi = typeof api;
Comlink.expose(api);
