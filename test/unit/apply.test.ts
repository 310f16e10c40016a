import {test} from "node:test";
import assert from "node:assert/strict";
import {readFileSync} from "node:fs";
import {createTextTable, HOSTS, loadCsvFile, type TestConnection} from "../helpers/hosts.js";
import {applyTransformations, outputRowsSql, yearsBefore, type ApplyResult} from "../../src/lib/apply-transformations.js";
import {deriveKeysFromSecret} from "../../src/lib/keys.js";
import {parseTransformConfig, validateTransformConfig, type TransformConfig} from "../../src/lib/transform-config.js";
import {naiveTokenFunctions} from "../naive/naive-tokens.js";

const DIR = new URL("../fixtures/apply/", import.meta.url).pathname;
const SECRET = new Uint8Array(32).fill(3);
const baseConfig = () => parseTransformConfig(readFileSync(DIR + "config.json", "utf8"));

const {naiveBody, naiveOffset} = naiveTokenFunctions(SECRET);
function addDays(date: string, days: number): string {
  const d = new Date(date.slice(0, 10) + "T00:00:00Z");
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10) + date.slice(10);
}

async function run(conn: TestConnection, config: TransformConfig, secret = SECRET): Promise<{result: ApplyResult; rows: Record<string, Record<string, string | null>[]>}> {
  await loadCsvFile(conn, DIR + "patients.csv", "src_patients", ",");
  await loadCsvFile(conn, DIR + "encounters.csv", "src_encounters", ",");
  const keys = await deriveKeysFromSecret(secret);
  const result = await applyTransformations(conn, config, {sourceTables: {patients: "src_patients", encounters: "src_encounters"}, keys});
  const rows: Record<string, Record<string, string | null>[]> = {};
  for (const t of result.tables) rows[t.table] = (await conn.query(outputRowsSql(t))) as Record<string, string | null>[];
  return {result, rows};
}

// Hand-worked (see test/fixtures/apply/config.json): levels sex=1 (*), zip=2 (ZIP3, 036/059 restricted -> 000),
// age=2 (10-year bands, 90+). Classes: 021**/40-49 = {1001,1009,1010}, 021**/30-39 = {1005,1006,1007}; the other
// four records (1002 021/90+, 1003 000/80-89, 1004 021/80-89, 1008 000/30-39) are singletons: 4 <= floor(0.5*10) are suppressed.
const EXPECTED_QIS: Record<string, [string, string, string]> = {
  "1001": ["*", "021**", "40-49"], "1009": ["*", "021**", "40-49"], "1010": ["*", "021**", "40-49"],
  "1005": ["*", "021**", "30-39"], "1006": ["*", "021**", "30-39"], "1007": ["*", "021**", "30-39"],
  "1002": ["*", "*", "*"], "1003": ["*", "*", "*"], "1004": ["*", "*", "*"], "1008": ["*", "*", "*"]
};

for (const host of HOSTS) {
  test(`[${host.name}] apply: every transformation matches a hand-worked / independent result`, async () => {
    const conn = await host.open();
    try {
      const {result, rows} = await run(conn, baseConfig());
      const source = readFileSync(DIR + "patients.csv", "utf8").trim().split("\n").slice(1).map((l) => l.split(","));
      const patients = rows.patients;
      assert.equal(patients.length, 10);
      assert.deepEqual(Object.keys(patients[0]), ["mrn", "ssn", "birth_date", "sex", "zip", "age", "diagnosis", "admitted_at", "los"], "name removed, order kept");
      for (const [mrn, , ssn, birth, , , , diagnosis, admitted, los] of source) {
        const body = naiveBody(mrn, "patient");
        const token = "pt_" + body.slice(0, 12);
        const row = patients.find((r) => r.mrn === token);
        assert.ok(row, `token for ${mrn}`);
        const offset = naiveOffset(body, 30);
        assert.ok(offset !== 0 && Math.abs(offset) <= 30);
        assert.equal(row.ssn, "#######" + ssn.slice(-4));
        assert.deepEqual([row.sex, row.zip, row.age], EXPECTED_QIS[mrn], `QIs of ${mrn}`);
        // born on or before 1936-01-01 => 90 or older on the reference date 2026-01-01
        const expectedBirth = birth === "" ? null : birth <= "1936-01-01" ? "90+" : addDays(birth, offset);
        assert.equal(row.birth_date, expectedBirth, `birth date of ${mrn}`);
        assert.equal(row.admitted_at, admitted === "" ? null : addDays(admitted, offset), "time of day kept (keepTimeOfDay)");
        assert.equal(row.diagnosis, diagnosis);
        assert.equal(row.los, los);
      }
      // encounters: same patient token and same offset as in patients; a record without mrn gets no date
      const enc = rows.encounters;
      const src = readFileSync(DIR + "encounters.csv", "utf8").trim().split("\n").slice(1).map((l) => l.split(","));
      for (const [id, mrn, visit] of src) {
        const row = enc.find((r) => r.encounter_id === "enc_" + naiveBody(id, "encounter").slice(0, 16));
        assert.ok(row, `encounter ${id}`);
        assert.equal(row.code, "[REDACTED]");
        if (mrn === "") {
          assert.equal(row.mrn, null);
          assert.equal(row.visit_date, null);
        } else {
          const body = naiveBody(mrn, "patient");
          assert.equal(row.mrn, "pt_" + body.slice(0, 12));
          assert.equal(row.visit_date, addDays(visit, naiveOffset(body, 30)));
        }
      }
      // rows come sorted by their released values
      const keys = patients.map((r) => JSON.stringify(Object.values(r).map((v) => v ?? "\uffff")));
      assert.deepEqual(keys, [...keys].sort());
      assert.deepEqual(result.statistics.topCoded, {"patients.birth_date": 2, "patients.age": 1});
      assert.deepEqual(result.statistics.datesWithoutPatient, {"encounters.visit_date": 1});
      assert.equal(result.statistics.suppressedRecords, 4);
      assert.deepEqual(result.statistics.tokensByDomain, {patient: 10, encounter: 6});
      // risk of the released table: classes of 3 and 3 over the 6 kept records
      assert.equal(result.riskAfter!.records, 10);
      assert.equal(result.riskAfter!.suppressed, 4);
      assert.equal(result.riskAfter!.classes, 2);
      assert.equal(result.riskAfter!.minClassSize, 3);
      assert.equal(result.riskAfter!.maxProsecutorRisk, 1 / 3);
      assert.equal(result.riskBefore!.minClassSize, 1);
      assert.equal(result.riskBefore!.classes, 10);
    } finally {
      conn.close();
    }
  });

  test(`[${host.name}] apply: suppressed records can be removed; redact to missing; keepTimeOfDay false drops the time`, async () => {
    const conn = await host.open();
    try {
      const config = baseConfig();
      config.privacyModel.suppressedRecords = "remove";
      config.dateShift.keepTimeOfDay = false;
      config.inputs[1].fields[3].transform = {action: "redact"};
      const {rows} = await run(conn, config);
      assert.equal(rows.patients.length, 6);
      assert.ok(rows.patients.every((r) => r.admitted_at === null || /^\d{4}-\d{2}-\d{2}$/.test(r.admitted_at)));
      assert.ok(rows.encounters.every((r) => r.code === null));
    } finally {
      conn.close();
    }
  });

  test(`[${host.name}] apply: clear errors for wrong key, missing column, unlisted column, value outside a hierarchy, bad date, unmet privacy model`, async () => {
    const conn = await host.open();
    try {
      const config = baseConfig();
      const right = await deriveKeysFromSecret(SECRET);
      config.keys = {derivation: {source: "key-file"}, fingerprints: right.fingerprints};
      await assert.rejects(run(conn, config, new Uint8Array(32).fill(4)), /wrong key: the pseudonym key fingerprint is [0-9a-f]{32} but the config expects/);

      const missing = baseConfig();
      missing.inputs[0].fields.push({name: "weight_kg", role: "feature", type: "decimal", transform: {action: "keep"}});
      await assert.rejects(run(conn, missing), /patients\.csv: missing column "weight_kg" that the config's data dictionary expects/);

      const unlisted = baseConfig();
      unlisted.inputs[0].fields = unlisted.inputs[0].fields.filter((f) => f.name !== "los");
      await assert.rejects(run(conn, unlisted), /patients\.csv: column "los" not in the config's data dictionary/);

      const uncovered = baseConfig();
      uncovered.hierarchies.sex = {kind: "table", rows: [["F", "*"]]};
      await assert.rejects(run(conn, uncovered), (e: Error) => /patients\.csv/.test(e.message) && /does not cover/.test(e.message) && /"M"/.test(e.message) && /sex/.test(e.message));

      const strict = baseConfig();
      strict.privacyModel.suppressionLimit = 0.1;
      await assert.rejects(run(conn, strict), /do not satisfy the privacy model on patients\.csv: 4 records violate it but the suppression limit 0\.1 allows 1 of 10/);
    } finally {
      conn.close();
    }
  });
}

for (const host of HOSTS) {
  test(`[${host.name}] pseudonyms of awkward values (quotes, separators, newlines, unicode) match the independent HMAC`, async () => {
    const conn = await host.open();
    try {
      const values = ["o'brien", "a\u001fb", "c\u001ed", "line\nbreak", "tab\there", "Zoë 🙂", "'; DROP TABLE x; --", " padded "];
      await createTextTable(conn, "odd", ["id"], values.map((v) => [v]));
      const config = validateTransformConfig({
        format: "deid-workbench-config", version: 1, toolVersion: "0.1.0", referenceDate: "2026-01-01",
        inputs: [{table: "odd", file: "odd.csv", delimiter: ",", fields: [{name: "id", role: "direct-identifier", type: "string", transform: {action: "pseudonymize", domain: "patient", prefix: "x_", length: 20}}]}],
        hierarchies: {}, levels: {}, privacyModel: {suppressionLimit: 0, riskThreshold: 0.2},
        restrictedZip3: {name: "none", codes: []}, dateShift: {maxDays: 10, keepTimeOfDay: false}
      });
      const result = await applyTransformations(conn, config, {sourceTables: {odd: "odd"}, keys: await deriveKeysFromSecret(SECRET)});
      const rows = await conn.query(outputRowsSql(result.tables[0]));
      assert.deepEqual(rows.map((r) => r.id).sort(), values.map((v) => "x_" + naiveBody(v, "patient").slice(0, 20)).sort());
    } finally {
      conn.close();
    }
  });
}

test("bad dates name the file, data row and field", async () => {
  const conn = await HOSTS[0].open();
  try {
    await conn.exec(`CREATE TABLE p AS SELECT * FROM (VALUES ('1', '2020-01-01'), ('2', '01/02/2020')) t(mrn, d)`);
    const config = validateTransformConfig({
      format: "deid-workbench-config", version: 1, toolVersion: "0.1.0", referenceDate: "2026-01-01",
      inputs: [{table: "p", file: "p.csv", delimiter: ",", patientField: "mrn", fields: [
        {name: "mrn", role: "direct-identifier", type: "string", transform: {action: "pseudonymize"}},
        {name: "d", role: "feature", type: "date", transform: {action: "date-shift"}}]}],
      hierarchies: {}, levels: {}, privacyModel: {suppressionLimit: 0, riskThreshold: 0.2},
      restrictedZip3: {name: "none", codes: []}, dateShift: {maxDays: 10, keepTimeOfDay: false}
    });
    await assert.rejects(
      applyTransformations(conn, config, {sourceTables: {p: "p"}, keys: await deriveKeysFromSecret(SECRET)}),
      /p\.csv, data row 2, field "d": value "01\/02\/2020" is not an ISO date/
    );
  } finally {
    conn.close();
  }
});

test("config validation: schema and meaning errors are specific", () => {
  const good = JSON.parse(readFileSync(DIR + "config.json", "utf8"));
  const bad1 = structuredClone(good);
  bad1.inputs[0].fields[0].transform = {action: "keep"};
  assert.throws(() => validateTransformConfig(bad1), /field "mrn": role direct-identifier does not allow action "keep"/);
  const bad2 = structuredClone(good);
  bad2.levels.zip = 9;
  bad2.inputs[0].fields[5].transform.bogus = 1;
  assert.throws(() => validateTransformConfig(bad2), /does not match the config schema/);
  const bad3 = structuredClone(good);
  delete bad3.inputs[1].patientField;
  assert.throws(() => validateTransformConfig(bad3), /table "encounters" shifts dates but names no patientField/);
  const bad4 = structuredClone(good);
  bad4.referenceDate = "2026-02-30";
  assert.throws(() => validateTransformConfig(bad4), /referenceDate must be a valid date/);
});

test("yearsBefore: 90 years before the reference date, leap day clamped", () => {
  assert.equal(yearsBefore("2026-01-01", 90), "1936-01-01");
  assert.equal(yearsBefore("2024-02-29", 90), "1934-02-28");
  assert.equal(yearsBefore("2020-02-29", 90), "1930-02-28");
  assert.equal(yearsBefore("2026-02-29".replace("29", "28"), 90), "1936-02-28");
});

test("TOOL_VERSION equals package.json version", async () => {
  const {TOOL_VERSION} = await import("../../src/lib/transform-config.js");
  assert.equal(TOOL_VERSION, JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")).version);
});
