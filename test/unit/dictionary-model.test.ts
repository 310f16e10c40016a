import {test} from "node:test";
import assert from "node:assert/strict";
import {builtinHierarchy, tableHierarchy} from "../../src/lib/hierarchies.js";
import type {DataDictionary} from "../../src/lib/data-dictionary.js";
import {dictionaryJson, dictionaryProblems, levelNames, previewHierarchy, suggestHierarchy, updateField} from "../../src/components/dictionary-model.js";

const base: DataDictionary = {
  version: 1,
  dataset: "t.csv",
  fields: [
    {name: "age", role: "quasi-identifier", type: "integer", kind: "age", hierarchy: "age:5", weight: 1},
    {name: "zip", role: "feature", type: "string", kind: "zip", weight: 1},
    {name: "dx", role: "sensitive", type: "string", weight: 1},
    {name: "outcome", role: "target", type: "integer", weight: 1}
  ]
};
const columns = ["age", "zip", "dx", "outcome"];

test("a valid dictionary has no problems", () => {
  const p = dictionaryProblems(base, columns);
  assert.equal(p.general.length, 0);
  assert.equal(p.byField.size, 0);
});

test("problems are filed under the field they concern; document-level ones are general", () => {
  let d = updateField(base, "age", {hierarchy: ""});
  d = updateField(d, "dx", {weight: -1});
  d = updateField(d, "zip", {role: "target"});
  const p = dictionaryProblems(d, [...columns, "extra"]);
  assert.deepEqual(p.byField.get("age"), ["a quasi-identifier needs a hierarchy"]);
  assert.deepEqual(p.byField.get("dx"), ["weight must be a number >= 0"]);
  assert.equal(p.byField.has("zip"), false);
  assert.deepEqual(p.general, ["2 fields have role target; the ML use case predicts one target", 'column "extra" has no entry in the data dictionary']);
});

test("a field name with quotes and colons still gets its own problems", () => {
  const d: DataDictionary = {version: 1, fields: [{name: 'a "b": c', role: "quasi-identifier", type: "string"}]};
  const p = dictionaryProblems(d, ['a "b": c']);
  assert.deepEqual(p.byField.get('a "b": c'), ["a quasi-identifier needs a hierarchy"]);
  assert.deepEqual(p.general, []);
});

test("updateField: a new quasi-identifier gets a suggested hierarchy; other fields are untouched; the input is not mutated", () => {
  const d = updateField(base, "zip", {role: "quasi-identifier"});
  assert.equal(d.fields[1].hierarchy, "zip");
  assert.equal(base.fields[1].hierarchy, undefined);
  assert.equal(d.fields[0], base.fields[0]);
  assert.equal(updateField(base, "age", {hierarchy: "  age:10 "}).fields[0].hierarchy, "age:10");
  assert.equal("hierarchy" in updateField(base, "age", {hierarchy: " "}).fields[0], false);
  // An existing hierarchy is kept when the role changes back and forth.
  assert.equal(updateField(updateField(base, "age", {role: "feature"}), "age", {role: "quasi-identifier"}).fields[0].hierarchy, "age:5");
});

test("suggestHierarchy follows the kind, then the type", () => {
  assert.equal(suggestHierarchy({name: "x", role: "feature", type: "string", kind: "birth-date"}), "date");
  assert.equal(suggestHierarchy({name: "x", role: "feature", type: "string", kind: "icd10"}), "icd10");
  assert.equal(suggestHierarchy({name: "x", role: "feature", type: "datetime"}), "date");
  assert.equal(suggestHierarchy({name: "x", role: "feature", type: "decimal"}), "interval:5,10,20");
  assert.equal(suggestHierarchy({name: "x", role: "feature", type: "string"}), "flat");
});

test("previewHierarchy gives every level, and reports uncovered values instead of throwing", () => {
  const rows = previewHierarchy(builtinHierarchy("age:5"), ["37", "93", null, "abc"]);
  assert.deepEqual(rows[0].labels, ["37", "35-39", "30-39", "20-39", "*"]);
  assert.deepEqual(rows[1].labels, ["93", "90+", "90+", "90+", "*"]);
  assert.deepEqual(rows[2].labels, ["", "", "", "", "*"]);
  assert.equal(rows[3].labels, null);
  assert.match(rows[3].error!, /does not cover the value "abc": not a number/);
  const t = tableHierarchy("t", [["a", "x", "*"]]);
  assert.match(previewHierarchy(t, ["b"])[0].error!, /"b"/);
});

test("levelNames uses the hierarchy's names, else generic ones", () => {
  assert.deepEqual(levelNames(builtinHierarchy("date")), ["day", "month", "quarter", "year", "decade", "*"]);
  assert.deepEqual(levelNames(tableHierarchy("t", [["a", "x", "y", "*"]])), ["original", "level 1", "level 2", "*"]);
});

test("dictionaryJson round-trips", () => {
  assert.deepEqual(JSON.parse(dictionaryJson(base)), base);
});
