import {test, expect, type Page} from "@playwright/test";
import {execFileSync} from "node:child_process";
import {mkdtempSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join, resolve} from "node:path";
import {openNativeDuckDB} from "../../loaders/duckdb-native.js";
import {loadCsvFile} from "../../loaders/read-csv.js";
import {proposeDataDictionary, type DataDictionary} from "../../src/lib/data-dictionary.js";
import {screenshot, watchRequests} from "./helpers.js";

const SAMPLE = "data/sample-patients.csv";
const NAME = "sample-patients.csv";

// The dictionary the page proposes for the sample, computed here with native DuckDB (typed load, as the page).
async function proposedDictionary(): Promise<DataDictionary> {
  const conn = await openNativeDuckDB();
  try {
    await loadCsvFile(conn, SAMPLE, "dataset", {delimiter: ","});
    return await proposeDataDictionary(conn, "dataset", {dataset: NAME});
  } finally {
    conn.close();
  }
}

interface Settings {
  levels: Record<string, number>;
  k: number;
  suppression: number;
  threshold: number;
  samplingFraction?: number;
}

// What the CLI prints for the same dictionary and settings: the numbers the page must show.
function cliRisk(dictionary: DataDictionary, s: Settings): any {
  const dir = mkdtempSync(join(tmpdir(), "risk-e2e-"));
  const config = join(dir, "config.json");
  writeFileSync(config, JSON.stringify({input: resolve(SAMPLE), delimiter: ",", dictionary, levels: s.levels, k: s.k, suppression: s.suppression, threshold: s.threshold}));
  const extra = s.samplingFraction ? ["--sampling-fraction", String(s.samplingFraction)] : [];
  return JSON.parse(execFileSync("node", ["bin/deid-workbench.js", "risk", "--config", config, "--json", "--classes", "25", ...extra], {encoding: "utf8", maxBuffer: 64 << 20}));
}

async function seedWorkspace(page: Page, dictionary: DataDictionary, chosen: object | null) {
  await page.addInitScript(
    ({name, dictionary, chosen}) => {
      if (sessionStorage.getItem("seeded")) return;
      sessionStorage.setItem("seeded", "1");
      localStorage.clear();
      localStorage.setItem(`deid-workbench:dictionary:${name}`, JSON.stringify(dictionary));
      if (chosen) localStorage.setItem(`deid-workbench:chosen:${name}`, JSON.stringify(chosen));
    },
    {name: NAME, dictionary, chosen}
  );
}

const value = async (page: Page, selector: string) => Number(await page.locator(selector).getAttribute("data-value"));
const close = (actual: number, expected: number, what: string) => expect(Math.abs(actual - expected), `${what}: page ${actual}, CLI ${expected}`).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(expected)));

async function expectFigures(page: Page, cli: any) {
  // Wait for the figures of exactly these settings (an earlier setting may still be on screen).
  const figures = page.locator("#risk-figures");
  await expect.poll(async () => JSON.parse((await figures.getAttribute("data-levels")) ?? "null")).toEqual(cli.levels);
  await expect(figures).toHaveAttribute("data-k", String(cli.k));
  await expect(figures).toHaveAttribute("data-threshold", String(cli.threshold));
  await expect(page.locator("#risk-k")).toHaveAttribute("data-value", String(cli.minClassSize));
  await expect(page.locator("#risk-suppressed")).toHaveAttribute("data-value", String(cli.suppressed));
  await expect(page.locator("#risk-classes")).toHaveAttribute("data-value", String(cli.classes));
  close(await value(page, "#risk-max-prosecutor"), cli.maxProsecutorRisk, "max prosecutor risk");
  close(await value(page, "#risk-records-at-risk"), cli.recordsAtRisk, "records at risk");
  close(await value(page, "#risk-marketer"), cli.marketerRisk, "marketer risk");
  close(await value(page, "#risk-unique-records"), cli.uniqueRecords, "unique records");
  await expect(page.locator("#risk-figures")).toHaveAttribute("data-anonymous", String(cli.anonymous));
  // The "what makes people unique" charts carry the CLI's driver counts in their tooltips.
  const titles = async () => (await page.locator(".card svg title").allTextContents()).join("\n");
  await expect.poll(titles).toContain(`${cli.drivers.withoutEach[0].quasiIdentifier}: unique without it ${cli.drivers.withoutEach[0].uniqueRecordsWithout}, adds ${cli.drivers.withoutEach[0].uniqueRecordsAdded}`);
  const all = await titles();
  for (const d of cli.drivers.withoutEach) expect(all).toContain(`${d.quasiIdentifier}: unique without it ${d.uniqueRecordsWithout}, adds ${d.uniqueRecordsAdded}`);
  for (const p of cli.drivers.pairs) expect(all).toContain(`${p.quasiIdentifiers[0]} + ${p.quasiIdentifiers[1]}: ${p.uniqueRecords} unique records`);
  for (const q of cli.drivers.single) expect(all).toContain(`${q.quasiIdentifiers[0]} alone: ${q.uniqueRecords} unique records`);
  for (const h of cli.classSizeHistogram.filter((h: {size: number}) => h.size <= 20)) expect(all).toContain(`size ${h.size}: ${h.classes} classes, ${h.size * h.classes} records`);
  for (const a of cli.sensitive) {
    const row = page.locator(`tr[data-attribute="${a.attribute}"]`);
    await expect(row.locator('[data-field="distinct-l"]')).toHaveAttribute("data-value", String(a.distinctL));
    close(Number(await row.locator('[data-field="entropy-l"]').getAttribute("data-value")), a.entropyL, `${a.attribute} entropy-l`);
    close(Number(await row.locator('[data-field="t-equal"]').getAttribute("data-value")), a.tClosenessEqual, `${a.attribute} t equal`);
    if (a.tClosenessOrdered !== null) close(Number(await row.locator('[data-field="t-ordered"]').getAttribute("data-value")), a.tClosenessOrdered, `${a.attribute} t ordered`);
  }
}

test("risk figures equal the CLI's for the chosen levels, and follow the threshold, k and sampling inputs", async ({page}) => {
  test.setTimeout(240_000);
  const watch = watchRequests(page);
  const dictionary = await proposedDictionary();
  const qis = dictionary.fields.filter((f) => f.role === "quasi-identifier").map((f) => f.name);
  expect(qis.length).toBeGreaterThan(2);
  const levelFor: Record<string, number> = {birth_date: 3, admission_date: 3, age: 2, zip: 2, sex: 0, race: 1, ethnicity: 1};
  const levels = Object.fromEntries(qis.map((q) => [q, levelFor[q] ?? 1]));
  const settings: Settings = {levels, k: 3, suppression: 0.1, threshold: 0.2};
  await seedWorkspace(page, dictionary, {levels, k: settings.k, suppressionLimit: settings.suppression, threshold: settings.threshold});
  await page.goto("/risk");
  await expect(page.locator("#dataset-name")).toHaveText(NAME, {timeout: 90_000});
  await expect(page.locator("#risk-figures")).toBeVisible({timeout: 90_000});
  let cli = cliRisk(dictionary, settings);
  await expectFigures(page, cli);
  await expect(page.locator(".risk-settings select[name=level]")).toHaveCount(qis.length);
  await screenshot(page, "risk-chosen");
  // Reload at 800 px: Framework's sidebar state is set for the width a page opens at.
  await page.setViewportSize({width: 800, height: 900});
  await page.reload();
  await expect(page.locator("#risk-figures")).toBeVisible({timeout: 90_000});
  await screenshot(page, "risk-chosen-800");
  await page.setViewportSize({width: 1280, height: 900});
  await page.reload();
  await expect(page.locator("#risk-figures")).toBeVisible({timeout: 90_000});

  // Threshold 5%: only the records-at-risk figure changes.
  await page.getByLabel("Risk threshold (%)").fill("5");
  cli = cliRisk(dictionary, {...settings, threshold: 0.05});
  await expect(page.locator("#risk-records-at-risk")).toHaveAttribute("data-value", String(cli.recordsAtRisk));
  await expectFigures(page, cli);

  // A coarser level for one quasi-identifier, k = 5 and a sampling fraction for journalist risk.
  const first = qis[0];
  const height = await page.locator(`select[data-qi="${first}"] option`).count();
  const coarser = Math.min(height - 1, levels[first] + 1);
  await page.locator(`select[data-qi="${first}"]`).selectOption(String(coarser));
  await page.getByLabel("k (smallest class allowed)").fill("5");
  await page.getByLabel(/Sampling fraction/).fill("0.05");
  cli = cliRisk(dictionary, {...settings, threshold: 0.05, k: 5, levels: {...levels, [first]: coarser}, samplingFraction: 0.05});
  await expect(page.locator("#risk-journalist-max")).toHaveAttribute("data-value", String(cli.journalist.maxRisk));
  await expectFigures(page, cli);

  // The page's own "reproduce with the CLI" config and command print the same figures.
  await page.getByText("Reproduce these figures with the command line").click();
  const config = JSON.parse((await page.locator("#risk-cli-config").textContent())!);
  const command = (await page.locator("#risk-cli-command").textContent())!.split(" ");
  expect(command.slice(0, 4)).toEqual(["node", "bin/deid-workbench.js", "risk", "--config"]);
  const dir = mkdtempSync(join(tmpdir(), "risk-e2e-page-"));
  writeFileSync(join(dir, "risk-config.json"), JSON.stringify({...config, input: resolve(SAMPLE)}));
  const fromPage = JSON.parse(execFileSync("node", [...command.slice(1, 4), join(dir, "risk-config.json"), ...command.slice(5)], {encoding: "utf8", maxBuffer: 64 << 20}));
  await expectFigures(page, fromPage);
  close(await value(page, "#risk-journalist-max"), fromPage.journalist.maxRisk, "journalist max risk (page config)");
  expect(watch.errors).toEqual([]);
  expect(watch.external).toEqual([]);
});

test("the smallest classes match the CLI and show their records on demand", async ({page}) => {
  test.setTimeout(240_000);
  const watch = watchRequests(page);
  const dictionary = await proposedDictionary();
  const qis = dictionary.fields.filter((f) => f.role === "quasi-identifier").map((f) => f.name);
  const flat = new Set(dictionary.fields.filter((f) => f.hierarchy === "flat").map((f) => f.name));
  const levels = Object.fromEntries(qis.map((q) => [q, q === "sex" ? 0 : flat.has(q) ? 1 : 2]));
  const settings: Settings = {levels, k: 5, suppression: 0, threshold: 0.2};
  await seedWorkspace(page, dictionary, {levels, k: 5, suppressionLimit: 0, threshold: 0.2});
  await page.goto("/risk");
  await expect(page.locator("#risk-figures")).toBeVisible({timeout: 90_000});
  const cli = cliRisk(dictionary, settings);
  await expectFigures(page, cli);
  const rows = page.locator(".classes-table tbody tr");
  await expect(rows).toHaveCount(cli.smallestClasses.length);
  for (let i = 0; i < Math.min(5, cli.smallestClasses.length); ++i) {
    await expect(rows.nth(i)).toHaveAttribute("data-size", String(cli.smallestClasses[i].size));
  }
  // The records of the 3rd smallest class: as many as its size, with the quasi-identifier values that generalize to its labels.
  const pick = Math.min(2, cli.smallestClasses.length - 1);
  await rows.nth(pick).getByRole("button").click();
  const records = page.locator("#class-records");
  await expect(records).toHaveAttribute("data-total", String(cli.smallestClasses[pick].size));
  await expect(records.locator(".records-table tbody tr")).toHaveCount(Math.min(50, cli.smallestClasses[pick].size));
  await screenshot(page, "risk-class-records");
  expect(watch.errors).toEqual([]);
  expect(watch.external).toEqual([]);
});

test("a dictionary the risk cannot use says why and links back to the Dictionary page", async ({page}) => {
  const watch = watchRequests(page);
  const dictionary = await proposedDictionary();
  const broken = {...dictionary, fields: dictionary.fields.map((f) => (f.name === "race" ? {...f, role: "quasi-identifier" as const, hierarchy: "race-hierarchy.csv"} : f))};
  await seedWorkspace(page, broken, null);
  await page.goto("/risk");
  const problem = page.locator(".risk-problem");
  await expect(problem).toContainText('quasi-identifier "race": hierarchy file race-hierarchy.csv has not been imported in this browser', {timeout: 90_000});
  await expect(problem.getByRole("link", {name: "Review the data dictionary"})).toHaveAttribute("href", "./dictionary");
  await expect(page.locator(".risk-results")).toBeHidden();
  await expect(page.locator(".observablehq--error")).toHaveCount(0);
  await screenshot(page, "risk-unusable-dictionary");
  expect(watch.errors).toEqual([]);
  expect(watch.external).toEqual([]);
});

test("without a chosen configuration every quasi-identifier starts at level 0", async ({page}) => {
  const watch = watchRequests(page);
  const dictionary = await proposedDictionary();
  const qis = dictionary.fields.filter((f) => f.role === "quasi-identifier").map((f) => f.name);
  await seedWorkspace(page, dictionary, null);
  await page.goto("/risk");
  await expect(page.locator("#risk-figures")).toBeVisible({timeout: 90_000});
  for (const q of qis) await expect(page.locator(`select[data-qi="${q}"]`)).toHaveValue("0");
  await expect(page.locator(".risk-levels-source")).toContainText("No configuration chosen on the Explorer yet");
  const zero = Object.fromEntries(qis.map((q) => [q, 0]));
  await expectFigures(page, cliRisk(dictionary, {levels: zero, k: 5, suppression: 0, threshold: 0.2}));
  // Keyboard only: Tab to the zip level, two steps down, Tab to k and type 2.
  await page.locator('select[data-qi="zip"]').focus();
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("ArrowDown");
  await expect(page.locator('select[data-qi="zip"]')).toHaveValue("2");
  const cli = cliRisk(dictionary, {levels: {...zero, zip: 2, birth_date: 3}, k: 2, suppression: 0, threshold: 0.2});
  await page.locator('select[data-qi="birth_date"]').focus();
  for (let i = 0; i < 3; ++i) await page.keyboard.press("ArrowDown");
  await page.getByLabel("k (smallest class allowed)").focus();
  await page.keyboard.press("ControlOrMeta+a");
  await page.keyboard.type("2");
  await expect(page.locator("#risk-classes")).toHaveAttribute("data-value", String(cli.classes));
  await expect(page.locator("#risk-figures")).toHaveAttribute("data-anonymous", String(cli.anonymous));
  await expectFigures(page, cli);
  expect(watch.errors).toEqual([]);
  expect(watch.external).toEqual([]);
});
