import {createRequire} from "node:module";
import * as duckdb from "@duckdb/duckdb-wasm/blocking";
import {arrowToColumns, arrowToRows} from "../src/lib/arrow-rows.js";
import type {SqlColumns, SqlConnection, SqlRow} from "../src/lib/sql.js";

const require = createRequire(import.meta.url);

/** The browser's DuckDB-WASM engine, run synchronously inside Node: used by tests to check the exact SQL pages run. */
export async function openWasmDuckDBInNode(): Promise<SqlConnection & {registerFile(name: string, bytes: Uint8Array): void; close(): void}> {
  const bundles = {
    mvp: {mainModule: require.resolve("@duckdb/duckdb-wasm/dist/duckdb-mvp.wasm"), mainWorker: ""},
    eh: {mainModule: require.resolve("@duckdb/duckdb-wasm/dist/duckdb-eh.wasm"), mainWorker: ""}
  };
  const db = await duckdb.createDuckDB(bundles, new duckdb.VoidLogger(), duckdb.NODE_RUNTIME);
  await db.instantiate();
  const connection = db.connect();
  return {
    engine: "duckdb-wasm",
    async query(sql: string): Promise<SqlRow[]> {
      return arrowToRows(connection.query(sql) as any);
    },
    async queryColumns(sql: string): Promise<SqlColumns> {
      return arrowToColumns(connection.query(sql) as any);
    },
    async exec(sql: string): Promise<void> {
      connection.query(sql);
    },
    registerFile(name: string, bytes: Uint8Array) {
      db.registerFileBuffer(name, bytes);
    },
    close() {
      connection.close();
      db.reset();
    }
  };
}
