import {DuckDBInstance} from "@duckdb/node-api";
import {normalizeSqlValue, type SqlConnection, type SqlRow} from "../src/lib/sql.js";

/** Native DuckDB (@duckdb/node-api): the CLI's engine, for speed and files larger than a browser holds. */
export async function openNativeDuckDB(path = ":memory:"): Promise<SqlConnection & {close(): void}> {
  const instance = await DuckDBInstance.create(path);
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
    async exec(sql: string): Promise<void> {
      await connection.run(sql);
    },
    close() {
      connection.closeSync();
      instance.closeSync();
    }
  };
}

function normalizeNative(value: unknown) {
  if (value instanceof Date) return value.toISOString().slice(0, isMidnightUtc(value) ? 10 : 19).replace("T", " ");
  if (Array.isArray(value) || (value && typeof value === "object")) return JSON.stringify(value, (_k, x) => (typeof x === "bigint" ? Number(x) : x));
  return normalizeSqlValue(value);
}

function isMidnightUtc(d: Date) {
  return d.getUTCHours() === 0 && d.getUTCMinutes() === 0 && d.getUTCSeconds() === 0 && d.getUTCMilliseconds() === 0;
}
