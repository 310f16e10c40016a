import {expect, type Page} from "@playwright/test";
import {mkdirSync} from "node:fs";

/** Record every request; the app must never talk to a host other than the local server. */
export function watchRequests(page: Page) {
  const external: string[] = [];
  const errors: string[] = [];
  page.on("request", (r) => {
    const url = new URL(r.url());
    if (!["127.0.0.1", "localhost"].includes(url.hostname) && !["data:", "blob:"].includes(url.protocol)) external.push(r.url());
  });
  page.on("pageerror", (e) => errors.push(String(e)));
  return {external, errors};
}

export async function screenshot(page: Page, name: string) {
  mkdirSync("test-results/screenshots", {recursive: true});
  await page.screenshot({path: `test-results/screenshots/${name}.png`, fullPage: true});
}

export async function waitForDataset(page: Page, name: string) {
  await expect(page.locator("#dataset-name")).toHaveText(name, {timeout: 90_000});
}
