import {test} from "node:test";
import assert from "node:assert/strict";
import {hostNames, openHost} from "../helpers/hosts.js";
import {loadCsv, CsvFormatError} from "../../src/lib/ingest.js";
import {profileTable, formatProfile} from "../../src/lib/profile.js";

// Worked by hand: 6 rows; sex has F×3, M×2, one empty; zip 3 distinct with 02139 twice… see each assertion.
const csv = `id,sex,zip,visit,score
1,F,02139,2021-03-01,1.5
2,M,02139,2021-03-02,2.5
3,F,10001,2021-03-01,
4,,94110,2021-03-05,4
5,F,94110,2021-03-01,5
6,M,94110,,6
`;

for (const host of hostNames) {
  test(`profileTable counts rows, distinct, missing and top values by hand (${host})`, async () => {
    const conn = await openHost(host);
    try {
      const ref = await conn.loadText("people.csv", csv);
      assert.deepEqual(await loadCsv(conn, ref, "people", {delimiter: ",", allText: false}), {rows: 6, columns: 5});
      const p = await profileTable(conn, "people", {topN: 2});
      assert.equal(p.rows, 6);
      const by = Object.fromEntries(p.columns.map((c) => [c.name, c]));
      assert.deepEqual(p.columns.map((c) => c.name), ["id", "sex", "zip", "visit", "score"]);
      assert.equal(by.id.type, "BIGINT");
      assert.equal(by.visit.type, "DATE");
      assert.equal(by.score.type, "DOUBLE");
      assert.deepEqual([by.sex.distinct, by.sex.missing], [2, 1]);
      assert.deepEqual(by.sex.top, [{value: "F", count: 3}, {value: "M", count: 2}]);
      // zip is read as a number by DuckDB's inference (leading zero lost) unless all-text is requested.
      assert.deepEqual([by.zip.distinct, by.zip.missing], [3, 0]);
      assert.deepEqual(by.zip.top[0], {value: "94110", count: 3});
      assert.deepEqual([by.visit.distinct, by.visit.missing], [3, 1]);
      assert.deepEqual(by.visit.top, [{value: "2021-03-01", count: 3}, {value: "2021-03-02", count: 1}]);
      assert.deepEqual([by.score.distinct, by.score.missing], [5, 1]);
      assert.match(formatProfile(p), /people: 6 rows, 5 columns/);
    } finally {
      conn.close();
    }
  });

  test(`loadCsv keeps the previous table when a file is malformed (${host})`, async () => {
    const conn = await openHost(host);
    try {
      await loadCsv(conn, await conn.loadText("good.csv", csv), "dataset", {delimiter: ","});
      const bad = await conn.loadText("bad.csv", "a,b,c\n1,2,3\n4,5\n");
      await assert.rejects(loadCsv(conn, bad, "dataset", {delimiter: ",", displayName: "bad.csv"}), (e: unknown) => e instanceof CsvFormatError && /bad\.csv/.test(e.message));
      const [{n}] = await conn.query("SELECT count(*)::INTEGER AS n FROM dataset");
      assert.equal(n, 6);
      const tables = await conn.query("SELECT table_name FROM information_schema.tables ORDER BY 1");
      assert.deepEqual(tables.map((t) => t.table_name), ["dataset"]);
    } finally {
      conn.close();
    }
  });
}
