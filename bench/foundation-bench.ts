import {copyFileSync, mkdirSync, readFileSync, existsSync} from "node:fs";
import {chromium} from "playwright-core";
import {openNativeDuckDB} from "../loaders/duckdb-native.js";
import {openWasmDuckDBInNode} from "../loaders/duckdb-wasm-node.js";
import {loadCsv} from "../src/lib/ingest.js";
import {serveStatic} from "../scripts/serve.js";
import {generatedTable} from "./generated-tables.js";

const groupBy5 = "SELECT sex, race, ethnicity, left(zip, 3) AS zip3, year(birth_date) AS birth_year, count(*) AS n FROM bench GROUP BY ALL";
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function timeNode(open: () => Promise<any>, path: string, register: boolean) {
  const conn = await open();
  try {
    const t0 = performance.now();
    if (register) conn.registerFile("bench.csv", readFileSync(path));
    await loadCsv(conn, register ? "bench.csv" : path, "bench", {delimiter: ","});
    const loadMs = performance.now() - t0;
    const times: number[] = [];
    for (let i = 0; i < 5; ++i) {
      const s = performance.now();
      await conn.query(groupBy5);
      times.push(performance.now() - s);
    }
    return {loadMs, groupByMs: median(times)};
  } finally {
    conn.close();
  }
}

async function timeBrowser(path: string, rows: number) {
  if (!existsSync("dist/bench.html")) return null;
  mkdirSync("dist/_bench", {recursive: true});
  copyFileSync(path, `dist/_bench/patients-${rows}.csv`);
  const server = await serveStatic("dist", 3197);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
  });
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:3197/bench?file=/_bench/patients-${rows}.csv&sql=${encodeURIComponent(groupBy5)}`);
    await page.waitForFunction(() => document.querySelector("#bench-result")?.textContent?.includes("groupByMs"), null, {timeout: 300_000});
    const r = JSON.parse((await page.locator("#bench-result").textContent())!);
    return {loadMs: r.loadMs as number, groupByMs: median(r.groupByMs)};
  } finally {
    await browser.close();
    server.close();
  }
}

/** Load time and a five-column GROUP BY in the browser, in Node DuckDB-WASM and in native DuckDB; ratios to native. */
export async function benchFoundation() {
  for (const rows of [100_000, 1_000_000]) {
    const path = await generatedTable(rows);
    const native = await timeNode(openNativeDuckDB, path, false);
    const wasm = await timeNode(openWasmDuckDBInNode, path, true);
    const browser = await timeBrowser(path, rows);
    const fmt = (name: string, r: {loadMs: number; groupByMs: number} | null) =>
      r
        ? `  ${name.padEnd(22)} load ${r.loadMs.toFixed(0).padStart(6)} ms (×${(r.loadMs / native.loadMs).toFixed(1)})   group-by-5 ${r.groupByMs.toFixed(1).padStart(7)} ms (×${(r.groupByMs / native.groupByMs).toFixed(1)})`
        : `  ${name.padEnd(22)} skipped (run \`npm run build\` first)`;
    console.log(`${rows.toLocaleString("en-US")} rows (ratios against native DuckDB in this run):`);
    console.log(fmt("native DuckDB", native));
    console.log(fmt("DuckDB-WASM in Node", wasm));
    console.log(fmt("DuckDB-WASM in Chromium", browser));
  }
}
