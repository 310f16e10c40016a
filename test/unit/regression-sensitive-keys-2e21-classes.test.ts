import {test} from "node:test";
import assert from "node:assert/strict";
import {openNativeDuckDB} from "../../loaders/duckdb-native.js";
import {bottomClasses, computeClassCounts, rollUpClasses} from "../../src/lib/class-counts.js";
import {builtinHierarchy} from "../../src/lib/hierarchies.js";

// Regression: rolled-up cells were keyed (class, sensitive value) as class * 2^32 + value, which is not
// exact once a node has 2^21 classes (the key passes 2^53), so two sensitive values of one class could
// merge into one cell and l-diversity / t-closeness would be computed on wrong cells.
test("regression: a node with more than 2^21 classes keeps every (class, sensitive value) cell apart", async () => {
  const classes = 2 ** 21 + 5000;
  const conn = await openNativeDuckDB();
  try {
    // every id has two records, one per group and per diagnosis: after generalizing the group away,
    // `classes` classes of 2 records with two distinct diagnoses each
    await conn.exec(`CREATE TABLE t AS SELECT i::VARCHAR AS id, g::VARCHAR AS grp, CASE WHEN g = 0 THEN 'a' ELSE 'b' END AS dx FROM range(${classes}) r(i), range(2) s(g)`);
    const counts = await computeClassCounts(conn, {table: "t", quasiIdentifiers: [{name: "id", hierarchy: builtinHierarchy("flat")}, {name: "grp", hierarchy: builtinHierarchy("flat")}], sensitive: ["dx"]});
    const {node: bottom} = bottomClasses(counts);
    const node = rollUpClasses(counts, bottom, [0, 1]);
    assert.equal(node.classes, classes);
    assert.equal(node.cells, 2 * classes, "each class holds one cell per diagnosis");
    let twoValued = 0;
    const seen = new Map<number, Set<number>>();
    for (let cell = 0; cell < node.cells; ++cell) {
      const c = node.classOf![cell];
      if (!seen.has(c)) seen.set(c, new Set());
      seen.get(c)!.add(node.sensitive![cell]);
    }
    for (const values of seen.values()) if (values.size === 2) twoValued++;
    assert.equal(twoValued, classes);
  } finally {
    conn.close();
  }
});
