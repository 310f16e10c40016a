import {test} from "node:test";
import assert from "node:assert/strict";
import {readFileSync} from "node:fs";
import {openNativeDuckDB} from "../../loaders/duckdb-native.js";
import {loadCsv} from "../../src/lib/ingest.js";
import {measurePackageUtility} from "../../src/lib/package-utility.js";
import {parseTransformConfig} from "../../src/lib/transform-config.js";

// Regression: on a 10 GB input (64M rows, ~40M distinct quasi-identifier combinations) the report's
// utility step held every combination in memory and the run was killed by the OOM killer. Past a
// limit it must now skip with a note instead, before reading any class into memory.
const DIR = new URL("../fixtures/apply/", import.meta.url).pathname;

test("regression: utility figures are skipped, with the count in the note, when the table has more classes than the limit", async () => {
  const config = parseTransformConfig(readFileSync(DIR + "config.json", "utf8"), "config.json");
  const conn = await openNativeDuckDB();
  try {
    await loadCsv(conn, DIR + "patients.csv", "src", {delimiter: ",", allText: true});
    // independent count: distinct (sex, zip, age, diagnosis) rows of the fixture, counted in JS
    const lines = readFileSync(DIR + "patients.csv", "utf8").trim().split("\n").slice(1).map((l) => l.split(","));
    const distinct = new Set(lines.map((f) => [f[4], f[5], f[6], f[7]].join("\u0000"))).size;
    await assert.rejects(measurePackageUtility(conn, config, "src", undefined, {maxClasses: distinct - 1}), new RegExp(`skipped: the table has ${distinct} distinct combinations`));
    const measured = await measurePackageUtility(conn, config, "src", undefined, {maxClasses: distinct});
    assert.ok(measured && measured.utility, "at the limit the figures are computed");
  } finally {
    conn.close();
  }
});
