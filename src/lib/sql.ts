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
  /**
   * Optional columnar form of `query` for large results: the same values, without one object per
   * row. Call it through `queryColumns(conn, sql)`, which falls back to `query`.
   */
  queryColumns?(sql: string): Promise<SqlColumns>;
  /**
   * Optional streaming form of `queryColumns` for results larger than memory: the result in order, a
   * chunk of columns at a time. Call it through `streamColumns(conn, sql)`, which falls back to paging.
   */
  streamColumns?(sql: string): AsyncIterable<SqlColumns>;
}

/**
 * One result column. Every entry equals the value `query` gives for that row and column. Hosts
 * return an Int32Array for integer columns of at most 32 bits without NULLs, a Float64Array for
 * other numeric columns without NULLs (BIGINT, DOUBLE, DECIMAL...: the same JS numbers as `query`),
 * and a plain array otherwise; consumers must accept all three.
 */
export type SqlColumn = SqlValue[] | Int32Array | Float64Array;

/** A result by columns: `columns[j]` (named `names[j]`, in SELECT order, duplicates kept) has `rows` entries. */
export interface SqlColumns {
  names: string[];
  columns: SqlColumn[];
  rows: number;
}

/**
 * Run a query and get its result by columns: the host's columnar reader when it has one, else the
 * rows of `query` turned into columns (then an empty result has no column names; see `columnOf`).
 */
export async function queryColumns(conn: SqlConnection, sql: string): Promise<SqlColumns> {
  if (conn.queryColumns) return conn.queryColumns(sql);
  const rows = await conn.query(sql);
  const names = rows.length ? Object.keys(rows[0]) : [];
  return {names, columns: names.map((name) => rows.map((r) => r[name])), rows: rows.length};
}

let streamCounter = 0;

/**
 * A query's result in order, `chunkRows` rows at a time (the host may give other chunk sizes): the
 * host's streaming reader when it has one, else the result stored in a temp table (DuckDB keeps an
 * ORDER BY result's order on insert) and read back in rowid ranges, so no host holds it all in JS.
 */
export async function* streamColumns(conn: SqlConnection, sql: string, {chunkRows = 100_000} = {}): AsyncIterable<SqlColumns> {
  if (conn.streamColumns) {
    yield* conn.streamColumns(sql);
    return;
  }
  const table = `__stream_${++streamCounter}`;
  await conn.exec(`CREATE OR REPLACE TEMP TABLE ${quoteIdentifier(table)} AS ${sql}`);
  try {
    const [{n}] = await conn.query(`SELECT count(*)::BIGINT AS n FROM ${quoteIdentifier(table)}`);
    for (let start = 0; start < Number(n); start += chunkRows) {
      yield await queryColumns(conn, `SELECT * FROM ${quoteIdentifier(table)} WHERE rowid >= ${start} AND rowid < ${start + chunkRows} ORDER BY rowid`);
    }
  } finally {
    await conn.exec(`DROP TABLE IF EXISTS ${quoteIdentifier(table)}`);
  }
}

/** The column called `name` (empty when there are no rows, as the row fallback cannot name columns then). */
export function columnOf(result: SqlColumns, name: string): SqlColumn {
  const j = result.names.indexOf(name);
  if (j >= 0) return result.columns[j];
  if (result.rows === 0) return [];
  throw new Error(`the result has no column "${name}" (columns: ${result.names.join(", ")})`);
}

/** A column of integers as an Int32Array (shared when it already is one); throws on NULL or non-int32 values. */
export function int32Column(column: SqlColumn, what = "column"): Int32Array {
  if (column instanceof Int32Array) return column;
  const out = new Int32Array(column.length);
  for (let i = 0; i < column.length; ++i) {
    const v = column[i];
    if (typeof v !== "number" || (v | 0) !== v) throw new Error(`${what}: row ${i} holds ${JSON.stringify(v)}, not a 32-bit integer`);
    out[i] = v;
  }
  return out;
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
