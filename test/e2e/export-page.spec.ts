import {test, expect, type Page} from "@playwright/test";
import {execFileSync} from "node:child_process";
import {mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join, relative} from "node:path";
import {unzipSync} from "fflate";
import {screenshot, watchRequests} from "./helpers.js";

// The browser's export must be byte-identical to `deid-workbench apply` on the same file, config,
// key and export time. The CLI runs here as a separate process (native DuckDB, node:crypto HMAC).
const SAMPLE = "data/sample-patients.csv";
const KEY = "test/fixtures/export/test.key";
const OTHER_KEY = "test/fixtures/export/other.key";
const CONFIG = "test/fixtures/export/sample-config.json";
const TIME = "2026-01-31T12:00:00Z";
const FINGERPRINT = "b4262795d3ecbc6e717bc82432c16707"; // pseudonym fingerprint of test.key (deid-workbench keygen prints it)

function runCli(args: string[], env: Record<string, string> = {}): void {
  execFileSync("node", ["bin/deid-workbench.js", ...args], {stdio: ["ignore", "pipe", "pipe"], env: {...process.env, ...env}});
}

function readTree(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else files.set(relative(dir, path), readFileSync(path));
    }
  };
  walk(dir);
  return files;
}

/** The CLI's package for the same inputs, as name -> bytes. */
function cliPackage(config: string, keyArgs: string[], env: Record<string, string> = {}): Map<string, Buffer> {
  const dir = mkdtempSync(join(tmpdir(), "export-e2e-"));
  try {
    runCli(["apply", "--config", config, "--input", SAMPLE, "--out", join(dir, "pkg"), ...keyArgs, "--time", TIME, "--quiet"], env);
    return readTree(join(dir, "pkg"));
  } finally {
    rmSync(dir, {recursive: true, force: true});
  }
}

/** The zip the CLI's files make with the package's deterministic zip writer (run by tsx, like the CLI). */
function cliZip(files: Map<string, Buffer>): Buffer {
  const dir = mkdtempSync(join(tmpdir(), "export-zip-"));
  try {
    for (const [name, bytes] of files) writeFileSync(join(dir, name.replace(/\//g, "__")), bytes);
    const script = `
      import {readdirSync, readFileSync} from "node:fs";
      import {zipPackage} from "${process.cwd()}/src/lib/export-package.ts";
      const files = new Map(readdirSync(${JSON.stringify(dir)}).map((n) => [n.replace(/__/g, "/"), new Uint8Array(readFileSync(${JSON.stringify(dir)} + "/" + n))]));
      process.stdout.write(Buffer.from(await zipPackage(files, ${JSON.stringify(TIME)})).toString("base64"));`;
    writeFileSync(join(dir, "..", "zip-script.mts"), script);
    const out = execFileSync("npx", ["tsx", join(dir, "..", "zip-script.mts")], {encoding: "utf8", stdio: ["ignore", "pipe", "ignore"]});
    return Buffer.from(out, "base64");
  } finally {
    rmSync(dir, {recursive: true, force: true});
  }
}

async function openExportPage(page: Page) {
  await page.goto("/export");
  await expect(page.locator("#export-dataset-name")).toHaveText("sample-patients.csv", {timeout: 90_000});
  await expect(page.locator("#config-fields tbody tr")).toHaveCount(19);
}

async function exportAndDownload(page: Page): Promise<{zip: Buffer; files: Map<string, Buffer>}> {
  await page.locator("input[name=export-time]").fill(TIME);
  await expect(page.locator("button[name=export]")).toBeEnabled();
  await page.locator("button[name=export]").click();
  await expect(page.locator("#download-zip")).toBeVisible({timeout: 120_000});
  const [download] = await Promise.all([page.waitForEvent("download"), page.locator("#download-zip").click()]);
  const zip = readFileSync(await download.path());
  const files = new Map(Object.entries(unzipSync(new Uint8Array(zip))).map(([name, bytes]) => [name, Buffer.from(bytes)]));
  return {zip, files};
}

function expectSamePackage(browser: Map<string, Buffer>, cli: Map<string, Buffer>) {
  expect([...browser.keys()].sort()).toEqual([...cli.keys()].sort());
  expect([...browser.keys()].sort()).toEqual(["SHA256SUMS", "audit.jsonl", "config.json", "data.csv", "data.parquet", "report.html"]);
  for (const [name, bytes] of [...cli].sort(([a], [b]) => (a === "SHA256SUMS" ? 1 : b === "SHA256SUMS" ? -1 : a < b ? -1 : 1))) {
    const mine = browser.get(name)!;
    if (!mine.equals(bytes)) {
      // show the first differing line of text files, to make a failure readable
      const a = mine.toString("utf8").split("\n");
      const b = bytes.toString("utf8").split("\n");
      const i = a.findIndex((line, j) => line !== b[j]);
      expect(`${name} line ${i + 1}: ${a[i]}`).toEqual(`${name} line ${i + 1}: ${b[i]}`);
    }
    expect(mine.equals(bytes), `${name} is byte-identical`).toBe(true);
  }
}

test("export with the configuration drafted from the dictionary is byte-identical to the CLI", async ({page}) => {
  const watch = watchRequests(page);
  await openExportPage(page);
  // no levels chosen on the Explorer in a fresh browser: the page uses the search's optimum for k=5, 5% suppression
  await expect(page.locator("#config-source")).toContainText("least-loss levels");
  await expect(page.locator("#proposal-warning")).toContainText("nobody has reviewed them yet");
  await expect(page.locator('tr[data-field="patient_name"] select[name=action]')).toHaveValue("remove");
  await expect(page.locator('tr[data-field="mrn"] select[name=action]')).toHaveValue("pseudonymize");
  await expect(page.locator("#ready-error")).toContainText("give a key file or a passphrase");
  await expect(page.locator("button[name=export]")).toBeDisabled();
  await screenshot(page, "export-initial");
  await page.setViewportSize({width: 800, height: 900});
  await screenshot(page, "export-initial-800");
  await page.setViewportSize({width: 1280, height: 900});

  await page.locator("input[name=key-file]").setInputFiles(KEY);
  await expect(page.locator("#fingerprint-pseudonym")).toHaveText(FINGERPRINT);
  // the config offered for the CLI before exporting, bound to this file, key and export time
  await page.locator("input[name=export-time]").fill(TIME);
  const [configDownload] = await Promise.all([page.waitForEvent("download"), page.locator("#download-config").click()]);
  const preExportConfig = readFileSync(await configDownload.path());
  const {zip, files} = await exportAndDownload(page);
  expect(preExportConfig.equals(files.get("config.json")!), "the pre-export config.json is the one the package records").toBe(true);
  await expect(page.locator("#export-progress")).toHaveJSProperty("value", 5);
  await expect(page.locator("#export-steps li.done")).toHaveCount(5);
  await expect(page.locator("#open-report")).toHaveAttribute("href", /^blob:/);
  await expect(page.locator("#export-summary")).toContainText("2,000 records released (k = 5)");
  await screenshot(page, "export-done");
  const [report] = await Promise.all([page.waitForEvent("popup"), page.locator("#open-report").click()]);
  await expect(report.locator("body")).toContainText("Safe Harbor");
  await expect(report.locator("body")).toContainText(TIME);
  await report.screenshot({path: "test-results/screenshots/export-report.png"});
  await report.close();

  const applied = JSON.parse(files.get("config.json")!.toString("utf8"));
  // the drafted levels are the optimum the CLI's search finds (independent run of `deid-workbench search`)
  const qis = applied.inputs[0].fields.filter((f: any) => f.transform.action === "generalize" && f.role === "quasi-identifier");
  const search = JSON.parse(
    execFileSync("node", ["bin/deid-workbench.js", "search", "--input", SAMPLE, "--delimiter", ",", ...qis.flatMap((f: any) => ["--qi", `${f.name}=${applied.hierarchies[f.hierarchy].spec}`]), "--k", "5", "--suppression", "0.05", "--json"], {encoding: "utf8"})
  );
  expect(applied.levels).toEqual(search.levels);
  expect(applied.keys.fingerprints.pseudonym).toBe(FINGERPRINT);
  const audit = files.get("audit.jsonl")!.toString("utf8").trim().split("\n").map((line) => JSON.parse(line));
  expect(audit.map((e: any) => e.step)).toEqual(["configuration", "load", "transformation", "export"]);
  expect(audit[0].details).toEqual({actionsChanged: [], dictionary: "proposed by the workbench (not saved after review)", levels: "least-loss search on the export page", via: "export page"});
  expect(applied.inputs[0].sha256).toBe(execFileSync("sha256sum", [SAMPLE], {encoding: "utf8"}).split(" ")[0]);

  const dir = mkdtempSync(join(tmpdir(), "export-config-"));
  try {
    writeFileSync(join(dir, "config.json"), files.get("config.json")!);
    const cli = cliPackage(join(dir, "config.json"), ["--key-file", KEY]);
    expectSamePackage(files, cli);
    expect(cliZip(cli).equals(zip), "the zip is byte-identical to zipPackage of the CLI's files").toBe(true);
  } finally {
    rmSync(dir, {recursive: true, force: true});
  }
  expect(watch.errors).toEqual([]);
  expect(watch.external).toEqual([]);
});

test("an imported config.json gives the CLI's package for that config, byte for byte", async ({page}) => {
  const watch = watchRequests(page);
  await openExportPage(page);
  await page.locator("input[name=config-file]").setInputFiles(CONFIG);
  await expect(page.locator("#config-source")).toContainText("sample-config.json");
  await expect(page.locator('tr[data-field="phone"] [data-field="action"]')).toHaveText("redact");
  await expect(page.locator('tr[data-field="age"] [data-field="level"]')).toContainText("3");
  await page.locator("input[name=key-file]").setInputFiles(KEY);
  await expect(page.locator("#key-status")).toContainText("matches the configuration");
  const {zip, files} = await exportAndDownload(page);
  const cli = cliPackage(CONFIG, ["--key-file", KEY]);
  expectSamePackage(files, cli);
  expect(cliZip(cli).equals(zip)).toBe(true);
  expect(watch.errors).toEqual([]);
  expect(watch.external).toEqual([]);
});

test("a new key file is created in the browser, downloaded, and its fingerprint shown", async ({page}) => {
  const watch = watchRequests(page);
  await openExportPage(page);
  const [download] = await Promise.all([page.waitForEvent("download"), page.locator("button[name=new-key]").click()]);
  expect(download.suggestedFilename()).toBe("deid-workbench.key");
  const keyText = readFileSync(await download.path(), "utf8");
  expect(JSON.parse(keyText)).toMatchObject({format: "deid-workbench-key", version: 1});
  await expect(page.locator("#key-status")).toContainText("A new key file");
  const shown = await page.locator("#fingerprint-pseudonym").textContent();
  // the CLI's keygen format: `deid-workbench apply` accepts it and reports the same fingerprint on a mismatch
  const dir = mkdtempSync(join(tmpdir(), "export-newkey-"));
  try {
    writeFileSync(join(dir, "new.key"), keyText);
    let message = "";
    try {
      runCli(["apply", "--config", CONFIG, "--input", SAMPLE, "--out", join(dir, "pkg"), "--key-file", join(dir, "new.key"), "--quiet"]);
    } catch (error: any) {
      message = String(error.stderr);
    }
    expect(message).toContain(`wrong key: the pseudonym key fingerprint is ${shown}`);
  } finally {
    rmSync(dir, {recursive: true, force: true});
  }
  expect(watch.errors).toEqual([]);
  expect(watch.external).toEqual([]);
});

test("a wrong key, a malformed config and a config for another dataset are shown inline and block the export", async ({page}) => {
  const watch = watchRequests(page);
  await openExportPage(page);
  await page.locator("input[name=config-file]").setInputFiles(CONFIG);
  await page.locator("input[name=key-file]").setInputFiles(CONFIG);
  await expect(page.locator("#key-error")).toContainText("sample-config.json: not a deid-workbench key file");
  await expect(page.locator("input[name=k]")).toBeDisabled(); // an imported config is applied as it is
  await page.locator("input[name=key-file]").setInputFiles(OTHER_KEY);
  await expect(page.locator("#key-status")).toContainText("does not match the configuration");
  await expect(page.locator("#ready-error")).toContainText("wrong key: the pseudonym key fingerprint is a5798a8fb02f24d7ff42d15602aa397d but the config expects b4262795d3ecbc6e717bc82432c16707");
  await expect(page.locator("button[name=export]")).toBeDisabled();
  await screenshot(page, "export-wrong-key");

  const bad = JSON.parse(readFileSync(CONFIG, "utf8"));
  bad.inputs[0].fields[1].transform = {action: "shred"};
  await page.locator("input[name=config-file]").setInputFiles({name: "bad-config.json", mimeType: "application/json", buffer: Buffer.from(JSON.stringify(bad))});
  await expect(page.locator("#config-error")).toContainText("bad-config.json does not match the config schema");
  await expect(page.locator("#config-error")).toContainText("/inputs/0/fields/1/transform/action");
  await page.locator("input[name=config-file]").setInputFiles({name: "broken.json", mimeType: "application/json", buffer: Buffer.from("{\"format\": ")});
  await expect(page.locator("#config-error")).toContainText("broken.json: not valid JSON");
  await screenshot(page, "export-bad-config");

  const other = JSON.parse(readFileSync(CONFIG, "utf8"));
  other.inputs[0].sha256 = "0".repeat(64);
  await page.locator("input[name=config-file]").setInputFiles({name: "other-dataset.json", mimeType: "application/json", buffer: Buffer.from(JSON.stringify(other))});
  await expect(page.locator("#config-error")).toBeHidden();
  await page.locator("input[name=key-file]").setInputFiles(KEY);
  await expect(page.locator("#ready-error")).toContainText("config for a different dataset: sample-patients.csv has SHA-256");
  await expect(page.locator("button[name=export]")).toBeDisabled();
  expect(watch.errors).toEqual([]);
  expect(watch.external).toEqual([]);
});

test("a passphrase key (PBKDF2, salt recorded in config.json) gives the CLI's package with --passphrase-env", async ({page}) => {
  const watch = watchRequests(page);
  await openExportPage(page);
  await page.locator("input[name=key-source][value=passphrase]").check();
  await expect(page.locator("input[name=key-file]")).toBeHidden();
  await page.locator("input[name=passphrase]").fill("correct horse battery staple");
  await page.locator("input[name=passphrase2]").fill("correct horse battery stapler");
  await page.locator("button[name=use-passphrase]").click();
  await expect(page.locator("#key-error")).toHaveText("The two passphrases differ.");
  await page.locator("input[name=passphrase]").fill("correct horse battery staple");
  await page.locator("input[name=passphrase2]").fill("correct horse battery staple");
  await page.locator("button[name=use-passphrase]").click();
  await expect(page.locator("#fingerprint-pseudonym")).toHaveText(/^[0-9a-f]{32}$/, {timeout: 30_000});
  await expect(page.locator("#key-error")).toBeHidden();
  const fingerprint = await page.locator("#fingerprint-pseudonym").textContent();
  const {files} = await exportAndDownload(page);
  const applied = JSON.parse(files.get("config.json")!.toString("utf8"));
  expect(applied.keys.derivation).toMatchObject({source: "passphrase", kdf: "PBKDF2-HMAC-SHA256", iterations: 600000});
  expect(applied.keys.fingerprints.pseudonym).toBe(fingerprint);
  expect(files.get("config.json")!.toString("utf8")).not.toContain("correct horse");
  const dir = mkdtempSync(join(tmpdir(), "export-pass-"));
  try {
    writeFileSync(join(dir, "config.json"), files.get("config.json")!);
    expectSamePackage(files, cliPackage(join(dir, "config.json"), ["--passphrase-env", "E2E_PASSPHRASE"], {E2E_PASSPHRASE: "correct horse battery staple"}));

    // a later session: import that config.json, give the passphrase again (the recorded salt is reused) and get the same package
    await openExportPage(page);
    await page.locator("input[name=config-file]").setInputFiles(join(dir, "config.json"));
    await expect(page.locator("input[name=key-source][value=passphrase]")).toBeChecked();
    await expect(page.locator("#key-status")).toContainText(`expects the passphrase with pseudonym key fingerprint ${fingerprint}`);
    await page.locator("input[name=passphrase]").fill("correct horse battery staple");
    await page.locator("input[name=passphrase2]").fill("correct horse battery staple");
    await page.locator("button[name=use-passphrase]").click();
    await expect(page.locator("#key-status")).toContainText("matches the configuration", {timeout: 30_000});
    const again = await exportAndDownload(page);
    expectSamePackage(again.files, files);
  } finally {
    rmSync(dir, {recursive: true, force: true});
  }
  expect(watch.errors).toEqual([]);
  expect(watch.external).toEqual([]);
});

test("levels that break the privacy model are flagged before export, with the CLI's count of violating records", async ({page}) => {
  const watch = watchRequests(page);
  await openExportPage(page);
  await expect(page.locator("#model-check")).toContainText("they will be suppressed");
  await page.locator('tr[data-field="age"] input[name=level]').fill("1");
  await page.locator('tr[data-field="age"] input[name=level]').press("Enter");
  await page.locator('tr[data-field="age"] input[name=level]').blur();
  await expect(page.locator("#config-source")).toContainText("levels edited here");
  await expect(page.locator("#model-check")).toContainText("but the suppression limit allows 100");
  await page.locator("input[name=key-file]").setInputFiles(KEY);
  await expect(page.locator("#ready-error")).toContainText("the privacy model is not met");
  await expect(page.locator("button[name=export]")).toBeDisabled();
  await screenshot(page, "export-model-violated");
  const violating = Number((await page.locator("#model-check").textContent())!.match(/At these levels ([\d,]+) of/)![1].replace(/,/g, ""));

  // the CLI, given the page's config.json, refuses with the same count
  const [download] = await Promise.all([page.waitForEvent("download"), page.locator("#download-config").click()]);
  const dir = mkdtempSync(join(tmpdir(), "export-violate-"));
  try {
    let message = "";
    try {
      runCli(["apply", "--config", await download.path(), "--input", SAMPLE, "--out", join(dir, "pkg"), "--key-file", KEY, "--time", TIME, "--quiet"]);
    } catch (error: any) {
      message = String(error.stderr);
    }
    expect(message).toContain(`${violating} records violate it but the suppression limit 0.05 allows 100 of 2000`);
    expect(readdirSync(dir)).toEqual([]);
  } finally {
    rmSync(dir, {recursive: true, force: true});
  }
  // the search puts it right again, here with a tighter k (edited levels are not replaced until asked)
  await page.locator("input[name=k]").fill("0");
  await page.locator("input[name=k]").blur();
  await expect(page.locator("#config-error")).toContainText('k must be a whole number of at least 1, got "0"');
  await page.locator("input[name=k]").fill("10");
  await page.locator("input[name=k]").blur();
  await expect(page.locator("#model-check")).toContainText("violate the privacy model (k = 10), but");
  await page.locator("button[name=find-levels]").click();
  await expect(page.locator("#config-source")).toContainText("least-loss levels meeting k = 10");
  await expect(page.locator("#model-check")).toContainText("(k = 10); they will be suppressed");
  await expect(page.locator("button[name=export]")).toBeEnabled();
  expect(watch.errors).toEqual([]);
  expect(watch.external).toEqual([]);
});

test("a dataset loaded on the Data page, its saved dictionary and the Explorer's levels are what gets exported", async ({page}) => {
  const watch = watchRequests(page);
  await page.goto("/");
  await expect(page.locator("#dataset-name")).toHaveText("sample-patients.csv", {timeout: 90_000});
  await page.locator("input[type=file]").setInputFiles("test/fixtures/small.csv");
  await expect(page.locator("#dataset-name")).toHaveText("small.csv", {timeout: 60_000});
  await page.evaluate(() => {
    const dictionary = {
      version: 1,
      dataset: "small.csv",
      fields: [
        {name: "patient", role: "direct-identifier", type: "string", kind: "mrn"},
        {name: "age", role: "quasi-identifier", type: "integer", kind: "age", hierarchy: "age:5"},
        {name: "sex", role: "quasi-identifier", type: "string", kind: "sex", hierarchy: "flat"},
        {name: "zip", role: "quasi-identifier", type: "string", kind: "zip", hierarchy: "zip"}
      ]
    };
    localStorage.setItem("deid-workbench:dictionary:small.csv", JSON.stringify(dictionary));
    localStorage.setItem("deid-workbench:chosen:small.csv", JSON.stringify({levels: {age: 2, sex: 1, zip: 3}, k: 3, suppressionLimit: 0, threshold: 0.5}));
  });
  await page.goto("/export");
  await expect(page.locator("#export-dataset-name")).toHaveText("small.csv", {timeout: 90_000});
  await expect(page.locator("#config-source")).toContainText("the data dictionary saved for this dataset");
  await expect(page.locator("#proposal-warning")).toHaveCount(0);
  await expect(page.locator("#config-source")).toContainText("the levels chosen on the Explorer page");
  await expect(page.locator('tr[data-field="patient"] select[name=action]')).toHaveValue("pseudonymize");
  await expect(page.locator('tr[data-field="age"] input[name=level]')).toHaveValue("2");
  await expect(page.locator("input[name=k]")).toHaveValue("3");
  // ages 34, 51, 67 in 10-year bands are three classes of one: k = 3 is not met and nothing may be suppressed
  await expect(page.locator("#model-check")).toContainText("3 of 3 records violate the privacy model (k = 3), but the suppression limit allows 0");
  await page.locator('tr[data-field="age"] input[name=level]').fill("4");
  await page.locator('tr[data-field="age"] input[name=level]').blur();
  await expect(page.locator("#model-check")).toContainText("every record meets the privacy model (k = 3)");
  await page.locator("input[name=key-file]").setInputFiles(KEY);
  const {files} = await exportAndDownload(page);
  const csv = files.get("data.csv")!.toString("utf8").trim().split("\n");
  expect(csv[0]).toBe("patient,age,sex,zip");
  expect(csv.slice(1).map((line) => line.split(",").slice(1).join(","))).toEqual(["*,*,*", "*,*,*", "*,*,*"]);
  for (const line of csv.slice(1)) expect(line).toMatch(/^pt_[a-z2-7]{16},/);
  const dir = mkdtempSync(join(tmpdir(), "export-small-"));
  try {
    writeFileSync(join(dir, "config.json"), files.get("config.json")!);
    const cliDir = join(dir, "pkg");
    runCli(["apply", "--config", join(dir, "config.json"), "--input", "test/fixtures/small.csv", "--out", cliDir, "--key-file", KEY, "--time", TIME, "--quiet"]);
    const cli = readTree(cliDir);
    expect([...files.keys()].sort()).toEqual([...cli.keys()].sort());
    for (const [name, bytes] of cli) expect(files.get(name)!.equals(bytes), `${name} is byte-identical`).toBe(true);
  } finally {
    rmSync(dir, {recursive: true, force: true});
  }
  expect(watch.errors).toEqual([]);
  expect(watch.external).toEqual([]);
});
