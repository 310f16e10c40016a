/**
 * The one thing the engine knows about its host: a SQL connection to DuckDB.
 * Pages hand it DuckDB-WASM (async worker), tests hand it DuckDB-WASM blocking in Node,
 * and the CLI hands it native DuckDB. Rows come back as plain objects whose integers are
 * JS numbers (never BigInt) and whose dates/timestamps are ISO strings, so results compare
 * equal across hosts.
 */
export type SqlValue = string | number | boolean | null;
export type SqlRow = Record<string, SqlValue>;

export interface SqlConnection {
  /** Run a statement that returns rows. */
  query(sql: string): Promise<SqlRow[]>;
  /** Run one or more statements for their side effects. */
  exec(sql: string): Promise<void>;
  /** Which engine this is, e.g. "duckdb-wasm" or "duckdb-native"; for reports only. */
  readonly engine: string;
}

/** Quote an identifier for DuckDB ("a""b"). */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Quote a string literal for DuckDB ('it''s'). */
export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** Normalise one value coming out of a DuckDB driver into a SqlValue. */
export function normalizeSqlValue(value: unknown): SqlValue {
  if (value === null || value === undefined) return null;
  if (typeof value === "bigint") return Number(value);
  if (typeof value === "number" || typeof value === "string" || typeof value === "boolean") return value;
  if (value instanceof Date) return value.toISOString();
  return String(value);
}
