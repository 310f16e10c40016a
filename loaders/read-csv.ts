import {openSync, readSync, closeSync, statSync} from "node:fs";
import {basename} from "node:path";
import {loadCsv, type CsvLoadOptions} from "../src/lib/ingest.js";
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

/** Pick the delimiter whose per-line field count is most consistent over the first lines. */
export function guessDelimiter(head: Uint8Array): string {
  const text = new TextDecoder().decode(head);
  const lines = text.split(/\r?\n/).filter((l) => l.length > 0).slice(0, 50);
  if (lines.length > 1 && text.length === head.length) lines.pop();
  let best = ",";
  let bestScore = -1;
  for (const d of [",", ";", "\t", "|"]) {
    const counts = lines.map((l) => l.split(d).length);
    if (counts[0] < 2) continue;
    const consistent = counts.filter((c) => c === counts[0]).length;
    const score = consistent * 1000 + counts[0];
    if (score > bestScore) (best = d), (bestScore = score);
  }
  return best;
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
