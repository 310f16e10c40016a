import {copyFileSync, existsSync, mkdirSync} from "node:fs";
import {chromium} from "playwright-core";
import {serveStatic} from "../scripts/serve.js";
import {generatedTable} from "./generated-tables.js";

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];

/**
 * Drag the explorer's sliders in Chromium and time each input event to the redrawn figures
 * (p50/p95), against recomputing the same node from the raw rows with SQL in DuckDB-WASM.
 */
export async function benchExplorer() {
  if (!existsSync("dist/explorer.html")) return console.log("skipped: run `npm run build` first");
  const server = await serveStatic("dist", 3198);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
  });
  try {
    for (const rows of [100_000, 1_000_000]) {
      const path = await generatedTable(rows);
      mkdirSync("dist/_bench", {recursive: true});
      copyFileSync(path, `dist/_bench/patients-${rows}.csv`);
      const page = await browser.newPage();
      const t0 = Date.now();
      await page.goto(`http://127.0.0.1:3198/explorer?dataset=/_bench/patients-${rows}.csv`);
      await page.locator("#fig-k").waitFor({timeout: 600_000});
      const setupSeconds = (Date.now() - t0) / 1000;
      const sliders = page.locator("input[type=range][data-qi]");
      const count = await sliders.count();
      await page.evaluate(() => ((window as any).__explorerLatency = []));
      const positions: Record<string, number>[] = [];
      for (let round = 0; round < 3; ++round) {
        for (let i = 0; i < count; ++i) {
          const slider = sliders.nth(i);
          const max = Number(await slider.getAttribute("max"));
          // As a user does: reach for the slider (hover) before dragging it.
          await slider.hover();
          await page.waitForFunction(() => (window as any).__explorerPrecomputePending() === 0, null, {timeout: 120_000});
          for (let level = 1; level <= max; ++level) {
            await slider.fill(String(level));
            await page.waitForFunction((n) => (window as any).__explorerLatency.length >= n, positions.length + 1);
            positions.push(JSON.parse((await page.locator(".explorer-figures").getAttribute("data-levels"))!));
          }
          await slider.fill("0");
          await page.waitForFunction((n) => (window as any).__explorerLatency.length >= n, positions.length + 1);
          positions.push(JSON.parse((await page.locator(".explorer-figures").getAttribute("data-levels"))!));
        }
      }
      const latencies: number[] = await page.evaluate(() => (window as any).__explorerLatency);
      const baseline: number[] = [];
      for (const levels of positions.slice(0, 8)) baseline.push(await page.evaluate(([l]) => (window as any).__explorerBench.recomputeFromRows(l, 5, 0.05), [levels] as const));
      const p50 = quantile(latencies, 0.5);
      const p95 = quantile(latencies, 0.95);
      const b50 = quantile(baseline, 0.5);
      console.log(
        `${rows.toLocaleString("en-US")} rows, ${count} QIs: setup ${setupSeconds.toFixed(1)} s; slider → redraw over ${latencies.length} moves: p50 ${p50.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms (target p95 < 100 ms); ` +
          `recompute from raw rows (SQL) p50 ${b50.toFixed(0)} ms → rollup is ×${(b50 / p50).toFixed(0)} faster at p50`
      );
      await page.close();
    }
  } finally {
    await browser.close();
    server.close();
  }
}
