import * as duckdb from "@duckdb/duckdb-wasm";
import {arrowToColumns, arrowToRows} from "../lib/arrow-rows.js";
import type {SqlColumns, SqlConnection, SqlRow} from "../lib/sql.js";

/**
 * The self-hosted DuckDB-WASM bundles: Framework copies these files from node_modules into
 * dist/_node at build time. Workers bundled by vite cannot resolve them, so pages pass these URLs on.
 */
export function duckdbBundles(): duckdb.DuckDBBundles {
  return {
    mvp: {
      mainModule: import.meta.resolve("@duckdb/duckdb-wasm/dist/duckdb-mvp.wasm"),
      mainWorker: import.meta.resolve("@duckdb/duckdb-wasm/dist/duckdb-browser-mvp.worker.js")
    },
    eh: {
      mainModule: import.meta.resolve("@duckdb/duckdb-wasm/dist/duckdb-eh.wasm"),
      mainWorker: import.meta.resolve("@duckdb/duckdb-wasm/dist/duckdb-browser-eh.worker.js")
    }
  };
}

export interface BrowserDuckDB extends SqlConnection {
  db: duckdb.AsyncDuckDB;
  /** Note: DuckDB-WASM takes ownership of `bytes` (the buffer is transferred and emptied here). */
  registerFile(name: string, bytes: Uint8Array): Promise<void>;
  dropFile(name: string): Promise<void>;
  terminate(): Promise<void>;
}

/**
 * Start DuckDB-WASM in its own worker and wrap one connection in the engine's SqlConnection.
 * Used by the pages (with `duckdbBundles()`) and by workers (with the URLs a page sent them).
 */
export async function createBrowserDuckDB(bundles: duckdb.DuckDBBundles = duckdbBundles()): Promise<BrowserDuckDB> {
  const bundle = await duckdb.selectBundle(bundles);
  // Framework rewrites the worker script into an ES module, so it must be started as one.
  const worker = new Worker(bundle.mainWorker!, {type: "module"});
  const db = new duckdb.AsyncDuckDB(new duckdb.VoidLogger(), worker);
  await db.instantiate(bundle.mainModule, bundle.pthreadWorker);
  const connection = await db.connect();
  // Serialise statements: the page fires queries from several cells and one connection must not interleave them.
  let queue: Promise<unknown> = Promise.resolve();
  const enqueue = <T>(task: () => Promise<T>): Promise<T> => {
    const next = queue.then(task, task);
    queue = next.catch(() => {});
    return next;
  };
  return {
    engine: "duckdb-wasm",
    db,
    query: (sql: string): Promise<SqlRow[]> => enqueue(async () => arrowToRows((await connection.query(sql)) as any)),
    queryColumns: (sql: string): Promise<SqlColumns> => enqueue(async () => arrowToColumns((await connection.query(sql)) as any)),
    exec: (sql: string): Promise<void> => enqueue(async () => void (await connection.query(sql))),
    registerFile: (name, bytes) => db.registerFileBuffer(name, bytes),
    dropFile: async (name) => void (await db.dropFile(name)),
    async terminate() {
      await connection.close().catch(() => {});
      await db.terminate();
    }
  };
}
