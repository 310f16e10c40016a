import {test, expect} from "@playwright/test";
import {readFileSync} from "node:fs";
import {openNativeDuckDB} from "../../loaders/duckdb-native.js";
import {loadCsvFile} from "../../loaders/read-csv.js";
import {proposeDataDictionary, validateDataDictionary} from "../../src/lib/data-dictionary.js";
import {screenshot, watchRequests} from "./helpers.js";

const NAME = "sample-patients.csv";

async function expectedProposal() {
  const conn = await openNativeDuckDB();
  try {
    await loadCsvFile(conn, "data/sample-patients.csv", "dataset", {delimiter: ","});
    return await proposeDataDictionary(conn, "dataset", {dataset: NAME});
  } finally {
    conn.close();
  }
}

test.beforeEach(async ({page}) => {
  await page.addInitScript(() => {
    if (sessionStorage.getItem("seeded")) return;
    sessionStorage.setItem("seeded", "1");
    localStorage.clear();
  });
});

test("the proposal is shown per column; edits validate inline; save, reload and download keep the edits", async ({page}) => {
  test.setTimeout(180_000);
  const watch = watchRequests(page);
  const proposal = await expectedProposal();
  await page.goto("/dictionary");
  await expect(page.locator("#dataset-name")).toHaveText(NAME, {timeout: 90_000});
  const rows = page.locator(".dictionary-table tbody tr");
  await expect(rows).toHaveCount(proposal.fields.length);
  for (const f of proposal.fields) {
    await expect(page.getByLabel(`Role of ${f.name}`, {exact: true})).toHaveValue(f.role);
    await expect(page.getByLabel(`Type of ${f.name}`, {exact: true})).toHaveValue(f.type);
    await expect(page.getByLabel(`Hierarchy of ${f.name}`, {exact: true})).toHaveValue(f.hierarchy ?? "");
  }
  await expect(page.locator("#dictionary-status")).toContainText("Proposal");
  // Every field with a hierarchy gets a preview with one column per level.
  const withHierarchy = proposal.fields.filter((f) => f.hierarchy);
  await expect(page.locator(".hierarchy-preview")).toHaveCount(withHierarchy.length);
  await expect(page.locator('.hierarchy-preview[data-field="age"] thead th')).toHaveCount(5);
  await expect(page.locator('.hierarchy-preview[data-field="age"] tbody')).toContainText("90+");
  await screenshot(page, "dictionary-proposal");
  // Reload at 800 px: Framework's sidebar state is set for the width a page opens at.
  await page.setViewportSize({width: 800, height: 900});
  await page.reload();
  await expect(page.locator(".hierarchy-preview >> nth=0")).toBeVisible({timeout: 90_000});
  await screenshot(page, "dictionary-proposal-800");
  await page.setViewportSize({width: 1280, height: 900});
  await page.reload();
  await expect(page.locator(".hierarchy-preview >> nth=0")).toBeVisible({timeout: 90_000});

  // A quasi-identifier without hierarchy and a negative weight: problems inline, Save disabled.
  const ageRow = page.locator('tr[data-field="age"]');
  await page.getByLabel("Hierarchy of age", {exact: true}).fill("");
  await page.getByLabel("Hierarchy of age", {exact: true}).press("Tab");
  await expect(ageRow.locator(".field-problems")).toHaveText("a quasi-identifier needs a hierarchy");
  await page.getByLabel("Weight of bmi", {exact: true}).fill("-1");
  await page.getByLabel("Weight of bmi", {exact: true}).press("Tab");
  await expect(page.locator('tr[data-field="bmi"] .field-problems')).toHaveText("weight must be a number >= 0");
  await expect(page.locator("#dictionary-status")).toHaveText("2 problems to fix before saving");
  await expect(page.getByRole("button", {name: "Save dictionary"})).toBeDisabled();
  await screenshot(page, "dictionary-problems");

  // Fix them; make bmi a quasi-identifier (it gets a numeric hierarchy and a preview).
  await page.getByLabel("Hierarchy of age", {exact: true}).fill("age:10");
  await page.getByLabel("Hierarchy of age", {exact: true}).press("Tab");
  await page.getByLabel("Weight of bmi", {exact: true}).fill("2.5");
  await page.getByLabel("Weight of bmi", {exact: true}).press("Tab");
  await page.getByLabel("Role of bmi", {exact: true}).selectOption("quasi-identifier");
  await expect(page.getByLabel("Hierarchy of bmi", {exact: true})).toHaveValue("interval:5,10,20");
  await expect(page.locator('.hierarchy-preview[data-field="bmi"] thead th')).toHaveCount(5);
  await expect(page.locator('.hierarchy-preview[data-field="age"] thead th')).toHaveCount(4);
  await expect(page.locator("#dictionary-status")).toHaveText("Unsaved changes");
  await page.getByRole("button", {name: "Save dictionary"}).click();
  await expect(page.locator("#dictionary-status")).toHaveText("Saved in this browser");
  const saved = validateDataDictionary(JSON.parse((await page.evaluate((n) => localStorage.getItem(`deid-workbench:dictionary:${n}`), NAME))!));
  expect(saved.fields.find((f) => f.name === "age")!.hierarchy).toBe("age:10");
  expect(saved.fields.find((f) => f.name === "bmi")).toMatchObject({role: "quasi-identifier", hierarchy: "interval:5,10,20", weight: 2.5});

  const download = page.waitForEvent("download");
  await page.getByRole("button", {name: "Download JSON"}).click();
  const file = await (await download).path();
  expect(validateDataDictionary(JSON.parse(readFileSync(file, "utf8")))).toEqual(saved);

  await page.reload();
  await expect(page.getByLabel("Hierarchy of age", {exact: true})).toHaveValue("age:10", {timeout: 90_000});
  await expect(page.locator("#dictionary-status")).toHaveText("Saved in this browser");

  // Reset to the proposal.
  await page.getByRole("button", {name: "Reset to proposal"}).click();
  await expect(page.getByLabel("Hierarchy of age", {exact: true})).toHaveValue(proposal.fields.find((f) => f.name === "age")!.hierarchy!);
  await expect(page.getByLabel("Role of bmi", {exact: true})).toHaveValue(proposal.fields.find((f) => f.name === "bmi")!.role);
  await expect(page.locator("#dictionary-status")).toHaveText("Unsaved changes");
  expect(watch.errors).toEqual([]);
  expect(watch.external).toEqual([]);
});

test("ARX hierarchy files import, preview on real values, and bad ones are refused with the line", async ({page}) => {
  test.setTimeout(180_000);
  const watch = watchRequests(page);
  await page.goto("/dictionary");
  await expect(page.locator("#dataset-name")).toHaveText(NAME, {timeout: 90_000});
  await page.getByLabel("Hierarchy CSV files").setInputFiles("test/fixtures/race-hierarchy-bad.csv");
  await expect(page.locator("#arx-status")).toContainText("race-hierarchy-bad.csv: hierarchy arx:race-hierarchy-bad.csv, line 2: expected 3 levels but found 2");
  await page.getByLabel("Hierarchy CSV files").setInputFiles("test/fixtures/race-hierarchy.csv");
  await expect(page.locator("#arx-status")).toHaveText("Imported race-hierarchy.csv: 3 levels.");
  await expect(page.locator("#arx-files")).toContainText("race-hierarchy.csv");
  await page.getByLabel("Role of race", {exact: true}).selectOption("quasi-identifier");
  await page.getByLabel("Hierarchy of race", {exact: true}).fill("race-hierarchy.csv");
  await page.getByLabel("Hierarchy of race", {exact: true}).press("Tab");
  const preview = page.locator('.hierarchy-preview[data-field="race"]');
  await expect(preview.locator("thead th")).toHaveCount(3);
  await expect(preview.locator("tbody tr").first()).toHaveText("WhiteWhite*");
  await expect(preview.locator("tbody tr").last()).toHaveText("(missing)Other or unknown*");
  await expect(preview.locator("tbody")).toContainText("Other or unknown");
  await expect(preview.locator(".preview-error")).toHaveCount(0);
  await page.getByRole("button", {name: "Save dictionary"}).click();
  await expect(page.locator("#dictionary-status")).toHaveText("Saved in this browser");
  await screenshot(page, "dictionary-arx");
  // The risk page uses the saved dictionary with the imported hierarchy.
  await page.goto("/risk");
  await expect(page.locator("#risk-figures")).toBeVisible({timeout: 90_000});
  await expect(page.locator('select[data-qi="race"] option')).toHaveCount(3);
  expect(watch.errors).toEqual([]);
  expect(watch.external).toEqual([]);
});
