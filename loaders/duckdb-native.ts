import {DuckDBInstance, DuckDBTypeId, JSDuckDBValueConverter, type DuckDBDataChunk} from "@duckdb/node-api";
import {normalizeSqlValue, type SqlColumn, type SqlColumns, type SqlConnection, type SqlRow, type SqlValue} from "../src/lib/sql.js";

/** Native DuckDB (@duckdb/node-api): the CLI's engine, for speed and files larger than a browser holds. */
export async function openNativeDuckDB(path = ":memory:", options?: Record<string, string>): Promise<SqlConnection & {close(): void}> {
  const instance = await DuckDBInstance.create(path, options);
  const connection = await instance.connect();
  return {
    engine: "duckdb-native",
    async query(sql: string): Promise<SqlRow[]> {
      const reader = await connection.runAndReadAll(sql);
      const columns = reader.columnNames();
      const rows = reader.getRowsJS();
      return rows.map((values) => {
        const row: SqlRow = {};
        columns.forEach((c, i) => (row[c] = normalizeNative(values[i])));
        return row;
      });
    },
    async queryColumns(sql: string): Promise<SqlColumns> {
      const result = await connection.run(sql);
      const chunks: DuckDBDataChunk[] = [];
      for (let c = 0; c < result.chunkCount; ++c) chunks.push(result.getChunk(c));
      const rows = chunks.reduce((n, chunk) => n + chunk.rowCount, 0);
      const columns = result.columnNames().map((_, j) => readNativeColumn(chunks, j, result.columnTypeId(j), rows));
      return {names: result.columnNames(), columns, rows};
    },
    async *streamColumns(sql: string): AsyncIterable<SqlColumns> {
      const result = await connection.stream(sql);
      const names = result.columnNames();
      const types = names.map((_, j) => result.columnTypeId(j));
      for (;;) {
        const chunk = await result.fetchChunk();
        if (!chunk || chunk.rowCount === 0) return;
        // VARCHAR columns come straight from getColumnValues (4x faster than the value converter)
        const columns = names.map((_, j) => (types[j] === DuckDBTypeId.VARCHAR ? (chunk.getColumnValues(j) as SqlValue[]) : readNativeColumn([chunk], j, types[j], chunk.rowCount)));
        yield {names, columns, rows: chunk.rowCount};
      }
    },
    async exec(sql: string): Promise<void> {
      await connection.run(sql);
    },
    close() {
      connection.closeSync();
      instance.closeSync();
    }
  };
}

const INT32_TYPES = new Set([DuckDBTypeId.TINYINT, DuckDBTypeId.SMALLINT, DuckDBTypeId.INTEGER, DuckDBTypeId.UTINYINT, DuckDBTypeId.USMALLINT]);
const NUMERIC_TYPES = new Set([DuckDBTypeId.BIGINT, DuckDBTypeId.UINTEGER, DuckDBTypeId.UBIGINT, DuckDBTypeId.HUGEINT, DuckDBTypeId.UHUGEINT, DuckDBTypeId.FLOAT, DuckDBTypeId.DOUBLE, DuckDBTypeId.DECIMAL]);

/** One column of a materialized result, with the values `query` gives (typed arrays when there are no NULLs). */
function readNativeColumn(chunks: DuckDBDataChunk[], j: number, type: DuckDBTypeId, rows: number): SqlColumn {
  if (INT32_TYPES.has(type)) {
    const out = new Int32Array(rows);
    let o = 0;
    let hasNull = false;
    for (const chunk of chunks) {
      const vector = chunk.getColumnVector(j);
      const n = chunk.rowCount;
      for (let i = 0; i < n; ++i) {
        const v = vector.getItem(i) as number | null;
        if (v === null) {
          hasNull = true;
          break;
        }
        out[o++] = v;
      }
      if (hasNull) break;
    }
    if (!hasNull) return out;
  }
  const values: SqlValue[] = new Array(rows);
  let o = 0;
  let hasNull = false;
  for (const chunk of chunks)
    for (const v of chunk.convertColumnValues(j, JSDuckDBValueConverter)) {
      const value = normalizeNative(v);
      if (value === null) hasNull = true;
      values[o++] = value;
    }
  return NUMERIC_TYPES.has(type) && !hasNull ? Float64Array.from(values as number[]) : values;
}

function normalizeNative(value: unknown) {
  if (value instanceof Date) return value.toISOString().slice(0, isMidnightUtc(value) ? 10 : 19).replace("T", " ");
  if (Array.isArray(value) || (value && typeof value === "object")) return JSON.stringify(value, (_k, x) => (typeof x === "bigint" ? Number(x) : x));
  return normalizeSqlValue(value);
}

function isMidnightUtc(d: Date) {
  return d.getUTCHours() === 0 && d.getUTCMinutes() === 0 && d.getUTCSeconds() === 0 && d.getUTCMilliseconds() === 0;
}
