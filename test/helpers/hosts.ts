/** Test helpers: run the same engine test on native DuckDB and on DuckDB-WASM in Node. */
import {readFileSync} from "node:fs";
import {openNativeDuckDB} from "../../loaders/duckdb-native.js";
import {openWasmDuckDBInNode} from "../../loaders/duckdb-wasm-node.js";
import {loadCsv} from "../../src/lib/ingest.js";
import {quoteIdentifier, quoteLiteral, type SqlConnection} from "../../src/lib/sql.js";

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

export type TestConnection = SqlConnection & {close(): void; registerFile?(name: string, bytes: Uint8Array): void};

export const HOSTS: {name: string; open: () => Promise<TestConnection>}[] = [
  {name: "native", open: openNativeDuckDB},
  {name: "wasm", open: openWasmDuckDBInNode}
];

/** Create `table` with all-VARCHAR columns from rows (null = SQL NULL). */
export async function createTextTable(conn: SqlConnection, table: string, columns: string[], rows: (string | null)[][]): Promise<void> {
  await conn.exec(`CREATE OR REPLACE TABLE ${quoteIdentifier(table)} (${columns.map((c) => `${quoteIdentifier(c)} VARCHAR`).join(", ")})`);
  for (let i = 0; i < rows.length; i += 500) {
    const values = rows.slice(i, i + 500).map((r) => `(${r.map((v) => (v === null ? "NULL" : quoteLiteral(v))).join(", ")})`);
    await conn.exec(`INSERT INTO ${quoteIdentifier(table)} VALUES ${values.join(", ")}`);
  }
}

/** Load a CSV from disk on either host (wasm: registered under its base name). */
export async function loadCsvFile(conn: TestConnection, path: string, table: string, delimiter: string): Promise<void> {
  let ref = path;
  if (conn.registerFile) {
    ref = path.split("/").pop()!;
    conn.registerFile(ref, readFileSync(path));
  }
  await loadCsv(conn, ref, table, {delimiter, allText: true});
}

/** Compare numbers with a relative/absolute tolerance, recursively through objects and arrays. */
export function assertClose(actual: unknown, expected: unknown, path = "", tolerance = 1e-9): void {
  if (typeof expected === "number" && typeof actual === "number") {
    if (Number.isInteger(expected) && Number.isInteger(actual) && Math.abs(expected) < 2 ** 52) {
      if (actual !== expected) throw new Error(`${path}: expected ${expected}, got ${actual}`);
      return;
    }
    const diff = Math.abs(actual - expected);
    if (!(diff <= tolerance * Math.max(1, Math.abs(expected)))) throw new Error(`${path}: expected ${expected}, got ${actual}`);
    return;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) throw new Error(`${path}: expected array of ${expected.length}, got ${JSON.stringify(actual)?.slice(0, 200)}`);
    expected.forEach((e, i) => assertClose(actual[i], e, `${path}[${i}]`, tolerance));
    return;
  }
  if (expected && typeof expected === "object") {
    if (!actual || typeof actual !== "object") throw new Error(`${path}: expected object, got ${JSON.stringify(actual)}`);
    for (const [k, e] of Object.entries(expected)) assertClose((actual as any)[k], e, `${path}.${k}`, tolerance);
    return;
  }
  if (actual !== expected) throw new Error(`${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}
