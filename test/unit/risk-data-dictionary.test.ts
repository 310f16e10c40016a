import {test} from "node:test";
import assert from "node:assert/strict";
import {readFileSync, mkdtempSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import Ajv2020 from "ajv/dist/2020.js";
import {DataDictionaryError, parseDataDictionary, proposeDataDictionary, validateDataDictionary, type DataDictionary} from "../../src/lib/data-dictionary.js";
import {generatePatientsCsv, patientColumns} from "../../src/lib/sample-data.js";
import {loadCsv} from "../../src/lib/ingest.js";
import {HOSTS} from "../helpers/hosts.js";

const schema = JSON.parse(readFileSync(join(import.meta.dirname, "..", "..", "schemas", "data-dictionary.schema.json"), "utf8"));
const ajv = new (Ajv2020 as unknown as typeof Ajv2020.default)({allErrors: true, strict: false});
const schemaValid = ajv.compile(schema);

const GOOD: DataDictionary = {
  version: 1,
  dataset: "patients.csv",
  fields: [
    {name: "mrn", role: "direct-identifier", type: "integer", kind: "mrn"},
    {name: "age", role: "quasi-identifier", type: "integer", kind: "age", hierarchy: "age:5", weight: 2},
    {name: "zip", role: "quasi-identifier", type: "string", hierarchy: "zip:hrsa-2020"},
    {name: "occupation", role: "quasi-identifier", type: "string", hierarchy: "hierarchies/occupation.csv"},
    {name: "dx", role: "sensitive", type: "string", hierarchy: "icd10"},
    {name: "bmi", role: "feature", type: "decimal", weight: 0.5},
    {name: "readmitted", role: "target", type: "integer"},
    {name: "notes", role: "ignore", type: "string", description: "free text, handled elsewhere"}
  ]
};

test("risk-data-dictionary: a valid dictionary passes the code and the JSON Schema", () => {
  assert.deepEqual(validateDataDictionary(structuredClone(GOOD)), GOOD);
  assert.ok(schemaValid(GOOD), JSON.stringify(schemaValid.errors));
  validateDataDictionary(GOOD, {columns: GOOD.fields.map((f) => f.name)});
});

test("risk-data-dictionary: every problem is reported with its path, and the schema agrees", () => {
  const bad = {
    version: 2,
    extra: true,
    fields: [
      {name: "age", role: "quasi", type: "integer"},
      {name: "zip", role: "quasi-identifier", type: "string"},
      {name: "zip", role: "feature", type: "text", weight: -1},
      {name: "x", role: "feature", type: "string", hierarchy: "soundex"},
      {name: "y", role: "target", type: "string"},
      {name: "z", role: "target", type: "string"}
    ]
  };
  let error: unknown;
  try {
    validateDataDictionary(bad);
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof DataDictionaryError);
  const p = error.problems.join("\n");
  for (const expected of [
    /unknown key "extra"/,
    /version must be 1, got 2/,
    /fields\[0\] \("age"\): role must be one of direct-identifier, quasi-identifier/,
    /fields\[1\] \("zip"\): a quasi-identifier needs a hierarchy/,
    /fields\[2\] \("zip"\): field listed twice/,
    /fields\[2\] \("zip"\): type must be one of/,
    /fields\[2\] \("zip"\): weight must be a number >= 0/,
    /fields\[3\] \("x"\): hierarchy "soundex" is neither a built-in/,
    /2 fields have role target/
  ]) assert.match(p, expected);
  assert.equal(schemaValid(bad), false);
  // The schema catches the same kinds of problem on single-fault documents.
  for (const fault of [{...GOOD, version: 2}, {...GOOD, fields: [{name: "a", role: "quasi-identifier", type: "string"}]}, {...GOOD, fields: [{name: "a", role: "feature", type: "string", hierarchy: "soundex"}]}]) {
    assert.throws(() => validateDataDictionary(fault), DataDictionaryError);
    assert.equal(schemaValid(fault), false, JSON.stringify(fault));
  }
  assert.throws(() => validateDataDictionary(GOOD, {columns: ["mrn", "age"]}), /field "zip" is not a column of the data/);
  assert.throws(() => validateDataDictionary({version: 1, fields: []}, {columns: ["mrn"]}), /column "mrn" has no entry/);
  assert.throws(() => parseDataDictionary("{", "dict.json"), /dict.json: not valid JSON/);
  assert.throws(() => parseDataDictionary("[]", "dict.json"), /dict.json: invalid data dictionary/);
});

test("risk-data-dictionary: the proposal on the generated patient table matches its documented roles (both hosts)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "risk-dict-"));
  const csv = [...generatePatientsCsv({rows: 600, seed: 3})].join("");
  const path = join(dir, "patients.csv");
  writeFileSync(path, csv);
  // Expected roles come from sample-data.ts; "outcome" is our "target", and diagnosis codes are proposed
  // as sensitive (the expert makes them quasi-identifiers when an attacker may know them).
  const expected = Object.fromEntries(patientColumns.map((c) => [c.name, c.role === "outcome" ? "target" : c.name === "diagnosis_code" ? "sensitive" : c.role]));
  for (const host of HOSTS) {
    const conn = await host.open();
    let ref = path;
    if (conn.registerFile) {
      conn.registerFile("patients.csv", new TextEncoder().encode(csv));
      ref = "patients.csv";
    }
    await loadCsv(conn, ref, "patients", {delimiter: ","});
    const proposal = await proposeDataDictionary(conn, "patients", {dataset: "patients.csv"});
    validateDataDictionary(proposal, {columns: patientColumns.map((c) => c.name)});
    assert.ok(schemaValid(proposal), JSON.stringify(schemaValid.errors));
    const roles = Object.fromEntries(proposal.fields.map((f) => [f.name, f.role]));
    assert.deepEqual(roles, expected, host.name);
    const byName = Object.fromEntries(proposal.fields.map((f) => [f.name, f]));
    assert.equal(byName.zip.hierarchy, "zip");
    assert.equal(byName.age.hierarchy, "age:5");
    assert.equal(byName.birth_date.hierarchy, "date");
    assert.equal(byName.birth_date.type, "date");
    assert.equal(byName.diagnosis_code.hierarchy, "icd10");
    assert.equal(byName.email.kind, "email");
    assert.equal(byName.bmi.type, "decimal");
    for (const f of proposal.fields) assert.ok(f.reason, `${f.name} has a reason`);
    conn.close();
  }
});
