import {quoteIdentifier, quoteLiteral, type SqlConnection} from "./sql.js";

export interface CsvLoadOptions {
  /** Field delimiter; sniffed by DuckDB when omitted. */
  delimiter?: string;
  /** Whether the first line holds column names (default true). */
  header?: boolean;
  /** Read every column as text instead of inferring types (used for quasi-identifiers like ZIP codes). */
  allText?: boolean;
  /** Name shown in error messages (the user's file name). */
  displayName?: string;
}

/** A CSV problem found while loading, with the line DuckDB (or the sniffer) blamed. */
export class CsvFormatError extends Error {
  constructor(readonly file: string, readonly line: number | null, readonly problem: string) {
    super(`${file}${line != null ? `, line ${line}` : ""}: ${problem}`);
    this.name = "CsvFormatError";
  }
}

/**
 * Load a CSV file that the host has made readable to DuckDB under `fileRef` (a path for native
 * DuckDB, a registered file name for DuckDB-WASM) into `table`. The table is built under a
 * temporary name and only swapped in when the whole file parsed, so a malformed file never
 * replaces or half-writes the previous dataset.
 */
export async function loadCsv(conn: SqlConnection, fileRef: string, table: string, options: CsvLoadOptions = {}): Promise<{rows: number; columns: number}> {
  const staging = `${table}__loading`;
  const args = [`quote = '"'`, `escape = '"'`, `header = ${options.header === false ? "false" : "true"}`, "strict_mode = true", "null_padding = false", "sample_size = -1"];
  if (options.delimiter) args.push(`delim = ${quoteLiteral(options.delimiter)}`);
  if (options.allText) args.push("all_varchar = true");
  const sql = `CREATE OR REPLACE TABLE ${quoteIdentifier(staging)} AS SELECT * FROM read_csv(${quoteLiteral(fileRef)}, ${args.join(", ")})`;
  try {
    await conn.exec(sql);
  } catch (error) {
    await conn.exec(`DROP TABLE IF EXISTS ${quoteIdentifier(staging)}`).catch(() => {});
    throw describeCsvError(options.displayName ?? fileRef, error);
  }
  const [{rows, columns}] = await conn.query(
    `SELECT (SELECT count(*) FROM ${quoteIdentifier(staging)})::INTEGER AS rows, (SELECT count(*) FROM information_schema.columns WHERE table_name = ${quoteLiteral(staging)})::INTEGER AS columns`
  );
  if (Number(columns) < 1) throw new CsvFormatError(options.displayName ?? fileRef, null, "no columns found");
  await conn.exec(`DROP TABLE IF EXISTS ${quoteIdentifier(table)}; ALTER TABLE ${quoteIdentifier(staging)} RENAME TO ${quoteIdentifier(table)}`);
  return {rows: Number(rows), columns: Number(columns)};
}

/** Turn DuckDB's CSV reader error into a short message naming the line and the problem. */
export function describeCsvError(file: string, error: unknown): CsvFormatError {
  const message = error instanceof Error ? error.message : String(error);
  const lineMatch = /line[: ]+(\d+)/i.exec(message);
  const line = lineMatch ? Number(lineMatch[1]) : null;
  let problem = message.split("\n").find((l) => /expected|found|unterminated|quote|column|cast|error/i.test(l) && !/^\s*(Parser|Possible|\*)/.test(l)) ?? message.split("\n")[0];
  problem = problem.replace(/^.*?Error:\s*/, "").replace(/CSV Error on Line:\s*\d+\s*/i, "").trim();
  const expected = /Expected Number of Columns:\s*(\d+)\s*Found:\s*(\d+)/i.exec(message);
  if (expected) problem = `expected ${expected[1]} fields but found ${expected[2]}`;
  else if (/unterminated quote/i.test(message)) problem = "unterminated quoted field";
  return new CsvFormatError(file, line, problem || "could not be parsed as CSV");
}
