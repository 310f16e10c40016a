import {test, expect} from "@playwright/test";
import {execFileSync} from "node:child_process";
import {openNativeDuckDB} from "../../loaders/duckdb-native.js";
import {loadCsvFile} from "../../loaders/read-csv.js";
import {resolveHierarchy} from "../../loaders/hierarchy-files.js";
import {fieldsWithRole, proposeDataDictionary} from "../../src/lib/data-dictionary.js";
import {computeRiskSummary} from "../../src/lib/risk.js";
import {screenshot, watchRequests} from "./helpers.js";

const sample = "data/sample-patients.csv";

/** The proposed quasi-identifiers of the sample, as the page uses them, computed in Node. */
async function sampleQuasiIdentifiers() {
  const conn = await openNativeDuckDB();
  try {
    await loadCsvFile(conn, sample, "dataset", {delimiter: ","});
    const dictionary = await proposeDataDictionary(conn, "dataset");
    return fieldsWithRole(dictionary, "quasi-identifier").map((f) => ({name: f.name, spec: f.hierarchy ?? "flat"}));
  } finally {
    conn.close();
  }
}

async function engineRisk(levels: Record<string, number>, k: number, suppressionLimit: number) {
  const qis = await sampleQuasiIdentifiers();
  const conn = await openNativeDuckDB();
  try {
    await loadCsvFile(conn, sample, "dataset", {delimiter: ","});
    return await computeRiskSummary(conn, {table: "dataset", quasiIdentifiers: qis.map((q) => ({name: q.name, hierarchy: resolveHierarchy(q.spec)})), levels, k, suppressionLimit, threshold: 0.2, drivers: false});
  } finally {
    conn.close();
  }
}

async function openExplorer(page: import("@playwright/test").Page) {
  await page.goto("/explorer");
  await expect(page.locator("#fig-k")).toBeVisible({timeout: 90_000});
}

test("moving sliders shows the engine's k, suppressed records and max risk for that node", async ({page}) => {
  const watch = watchRequests(page);
  const qis = await sampleQuasiIdentifiers();
  await openExplorer(page);
  const levels: Record<string, number> = Object.fromEntries(qis.map((q) => [q.name, 0]));
  // A node with suppression within the 5% limit and one without: year of birth, ZIP3, 20-year age bands…
  const moves: Record<string, number> = {birth_date: 3, zip: 2, admission_date: 3, age: 2};
  for (const [name, level] of Object.entries(moves)) {
    if (!(name in levels)) continue;
    await page.locator(`input[type=range][data-qi="${name}"]`).fill(String(level));
    levels[name] = level;
  }
  const expected = await engineRisk(levels, 5, 0.05);
  await expect(page.locator(".explorer-figures")).toHaveAttribute("data-levels", JSON.stringify(levels));
  await expect(page.locator("#fig-k")).toHaveAttribute("data-value", String(expected.minClassSize));
  await expect(page.locator("#fig-suppressed")).toHaveAttribute("data-value", String(expected.suppressed));
  await expect(page.locator("#fig-max-risk")).toHaveAttribute("data-value", String(expected.maxProsecutorRisk));
  await expect(page.locator("#fig-classes")).toHaveAttribute("data-value", String(expected.classes));
  expect(Number(await page.locator("#fig-at-risk").getAttribute("data-value"))).toBeCloseTo(expected.recordsAtRisk, 12);
  await screenshot(page, "explorer-1280");
  await page.setViewportSize({width: 800, height: 900});
  await screenshot(page, "explorer-800");
  expect(watch.errors).toEqual([]);
  expect(watch.external).toEqual([]);
});

test("Find optimum moves the sliders to the CLI's optimum; pinned configurations are compared", async ({page}) => {
  const qis = await sampleQuasiIdentifiers();
  const cli = JSON.parse(
    execFileSync("node", ["bin/deid-workbench.js", "search", "--input", sample, "--delimiter", ",", ...qis.flatMap((q) => ["--qi", `${q.name}=${q.spec}`]), "--k", "5", "--suppression", "0.05", "--metric", "precision", "--json"], {encoding: "utf8"})
  );
  await openExplorer(page);
  await page.getByRole("button", {name: "Pin current configuration"}).click();
  await page.getByRole("button", {name: "Find optimum"}).click();
  await expect(page.locator(".optimum-status")).toContainText("Optimum found", {timeout: 90_000});
  for (const q of qis) await expect(page.locator(`input[type=range][data-qi="${q.name}"]`)).toHaveValue(String(cli.levels[q.name]));
  await expect(page.locator(".explorer-figures")).toHaveAttribute("data-levels", JSON.stringify(cli.levels));
  await expect(page.locator("#fig-suppressed")).toHaveAttribute("data-value", String(cli.measurements.suppressed));
  await page.getByRole("button", {name: "Pin current configuration"}).click();
  const table = page.locator(".pin-table");
  await expect(table.locator("thead th")).toHaveCount(3);
  const row = (name: string) => table.locator("tbody tr", {has: page.locator(`th:text-is("${name}")`)}).locator("td");
  await expect(row("Satisfies model")).toHaveText(["no", "yes"]);
  await expect(row("Suppressed").nth(0)).toHaveText("0");
  await expect(row("Suppressed").nth(1)).toHaveText(String(cli.measurements.suppressed));
  await expect(row("Smallest class").nth(1)).toHaveText(String(cli.measurements.minClassSize));
  await row("ML utility (AUC ratio)").nth(1).getByRole("button", {name: "Compute"}).click();
  await expect(row("ML utility (AUC ratio)").nth(1)).toHaveText(/^\d\.\d{3} \(0\.\d{3} \/ 0\.\d{3}\)$/, {timeout: 60_000});
  await expect(page.locator("#frontier-card svg[viewBox]")).toBeVisible();
  await screenshot(page, "explorer-optimum");
});
