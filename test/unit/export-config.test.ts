import {test} from "node:test";
import assert from "node:assert/strict";
import {loadReferenceTables} from "../../loaders/hierarchy-files.js";
import {draftTransformConfig, tableNameFor} from "../../src/lib/export-config.js";
import type {DataDictionary} from "../../src/lib/data-dictionary.js";

const refs = loadReferenceTables();
const dictionary: DataDictionary = {
  version: 1,
  fields: [
    {name: "mrn", role: "direct-identifier", type: "integer", kind: "mrn"},
    {name: "patient_name", role: "direct-identifier", type: "string", kind: "name"},
    {name: "ssn", role: "direct-identifier", type: "string", kind: "ssn"},
    {name: "encounter id", role: "direct-identifier", type: "string", kind: "identifier"},
    {name: "birth_date", role: "quasi-identifier", type: "date", kind: "birth-date", hierarchy: "date"},
    {name: "zip", role: "quasi-identifier", type: "string", kind: "zip", hierarchy: "zip"},
    {name: "age", role: "quasi-identifier", type: "integer", kind: "age", hierarchy: "age:5"},
    {name: "sex", role: "quasi-identifier", type: "string", kind: "sex", hierarchy: "sex.csv"},
    {name: "visit_date", role: "feature", type: "date", kind: "date"},
    {name: "diagnosis", role: "sensitive", type: "string", kind: "icd10", hierarchy: "icd10"},
    {name: "bmi", role: "feature", type: "decimal", weight: 2},
    {name: "readmitted", role: "target", type: "integer"},
    {name: "notes", role: "ignore", type: "string"}
  ]
};
const arxFiles = {"sex.csv": "F;*\nM;*\n"};
const base = {dictionary, file: "/home/x/sample-patients.csv", delimiter: ",", referenceDate: "2026-01-31", refs, arxFiles};

test("draftTransformConfig: default action per role and kind, patient field, hierarchies inline", () => {
  const config = draftTransformConfig({...base, choices: {levels: {birth_date: 4, zip: 2, age: 2, sex: 1}, k: 3, suppressionLimit: 0.1, riskThreshold: 0.1}});
  const input = config.inputs[0];
  assert.equal(input.table, "sample-patients");
  assert.equal(input.file, "sample-patients.csv");
  assert.equal(input.patientField, "mrn");
  assert.equal(input.sha256, undefined);
  const t = Object.fromEntries(input.fields.map((f) => [f.name, f.transform]));
  assert.deepEqual(t.mrn, {action: "pseudonymize", domain: "patient", prefix: "pt_"});
  assert.deepEqual(t.patient_name, {action: "remove"});
  assert.deepEqual(t.ssn, {action: "remove"});
  assert.deepEqual(t["encounter id"], {action: "pseudonymize", domain: "encounter_id"});
  assert.deepEqual(t.birth_date, {action: "generalize", topCodeAge: true});
  assert.deepEqual(t.zip, {action: "generalize"});
  assert.deepEqual(t.age, {action: "generalize", topCodeAge: true});
  assert.deepEqual(t.visit_date, {action: "date-shift"});
  assert.deepEqual(t.diagnosis, {action: "keep"});
  assert.deepEqual(t.bmi, {action: "keep"});
  assert.deepEqual(t.readmitted, {action: "keep"});
  assert.deepEqual(t.notes, {action: "remove"});
  const phi = Object.fromEntries(input.fields.map((f) => [f.name, f.phiCategory]));
  assert.deepEqual([phi.mrn, phi.patient_name, phi.ssn, phi["encounter id"], phi.birth_date, phi.zip, phi.age, phi.bmi], ["mrn", "names", "ssn", "other-id", "dates", "geographic", "dates", undefined]);
  assert.equal(input.fields.find((f) => f.name === "bmi")!.weight, 2);
  assert.deepEqual(config.levels, {birth_date: 4, zip: 2, age: 2, sex: 1});
  assert.deepEqual(config.hierarchies, {
    date: {kind: "builtin", spec: "date"},
    zip: {kind: "builtin", spec: "zip"},
    "age:5": {kind: "builtin", spec: "age:5"},
    "sex.csv": {kind: "table", rows: [["F", "*"], ["M", "*"]]},
    icd10: {kind: "builtin", spec: "icd10"}
  });
  assert.equal(input.fields.find((f) => f.name === "sex")!.hierarchy, "sex.csv");
  assert.deepEqual(config.privacyModel, {k: 3, suppressionLimit: 0.1, riskThreshold: 0.1});
  assert.deepEqual(config.dateShift, {maxDays: 365, keepTimeOfDay: false});
  // the union of the shipped lists, recorded in the config so a rerun uses the same list
  const union = new Set(refs.restrictedZip3Lists!.flatMap((l) => [...l.codes]));
  assert.equal(config.restrictedZip3.name, "hhs-2000+hrsa-2020");
  assert.deepEqual(config.restrictedZip3.codes, [...union].sort());
  assert.ok(config.restrictedZip3.codes.includes("036"));
});

test("draftTransformConfig: missing levels get Safe Harbor-like defaults; choices override actions", () => {
  const config = draftTransformConfig({...base, choices: {actions: {ssn: "mask", age: "keep", visit_date: "remove"}, maxShiftDays: 30, keepTimeOfDay: true}});
  // date -> year (3), zip -> ZIP3 (2), age not generalized any more, ARX table -> 0
  assert.deepEqual(config.levels, {birth_date: 3, zip: 2, sex: 0});
  const t = Object.fromEntries(config.inputs[0].fields.map((f) => [f.name, f.transform]));
  assert.deepEqual(t.ssn, {action: "mask", keepSuffix: 4, maskChar: "*"});
  assert.deepEqual(t.age, {action: "keep", topCodeAge: true});
  assert.deepEqual(t.visit_date, {action: "remove"});
  assert.deepEqual(config.dateShift, {maxDays: 30, keepTimeOfDay: true});
  assert.deepEqual(config.privacyModel, {k: 5, suppressionLimit: 0.05, riskThreshold: 0.2});
});

test("draftTransformConfig: without a patient identifier dates cannot be shifted, so they are removed", () => {
  const fields = dictionary.fields.filter((f) => f.name !== "mrn" && f.name !== "encounter id");
  const config = draftTransformConfig({...base, dictionary: {version: 1, fields}});
  assert.equal(config.inputs[0].patientField, undefined);
  assert.deepEqual(config.inputs[0].fields.find((f) => f.name === "visit_date")!.transform, {action: "remove"});
});

test("draftTransformConfig: invalid choices and missing hierarchy files are clear errors", () => {
  assert.throws(() => draftTransformConfig({...base, choices: {actions: {patient_name: "keep"}}}), /field "patient_name": role direct-identifier does not allow action "keep"/);
  assert.throws(() => draftTransformConfig({...base, arxFiles: {}}), /hierarchy file sex\.csv has not been imported in this browser/);
  // removing the MRN column still keys each patient's date shift on it (semantics: the patient domain)
  const removed = draftTransformConfig({...base, choices: {actions: {mrn: "remove"}}});
  assert.equal(removed.inputs[0].patientField, "mrn");
  assert.deepEqual(removed.inputs[0].fields.find((f) => f.name === "visit_date")!.transform, {action: "date-shift"});
  assert.throws(() => draftTransformConfig({...base, referenceDate: "2026-02-30"}), /referenceDate must be a valid date/);
});

test("tableNameFor: a schema-valid table name from any file name", () => {
  assert.equal(tableNameFor("sample-patients.csv"), "sample-patients");
  assert.equal(tableNameFor("C:\\data\\2024 export (final).tsv"), "t_2024_export_final");
  assert.equal(tableNameFor("ünïcode.csv"), "n_code");
  assert.equal(tableNameFor(".csv"), "t_data");
});
