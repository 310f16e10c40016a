import {test} from "node:test";
import assert from "node:assert/strict";
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {gunzipSync} from "node:zlib";
import {spawnSync} from "node:child_process";
import {fileURLToPath} from "node:url";
import {
  civilFromDays,
  daysFromCivil,
  exactExp,
  formatCsvField,
  formatCsvRecord,
  formatPatientsCsv,
  generatePatients,
  generatePatientsCsv,
  patientColumns,
  sampleDiagnosisCodes,
  type PatientRecord
} from "../../src/lib/sample-data.js";
import {loadCsv} from "../../src/lib/ingest.js";
import {openNativeDuckDB} from "../../loaders/duckdb-native.js";
import {openWasmDuckDBInNode} from "../../loaders/duckdb-wasm-node.js";

const SHARED = "/work/shared/data";
const csvOf = (rows: number, seed: number) => [...generatePatientsCsv({rows, seed})].join("");
const N = 20_000;
const rows: PatientRecord[] = [...generatePatients({rows: N, seed: 1})];
const share = (pred: (r: PatientRecord) => boolean, of: PatientRecord[] = rows) => of.filter(pred).length / of.length;
const nums = (col: string, of: PatientRecord[] = rows) => of.map((r) => r[col]).filter((v): v is number => typeof v === "number");
const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;

test("sample-data: same seed gives byte-identical CSV, other seeds differ, smaller tables are prefixes", () => {
  const a = csvOf(3000, 1);
  assert.equal(csvOf(3000, 1), a);
  assert.notEqual(csvOf(3000, 2), a);
  const small = csvOf(1000, 1);
  assert.ok(a.startsWith(small));
  assert.equal(small.split("\n").length, 1000 + 2); // header + rows + the empty string after the last \n
  assert.equal(csvOf(0, 1), patientColumns.map((c) => c.name).join(",") + "\n");
});

test("sample-data: data/sample-patients.csv is exactly generate --rows 2000 --seed 1", () => {
  const file = new URL("../../data/sample-patients.csv", import.meta.url);
  assert.ok(existsSync(file), "data/sample-patients.csv is missing: run npx tsx scripts/generate-sample.ts");
  assert.equal(readFileSync(file, "utf8"), csvOf(2000, 1), "the shipped sample is stale: run npx tsx scripts/generate-sample.ts");
});

test("sample-data: rejects bad sizes and seeds", () => {
  assert.throws(() => [...generatePatients({rows: -1})], /rows must be a non-negative integer/);
  assert.throws(() => [...generatePatients({rows: 1.5})], /rows must be a non-negative integer/);
  assert.throws(() => [...generatePatients({rows: 90_000_001})], /at most/);
  assert.throws(() => [...generatePatients({rows: 1, seed: 0.5})], /seed must be an integer/);
});

test("sample-data: every record has the columns of patientColumns, in order, with the declared value kinds", () => {
  const names = patientColumns.map((c) => c.name);
  for (const r of rows.slice(0, 500)) {
    assert.deepEqual(Object.keys(r), names);
    for (const c of patientColumns) {
      const v = r[c.name];
      if (v === null) continue;
      if (c.type === "BIGINT") assert.ok(Number.isInteger(v), `${c.name}=${v}`);
      else if (c.type === "DOUBLE") assert.equal(typeof v, "number");
      else if (c.type === "DATE") assert.match(String(v), /^\d{4}-\d{2}-\d{2}$/);
      else assert.equal(typeof v, "string");
    }
  }
});

test("sample-data: direct identifiers have the documented formats; MRNs are unique 8-digit numbers", () => {
  assert.equal(new Set(rows.map((r) => r.mrn)).size, N);
  for (const r of rows) {
    assert.ok(Number(r.mrn) >= 10_000_000 && Number(r.mrn) <= 99_999_999, `mrn ${r.mrn}`);
    assert.match(String(r.patient_name), /^[A-Z][a-z]+( [A-Z]\.)? [A-Z][a-z]+$/);
    if (r.ssn !== null) {
      assert.match(String(r.ssn), /^\d{3}-\d{2}-\d{4}$/);
      const [area, group, serial] = String(r.ssn).split("-");
      assert.ok(area !== "000" && area !== "666" && Number(area) < 900 && group !== "00" && serial !== "0000", `ssn ${r.ssn}`);
    }
    if (r.phone !== null) assert.match(String(r.phone), /^\(\d{3}\) 555-01\d{2}$/);
    if (r.email !== null) assert.match(String(r.email), /^[a-z]+\.[a-z]+\d{0,2}@example\.(com|org|net)$/);
  }
});

test("sample-data: ages agree with birth and admission dates (checked with Date), some are over 89", () => {
  const first = Date.UTC(2019, 0, 1);
  const last = Date.UTC(2023, 11, 31);
  for (const r of rows) {
    const birth = new Date(`${r.birth_date}T00:00:00Z`);
    const admission = new Date(`${r.admission_date}T00:00:00Z`);
    assert.equal(birth.toISOString().slice(0, 10), r.birth_date, "birth_date is a real calendar date");
    assert.equal(admission.toISOString().slice(0, 10), r.admission_date, "admission_date is a real calendar date");
    assert.ok(admission.getTime() >= first && admission.getTime() <= last, `admission ${r.admission_date}`);
    assert.ok(birth <= admission, `${r.birth_date} after ${r.admission_date}`);
    let age = admission.getUTCFullYear() - birth.getUTCFullYear();
    if (admission.getUTCMonth() < birth.getUTCMonth() || (admission.getUTCMonth() === birth.getUTCMonth() && admission.getUTCDate() < birth.getUTCDate())) age -= 1;
    assert.equal(r.age, age, `${r.birth_date} -> ${r.admission_date}`);
  }
  const over89 = share((r) => Number(r.age) > 89);
  assert.ok(over89 > 0.02 && over89 < 0.06, `share over 89: ${over89}`);
  assert.ok(Math.max(...nums("age")) >= 100);
  assert.ok(share((r) => Number(r.age) < 18) > 0.05);
});

test("sample-data: quasi-identifier distributions are skewed as documented", () => {
  const female = share((r) => r.sex === "F");
  assert.ok(Math.abs(female - 0.55) < 0.02, `female ${female}`);
  const white = share((r) => r.race === "White");
  assert.ok(Math.abs(white - 0.61) < 0.02, `white ${white}`);
  const hispanic = share((r) => r.ethnicity === "Hispanic or Latino");
  assert.ok(hispanic > 0.15 && hispanic < 0.22, `hispanic ${hispanic}`);
  const ageMedian = median(nums("age"));
  assert.ok(ageMedian >= 55 && ageMedian <= 68, `median age ${ageMedian}`);
  for (const r of rows) assert.match(String(r.zip), /^\d{5}$/);
  // ZIPs are concentrated: the 10 most common ZIP3s hold far more than 10/72 of the patients.
  const zip3Counts = new Map<string, number>();
  for (const r of rows) zip3Counts.set(String(r.zip).slice(0, 3), (zip3Counts.get(String(r.zip).slice(0, 3)) ?? 0) + 1);
  const top10 = [...zip3Counts.values()].sort((a, b) => b - a).slice(0, 10).reduce((a, b) => a + b, 0) / N;
  assert.ok(top10 > 0.25, `top-10 ZIP3 share ${top10}`);
  // Winter months have more admissions than summer months.
  const month = (m: string) => share((r) => String(r.admission_date).slice(5, 7) === m);
  assert.ok(month("01") > month("07"));
  // Deliveries (O80) only for women of 15-49 (adults 18-49 here).
  for (const r of rows.filter((r) => r.diagnosis_code === "O80")) assert.ok(r.sex === "F" && Number(r.age) >= 18 && Number(r.age) <= 49);
});

test("sample-data: restricted ZIP3s (HRSA 2020 list) appear in about 3% of rows", (t) => {
  const path = `${SHARED}/zip3/restricted_zip3_hrsa_2020.csv`;
  if (!existsSync(path)) return t.skip(`${path} is absent (shared test data not installed)`);
  const restricted = new Set(readFileSync(path, "utf8").trim().split(/\r?\n/).slice(1).map((l) => l.split(",")[0]));
  assert.equal(restricted.size, 18);
  const inRestricted = rows.filter((r) => restricted.has(String(r.zip).slice(0, 3)));
  const s = inRestricted.length / N;
  assert.ok(s > 0.02 && s < 0.04, `restricted share ${s}`);
  assert.ok(new Set(inRestricted.map((r) => String(r.zip).slice(0, 3))).size >= 10);
  for (const z of ["036", "059", "102"]) assert.ok(inRestricted.some((r) => String(r.zip).startsWith(z)), z);
});

test("sample-data: every diagnosis code is a billable ICD-10-CM FY2021 code", (t) => {
  const path = `${SHARED}/icd10/icd10cm-order-Jan-2021.csv.gz`;
  if (!existsSync(path)) return t.skip(`${path} is absent (shared test data not installed)`);
  const billable = new Set<string>();
  for (const line of gunzipSync(readFileSync(path)).toString("utf8").split("\n").slice(1)) {
    const [code, flag] = line.split(",");
    if (flag === "1") billable.add(code);
  }
  assert.ok(billable.size > 70_000);
  for (const code of sampleDiagnosisCodes) {
    assert.match(code, /^[A-Z]\d[0-9A-Z](\.[0-9A-Z]{1,4})?$/, code);
    assert.ok(billable.has(code.replace(".", "")), `${code} is not a billable ICD-10-CM code`);
  }
  const used = new Set(rows.map((r) => r.diagnosis_code));
  for (const code of used) assert.ok(sampleDiagnosisCodes.includes(String(code)), String(code));
  assert.ok(used.size >= 40, `only ${used.size} codes used`);
});

test("sample-data: clinical features are in range and skewed; a few values are missing", () => {
  const los = nums("length_of_stay");
  assert.ok(Math.min(...los) >= 1 && Math.max(...los) <= 120);
  assert.ok(mean(los) > median(los), "length of stay is right-skewed");
  const prior = nums("num_prior_admissions");
  assert.equal(median(prior), 0);
  assert.ok(mean(prior) > 0.3 && mean(prior) < 1);
  const bmi = nums("bmi");
  assert.ok(Math.min(...bmi) >= 12 && Math.max(...bmi) <= 75);
  assert.ok(bmi.every((v) => Math.round(v * 10) === v * 10 || Math.abs(Math.round(v * 10) - v * 10) < 1e-9));
  const sbp = nums("systolic_bp");
  assert.ok(Math.min(...sbp) >= 70 && Math.max(...sbp) <= 230);
  const diabetic = rows.filter((r) => String(r.diagnosis_code).startsWith("E11"));
  assert.ok(mean(nums("hba1c", diabetic)) > mean(nums("hba1c")) + 1, "diabetics have higher HbA1c");
  const missing = (col: string) => share((r) => r[col] === null);
  for (const col of ["email", "phone", "ssn", "bmi", "hba1c", "systolic_bp", "race", "ethnicity"]) assert.ok(missing(col) > 0.004 && missing(col) < 0.6, `${col} missing ${missing(col)}`);
  for (const col of ["mrn", "patient_name", "birth_date", "sex", "zip", "admission_date", "age", "diagnosis_code", "length_of_stay", "num_prior_admissions", "readmitted_30d"]) assert.equal(missing(col), 0, col);
});

test("sample-data: readmitted_30d carries signal from the features", () => {
  const rate = share((r) => r.readmitted_30d === 1);
  assert.ok(rate > 0.09 && rate < 0.2, `readmission rate ${rate}`);
  for (const r of rows) assert.ok(r.readmitted_30d === 0 || r.readmitted_30d === 1);
  const rateWhere = (pred: (r: PatientRecord) => boolean) => share((r) => r.readmitted_30d === 1, rows.filter(pred));
  assert.ok(rateWhere((r) => Number(r.num_prior_admissions) >= 2) > 1.8 * rateWhere((r) => r.num_prior_admissions === 0));
  assert.ok(rateWhere((r) => r.diagnosis_code === "I50.9") > 2 * rateWhere((r) => r.diagnosis_code === "R07.9"));
  assert.ok(rateWhere((r) => Number(r.length_of_stay) >= 8) > rateWhere((r) => Number(r.length_of_stay) <= 2));
  // AUC of the single feature num_prior_admissions (Mann-Whitney, ties count one half).
  const pos = nums("num_prior_admissions", rows.filter((r) => r.readmitted_30d === 1));
  const neg = nums("num_prior_admissions", rows.filter((r) => r.readmitted_30d === 0));
  const counts = new Map<number, number>();
  for (const v of neg) counts.set(v, (counts.get(v) ?? 0) + 1);
  let wins = 0;
  for (const p of pos) for (const [v, c] of counts) wins += v < p ? c : v === p ? c / 2 : 0;
  const auc = wins / (pos.length * neg.length);
  assert.ok(auc > 0.6, `AUC ${auc}`);
});

test("sample-data: exactExp matches Math.exp and the calendar helpers match Date", () => {
  for (let x = -30; x <= 30; x += 0.37) assert.ok(Math.abs(exactExp(x) / Math.exp(x) - 1) < 1e-14, `exp(${x})`);
  assert.equal(exactExp(0), 1);
  for (let day = daysFromCivil(1890, 1, 1); day <= daysFromCivil(2030, 12, 31); day += 17) {
    const iso = new Date(day * 86_400_000).toISOString().slice(0, 10);
    const [y, m, d] = civilFromDays(day);
    assert.equal(`${y}-${String(m).padStart(2, "0")}-${String(d).padStart(2, "0")}`, iso);
    assert.equal(daysFromCivil(y, m, d), day);
  }
});

test("sample-data: CSV fields are quoted per RFC 4180 only when needed", () => {
  assert.equal(formatCsvField(null), "");
  assert.equal(formatCsvField(27.5), "27.5");
  assert.equal(formatCsvField("plain"), "plain");
  assert.equal(formatCsvField("a,b"), '"a,b"');
  assert.equal(formatCsvField('say "hi"'), '"say ""hi"""');
  assert.equal(formatCsvField("two\nlines"), '"two\nlines"');
  assert.equal(formatCsvField("cr\rhere"), '"cr\rhere"');
  assert.equal(formatCsvField("a;b", ";"), '"a;b"');
  assert.equal(formatCsvField("a,b", ";"), "a,b");
  assert.equal(formatCsvRecord(["x", null, 3, 'q"']), 'x,,3,"q"""');
  const out = [...formatPatientsCsv([{a: "1,2", b: null}, {a: "x", b: 2}], {columns: ["a", "b"], lineEnding: "\r\n", chunkRows: 1})];
  assert.deepEqual(out, ["a,b\r\n", '"1,2",\r\n', "x,2\r\n"]);
});

test("sample-data: the generated CSV loads through loadCsv with the same rows and types on native and WASM DuckDB", async () => {
  const text = csvOf(2000, 1);
  const bytes = new TextEncoder().encode(text);
  const dir = mkdtempSync(join(tmpdir(), "sample-data-test-"));
  const path = join(dir, "patients.csv");
  writeFileSync(path, bytes);
  const expectedReadmitted = rows.slice(0, 2000).filter((r) => r.readmitted_30d === 1).length;
  const expectedOver89 = rows.slice(0, 2000).filter((r) => Number(r.age) > 89).length;
  const results = [];
  try {
    for (const open of [openNativeDuckDB, openWasmDuckDBInNode]) {
      const conn = await open();
      try {
        if ("registerFile" in conn) (conn as any).registerFile(path, bytes);
        const loaded = await loadCsv(conn, path, "patients", {delimiter: ","});
        assert.deepEqual(loaded, {rows: 2000, columns: patientColumns.length}, conn.engine);
        const types = await conn.query("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'patients' ORDER BY ordinal_position");
        assert.deepEqual(
          types.map((t) => [t.column_name, t.data_type]),
          patientColumns.map((c) => [c.name, c.type]),
          conn.engine
        );
        const [facts] = await conn.query(
          "SELECT sum(readmitted_30d)::INTEGER AS readmitted, count(*) FILTER (WHERE age > 89)::INTEGER AS over89, count(DISTINCT mrn)::INTEGER AS mrns, min(zip) AS min_zip, count(*) FILTER (WHERE hba1c IS NULL)::INTEGER AS hba1c_missing FROM patients"
        );
        assert.equal(facts.readmitted, expectedReadmitted, conn.engine);
        assert.equal(facts.over89, expectedOver89, conn.engine);
        assert.equal(facts.mrns, 2000, conn.engine);
        assert.equal(facts.hba1c_missing, rows.slice(0, 2000).filter((r) => r.hba1c === null).length, conn.engine);
        results.push({types, facts});
      } finally {
        conn.close();
      }
    }
    assert.deepEqual(results[0], results[1], "native and WASM DuckDB agree");
    assert.match(String(results[0].facts.min_zip), /^0\d{4}$/, "ZIPs keep their leading zero");
  } finally {
    rmSync(dir, {recursive: true, force: true});
  }
});

test("generate command: stdout and --out carry the generator's exact bytes; bad flags exit 2 and write nothing", () => {
  const cli = fileURLToPath(new URL("../../bin/deid-workbench.js", import.meta.url));
  const run = (...args: string[]) => spawnSync(process.execPath, [cli, "generate", ...args], {encoding: "utf8"});
  const toStdout = run("--rows", "300", "--seed", "5");
  assert.equal(toStdout.status, 0, toStdout.stderr);
  assert.equal(toStdout.stdout, csvOf(300, 5));
  const dir = mkdtempSync(join(tmpdir(), "generate-test-"));
  try {
    const out = join(dir, "p.csv");
    const toFile = run("--rows=1_000", "--out", out, "--crlf");
    assert.equal(toFile.status, 0, toFile.stderr);
    assert.equal(readFileSync(out, "utf8"), [...generatePatientsCsv({rows: 1000, seed: 1, lineEnding: "\r\n"})].join(""));
    for (const bad of [["--rows", "ten"], ["--rows", "-5"], ["--rows", "10", "--seed", "1.5"], ["--seed", "2"], ["--rows", "10", "--colour", "red"]]) {
      const r = run(...bad, "--out", join(dir, "bad.csv"));
      assert.equal(r.status, 2, `${bad.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, /--(rows|seed|colour)/);
      assert.ok(!existsSync(join(dir, "bad.csv")));
    }
    const missingDir = run("--rows", "10", "--out", join(dir, "no", "such", "dir.csv"));
    assert.equal(missingDir.status, 1);
    assert.match(missingDir.stderr, /could not write .*dir\.csv: its folder .* does not exist/);
  } finally {
    rmSync(dir, {recursive: true, force: true});
  }
});
