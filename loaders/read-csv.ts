import {openSync, readSync, closeSync, statSync} from "node:fs";
import {basename} from "node:path";
import {loadCsv, type CsvLoadOptions} from "../src/lib/ingest.js";
import {sniffCsvDialect} from "../src/lib/csv-dialect.js";
import type {SqlConnection} from "../src/lib/sql.js";

/** Read the head of a file to sniff its dialect without reading a 10 GB file into memory. */
export function readFileHead(path: string, bytes = 65536): Uint8Array {
  const fd = openSync(path, "r");
  try {
    const size = Math.min(bytes, statSync(path).size);
    const buffer = new Uint8Array(size);
    readSync(fd, buffer, 0, size, 0);
    return buffer;
  } finally {
    closeSync(fd);
  }
}

/** The delimiter sniffed from the head of a file (same sniffer as the app's ingest worker). */
export function guessDelimiter(head: Uint8Array): string {
  return sniffCsvDialect(head).delimiter;
}

/** Load a CSV file from disk into `table` with native DuckDB (or wasm-in-Node), sniffing the delimiter if not given. */
export async function loadCsvFile(conn: SqlConnection, path: string, table: string, options: CsvLoadOptions = {}) {
  try {
    statSync(path);
  } catch {
    throw new Error(`${path}: file not found`);
  }
  const delimiter = options.delimiter ?? guessDelimiter(readFileHead(path));
  return {delimiter, ...(await loadCsv(conn, path, table, {...options, delimiter, displayName: options.displayName ?? basename(path)}))};
}
