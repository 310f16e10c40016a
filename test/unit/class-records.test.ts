/**
 * recordsOfClass and sampleDistinctValues on both hosts, against hand-worked answers.
 *
 *  row age sex  zip    age:5 level 2 = 10-year bands; sex level 0:
 *   1  23  M   02139   (20-29, M): rows 1, 2, 6
 *   2  27  M   02140   (30-39, F): rows 3, 4
 *   3  31  F   02141   (40-49, M): row 5
 *   4  35  F   (null)  (null, F):  row 7 (missing age stays missing below the top level)
 *   5  44  M   02139
 *   6  29  M   02139
 *   7  --  F   02142
 */
import {test} from "node:test";
import assert from "node:assert/strict";
import {builtinHierarchy, tableHierarchy} from "../../src/lib/hierarchies.js";
import {dropFrequencyTable, listEquivalenceClasses, evaluateTransformation, dropEvaluation, prepareFrequencyTable} from "../../src/lib/equivalence-classes.js";
import {recordsOfClass} from "../../src/lib/class-records.js";
import {sampleDistinctValues} from "../../src/lib/value-samples.js";
import {createTextTable, HOSTS} from "../helpers/hosts.js";

const ROWS: (string | null)[][] = [
  ["23", "M", "02139"],
  ["27", "M", "02140"],
  ["31", "F", "02141"],
  ["35", "F", null],
  ["44", "M", "02139"],
  ["29", "M", "02139"],
  [null, "F", "02142"]
];
const sex = tableHierarchy("sex", [["M", "*"], ["F", "*"]]);

for (const host of HOSTS) {
  test(`recordsOfClass returns exactly the records of a class (${host.name})`, async () => {
    const conn = await host.open();
    try {
      await createTextTable(conn, "people", ["age", "sex", "zip"], ROWS);
      const freq = await prepareFrequencyTable(conn, {table: "people", quasiIdentifiers: [{name: "age", hierarchy: builtinHierarchy("age:5")}, {name: "sex", hierarchy: sex}]});
      const levels = {age: 2, sex: 0};
      const young = await recordsOfClass(conn, freq, levels, {age: "20-29", sex: "M"});
      assert.equal(young.total, 3);
      assert.deepEqual(young.columns, ["age", "sex", "zip"]);
      assert.deepEqual(young.rows.map((r) => [r.__record, r.age, r.zip]), [[1, "23", "02139"], [2, "27", "02140"], [6, "29", "02139"]]);
      const limited = await recordsOfClass(conn, freq, levels, {age: "20-29", sex: "M"}, {limit: 2});
      assert.equal(limited.total, 3);
      assert.equal(limited.rows.length, 2);
      // Missing age: labelled "" at level 2 by the built-in hierarchy.
      const missing = await recordsOfClass(conn, freq, levels, {age: "", sex: "F"});
      assert.deepEqual(missing.rows.map((r) => r.__record), [7]);
      // Level 0: the label is the value itself, null for the missing one.
      const original = await recordsOfClass(conn, freq, {age: 0, sex: 1}, {age: null, sex: "*"});
      assert.deepEqual(original.rows.map((r) => r.__record), [7]);
      assert.equal((await recordsOfClass(conn, freq, levels, {age: "50-59", sex: "M"})).total, 0);
      // Every class listed by the engine yields as many records as its size.
      const ev = await evaluateTransformation(conn, freq, levels, {k: 2});
      const classes = await listEquivalenceClasses(conn, ev);
      await dropEvaluation(conn, ev);
      assert.equal(classes.length, 4);
      for (const c of classes) assert.equal((await recordsOfClass(conn, freq, levels, c.labels)).total, c.size, JSON.stringify(c.labels));
      await assert.rejects(recordsOfClass(conn, freq, levels, {age: "20-29"}), /no label given for quasi-identifier "sex"/);
      await dropFrequencyTable(conn, freq);
    } finally {
      conn.close();
    }
  });

  test(`sampleDistinctValues: most frequent, then smallest, middle and largest, then missing (${host.name})`, async () => {
    const conn = await host.open();
    try {
      await createTextTable(conn, "people", ["age", "sex", "zip"], ROWS);
      // age (numeric order): 23 27 29 31 35 44, each once: frequent = first 3 by value text; spread = 23, 29 (index 2), 44.
      assert.deepEqual(await sampleDistinctValues(conn, "people", "age"), ["23", "27", "29", "44", null]);
      // zip: 02139 (3 times) first; distinct 02139 02140 02141 02142 -> positions 0, 1, 3.
      assert.deepEqual(await sampleDistinctValues(conn, "people", "zip", {frequent: 1}), ["02139", "02140", "02142", null]);
      assert.deepEqual(await sampleDistinctValues(conn, "people", "sex"), ["M", "F"]); // M 4 times, F 3
    } finally {
      conn.close();
    }
  });
}
