import {openNativeDuckDB} from "../../loaders/duckdb-native.js";
import {openWasmDuckDBInNode} from "../../loaders/duckdb-wasm-node.js";
import type {SqlConnection} from "../../src/lib/sql.js";

export type TestHost = SqlConnection & {close(): void; loadText(name: string, text: string): Promise<string>};

/** Both engines the engine must agree on: DuckDB-WASM (as in the browser) and native DuckDB (as in the CLI). */
export const hostNames = ["duckdb-wasm", "duckdb-native"] as const;

export async function openHost(name: (typeof hostNames)[number]): Promise<TestHost> {
  if (name === "duckdb-wasm") {
    const conn = await openWasmDuckDBInNode();
    return Object.assign(conn, {
      async loadText(fileName: string, text: string) {
        conn.registerFile(fileName, new TextEncoder().encode(text));
        return fileName;
      }
    });
  }
  const conn = await openNativeDuckDB();
  const {mkdtempSync, writeFileSync} = await import("node:fs");
  const {join} = await import("node:path");
  const {tmpdir} = await import("node:os");
  const dir = mkdtempSync(join(tmpdir(), "deid-test-"));
  return Object.assign(conn, {
    async loadText(fileName: string, text: string) {
      const path = join(dir, fileName.replace(/[\\/]/g, "_"));
      writeFileSync(path, text);
      return path;
    }
  });
}
