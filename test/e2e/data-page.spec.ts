import {test, expect} from "@playwright/test";
import {openNativeDuckDB} from "../../loaders/duckdb-native.js";
import {loadCsvFile} from "../../loaders/read-csv.js";
import {profileTable} from "../../src/lib/profile.js";
import {screenshot, waitForDataset, watchRequests} from "./helpers.js";

// The numbers the page shows must equal what the engine computes in Node for the same file.
async function expectedSampleProfile() {
  const conn = await openNativeDuckDB();
  try {
    await loadCsvFile(conn, "data/sample-patients.csv", "dataset", {delimiter: ","});
    return await profileTable(conn, "dataset");
  } finally {
    conn.close();
  }
}

test("the sample loads with the engine's row count and profile, with no external requests", async ({page}) => {
  const watch = watchRequests(page);
  const expected = await expectedSampleProfile();
  await page.goto("/");
  await waitForDataset(page, "sample-patients.csv");
  await expect(page.locator("#dataset-summary")).toHaveAttribute("data-rows", String(expected.rows));
  await expect(page.locator("#row-count")).toHaveText(expected.rows.toLocaleString("en-US"));
  for (const column of expected.columns.slice(0, 6)) {
    const row = page.locator(`tr[data-column="${column.name}"]`);
    await expect(row.locator('[data-field="distinct"]')).toHaveText(column.distinct.toLocaleString("en-US"));
    await expect(row.locator('[data-field="missing"]')).toContainText(column.missing.toLocaleString("en-US"));
  }
  await expect(page.locator(".paged-preview tbody tr")).toHaveCount(15);
  await page.locator(".paged-preview-nav button[name=next]").click();
  await expect(page.locator(".paged-preview tbody tr").first().locator("td").first()).toHaveText("16");
  await screenshot(page, "data-sample");
  await page.setViewportSize({width: 800, height: 900});
  await screenshot(page, "data-sample-800");
  expect(watch.errors).toEqual([]);
  expect(watch.external).toEqual([]);
});

test("an uploaded CSV replaces the table; a malformed one is refused and the previous data stays", async ({page}) => {
  const watch = watchRequests(page);
  await page.goto("/");
  await waitForDataset(page, "sample-patients.csv");
  await page.locator("input[type=file]").setInputFiles("test/fixtures/small.csv");
  await waitForDataset(page, "small.csv");
  await expect(page.locator("#row-count")).toHaveText("3");
  await expect(page.locator("#column-count")).toHaveText("4");
  await expect(page.locator('tr[data-column="sex"] [data-field="distinct"]')).toHaveText("2");
  await expect(page.locator(".paged-preview tbody")).toContainText("94110");

  await page.locator("input[type=file]").setInputFiles("test/fixtures/malformed.csv");
  const error = page.locator(".dataset-loader-error");
  await expect(error).toBeVisible();
  await expect(error).toContainText("malformed.csv, line 3");
  await expect(error).toContainText("expected 4 fields but found 3");
  await expect(page.locator("#dataset-name")).toHaveText("small.csv");
  await expect(page.locator("#row-count")).toHaveText("3");
  await screenshot(page, "data-malformed");
  expect(watch.errors).toEqual([]);
  expect(watch.external).toEqual([]);
});
