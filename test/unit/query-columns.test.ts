/**
 * Columnar reads: `queryColumns` against `query` (value by value) and hand-worked values on both
 * hosts; and the coded computeClassCounts against the former row path and a naive JS GROUP BY on
 * random tables.
 */
import {test} from "node:test";
import assert from "node:assert/strict";
import {computeClassCounts, computeClassCountsFromRows, type ClassCounts, type GeneralizationHierarchy} from "../../src/lib/class-counts.js";
import {columnOf, int32Column, queryColumns, quoteIdentifier, quoteLiteral, type SqlColumns, type SqlConnection, type SqlRow} from "../../src/lib/sql.js";
import {HOSTS, type TestConnection} from "../helpers/hosts.js";
import {random} from "../helpers/random.js";


/** Every entry of every column equals the row value of `query` (SameValue: NaN equals NaN). */
function assertSameAsRows(columns: SqlColumns, rows: SqlRow[], label: string) {
  assert.equal(columns.rows, rows.length, `${label}: row count`);
  columns.names.forEach((name, j) => {
    const column = columns.columns[j];
    assert.equal(column.length, rows.length, `${label}: length of ${name}`);
    for (let i = 0; i < rows.length; ++i) assert.deepEqual(column[i], rows[i][name], `${label}: ${name} row ${i}`);
  });
}

const TYPED_SQL = `SELECT * FROM (VALUES
  (1, 7::INTEGER, -3::TINYINT, 300::SMALLINT, 200::UTINYINT, 60000::USMALLINT, 4000000000::UINTEGER, 9007199254740993::BIGINT, 170141183460469231731687303715884105727::HUGEINT,
   1.5::DOUBLE, 0.1::FLOAT, 123.456::DECIMAL(18,3), 12345678901234567.8901::DECIMAL(38,4), DATE '2020-02-29', TIMESTAMP '2021-03-04 05:06:07', TIMESTAMP '2021-03-04 00:00:00',
   'Zoë', true, NULL, [1, 2], {'a': 1}),
  (2, NULL, 127::TINYINT, (-32768)::SMALLINT, 0::UTINYINT, 0::USMALLINT, 0::UINTEGER, -9007199254740993::BIGINT, -5::HUGEINT,
   'NaN'::DOUBLE, -2.5::FLOAT, -0.001::DECIMAL(18,3), 0::DECIMAL(38,4), DATE '1900-01-01', TIMESTAMP '1999-12-31 23:59:59', NULL,
   '東京 😀 e\u0301', false, NULL, NULL, NULL),
  (3, (-2147483648)::INTEGER, 0::TINYINT, 0::SMALLINT, 255::UTINYINT, 65535::USMALLINT, 4294967295::UINTEGER, 0::BIGINT, 0::HUGEINT,
   -0.0::DOUBLE, 3.0::FLOAT, 5::DECIMAL(18,3), -1.0001::DECIMAL(38,4), NULL, TIMESTAMP '1970-01-01 00:00:01', NULL,
   '', NULL, NULL, [], {'a': NULL})
) t(id, i_null, ti, si, uti, usi, ui, bi, hi, d, f, dec, dec38, dt, ts, ts_mid, s, b, n, l, st) ORDER BY id`;

for (const host of HOSTS) {
  test(`queryColumns equals query value by value, with hand-worked values (${host.name})`, async () => {
    const conn = await host.open();
    try {
      assert.ok(conn.queryColumns, "the host implements queryColumns");
      const rows = await conn.query(TYPED_SQL);
      const columns = await queryColumns(conn, TYPED_SQL);
      assertSameAsRows(columns, rows, host.name);
      assert.deepEqual(columns.names, ["id", "i_null", "ti", "si", "uti", "usi", "ui", "bi", "hi", "d", "f", "dec", "dec38", "dt", "ts", "ts_mid", "s", "b", "n", "l", "st"]);
      const col = (name: string) => columnOf(columns, name);
      // Integers up to 32 bits without NULLs come as Int32Array, other numbers without NULLs as Float64Array.
      for (const name of ["id", "ti", "si", "uti", "usi"]) assert.ok(col(name) instanceof Int32Array, `${name} is an Int32Array`);
      for (const name of ["ui", "bi", "hi", "d", "f", "dec", "dec38"]) assert.ok(col(name) instanceof Float64Array, `${name} is a Float64Array`);
      for (const name of ["i_null", "dt", "s", "b", "n", "l"]) assert.ok(Array.isArray(col(name)), `${name} is a plain array`);
      assert.deepEqual([...col("i_null")], [7, null, -2147483648]);
      assert.deepEqual([...col("usi")], [60000, 0, 65535]);
      assert.deepEqual([...col("ui")], [4000000000, 0, 4294967295]);
      // BIGINT beyond 2^53 becomes the nearest double, as in `query`.
      assert.deepEqual([...col("bi")], [9007199254740992, -9007199254740992, 0]);
      assert.deepEqual([...col("dec")], [123.456, -0.001, 5]);
      assert.deepEqual([...col("dt")], ["2020-02-29", "1900-01-01", null]);
      assert.deepEqual([...col("ts")], ["2021-03-04 05:06:07", "1999-12-31 23:59:59", "1970-01-01 00:00:01"]);
      assert.deepEqual([...col("s")], ["Zoë", "東京 😀 e\u0301", ""]);
      assert.deepEqual([...col("b")], [true, false, null]);
      assert.deepEqual([...col("n")], [null, null, null]);
      assert.ok(Number.isNaN(col("d")[1] as number));
    } finally {
      conn.close();
    }
  });

  test(`queryColumns on empty results and multi-chunk results (${host.name})`, async () => {
    const conn = await host.open();
    try {
      const empty = await queryColumns(conn, "SELECT 1::INTEGER AS a, 'x' AS b, DATE '2020-01-01' AS c WHERE false");
      assert.deepEqual(empty, {names: ["a", "b", "c"], columns: [new Int32Array(0), [], []], rows: 0});
      // 5000 rows span several DuckDB chunks / Arrow batches; every 7th value is NULL in the second column.
      const sql = "SELECT i::INTEGER AS i, CASE WHEN i % 7 = 0 THEN NULL ELSE i * 3 END AS j, 'v' || i AS s, (i * 1000000000)::BIGINT AS big FROM range(5000) r(i) ORDER BY i";
      const rows = await conn.query(sql);
      const columns = await queryColumns(conn, sql);
      assertSameAsRows(columns, rows, host.name);
      assert.deepEqual([...columnOf(columns, "i")], Array.from({length: 5000}, (_, i) => i));
      assert.equal(columnOf(columns, "j")[14], null);
      assert.equal(columnOf(columns, "j")[15], 45);
      assert.equal(columnOf(columns, "big")[4999], 4999e9);
      assert.equal(columnOf(columns, "s")[4999], "v4999");
    } finally {
      conn.close();
    }
  });
}

test("queryColumns falls back to rows for a connection without a columnar reader", async () => {
  const rows: SqlRow[] = [
    {a: 1, b: "x"},
    {a: null, b: "y"}
  ];
  const conn: SqlConnection = {engine: "fake", query: async () => rows, exec: async () => {}};
  const columns = await queryColumns(conn, "SELECT");
  assert.deepEqual(columns, {names: ["a", "b"], columns: [[1, null], ["x", "y"]], rows: 2});
  const none: SqlConnection = {engine: "fake", query: async () => [], exec: async () => {}};
  const empty = await queryColumns(none, "SELECT");
  assert.deepEqual(columnOf(empty, "a"), []);
  assert.throws(() => columnOf(columns, "c"), /no column "c"/);
  assert.deepEqual(int32Column([1, -2, 3]), Int32Array.from([1, -2, 3]));
  assert.throws(() => int32Column([1, null], "n"), /n: row 1 holds null/);
  assert.throws(() => int32Column([2 ** 31]), /not a 32-bit integer/);
});

// ---------------------------------------------------------------- class counts

/** value -> first character -> *, NULL -> NULL -> *. */
const prefixHierarchy: GeneralizationHierarchy = {name: "prefix", height: 3, generalize: (v) => [v, v === null ? null : [...v][0] ?? "", "*"]};
/** Not a tree between levels 1 and 2 for some values: level 1 by length, level 2 by first character. */
const crossHierarchy: GeneralizationHierarchy = {name: "cross", height: 3, generalize: (v) => [v, v === null ? "none" : `len${v.length}`, v === null ? "none" : v.slice(0, 1)]};

const ALPHABETS = [
  ["a", "b", "ab", "B", "Zoë", "zoe", "東京", "😀", "\uFF21", "e\u0301", "é", ""],
  ["1", "2", "10", "20", "x"],
  ["M", "F"]
];

/** A random text table with NULLs; characters chosen so that UTF-8 byte order and JS order differ (😀 vs \uFF21). */
function randomRows(rand: () => number, n: number, columns: number): (string | null)[][] {
  return Array.from({length: n}, () =>
    Array.from({length: columns}, (_, j) => {
      if (rand() < 0.1) return null;
      const alphabet = ALPHABETS[j % ALPHABETS.length];
      return alphabet[Math.floor(rand() * alphabet.length)];
    })
  );
}

/** Cells decoded back to values, sorted: "v1|v2|...#s1|...#count". */
function decodedCells(c: ClassCounts): string[] {
  const q = c.quasiIdentifiers.length;
  const s = c.sensitive.length;
  const out: string[] = [];
  for (let i = 0; i < c.cells; ++i) {
    const qi = c.quasiIdentifiers.map((x, j) => x.labels[0][c.codes[i * q + j]]);
    const sens = c.sensitive.map((x, t) => x.values[c.sensitiveCodes[i * s + t]]);
    out.push(JSON.stringify([qi, sens, c.counts[i]]));
  }
  return out.sort();
}

/** Everything but the order of cells, which the database chooses. */
function canonical(c: ClassCounts) {
  const arrays = (xs: ArrayLike<number>[]) => xs.map((x) => Array.from(x));
  return {
    table: c.table,
    records: c.records,
    cells: decodedCells(c),
    treeShaped: c.treeShaped,
    strides: c.strides && Array.from(c.strides),
    quasiIdentifiers: c.quasiIdentifiers.map((x) => ({
      name: x.name,
      height: x.height,
      labels: x.labels,
      toLevel: arrays(x.toLevel),
      rollUp: x.rollUp.map((r) => r.map((m) => m && Array.from(m))),
      frequency: arrays(x.frequency),
      leaves: arrays(x.leaves)
    })),
    sensitive: c.sensitive.map((x) => ({name: x.name, values: x.values, frequency: Array.from(x.frequency)}))
  };
}

/** Naive GROUP BY in JS over the rows put into the table. */
function naiveCells(rows: (string | null)[][], q: number): string[] {
  const groups = new Map<string, number>();
  for (const r of rows) {
    const key = JSON.stringify([r.slice(0, q), r.slice(q)]);
    groups.set(key, (groups.get(key) ?? 0) + 1);
  }
  return [...groups].map(([key, n]) => JSON.stringify([...JSON.parse(key), n])).sort();
}

/** NULL first, then JS string order (UTF-16 code units). */
function jsSorted(values: (string | null)[]): (string | null)[] {
  const distinct = [...new Set(values)];
  return [...(distinct.includes(null) ? [null] : []), ...(distinct.filter((v) => v !== null) as string[]).sort()];
}

async function createTable(conn: SqlConnection, table: string, columns: string[], rows: (string | null)[][]) {
  await conn.exec(`CREATE OR REPLACE TABLE ${quoteIdentifier(table)} (${columns.map((c) => `${quoteIdentifier(c)} VARCHAR`).join(", ")})`);
  for (let i = 0; i < rows.length; i += 500) {
    const values = rows.slice(i, i + 500).map((r) => `(${r.map((v) => (v === null ? "NULL" : quoteLiteral(v))).join(", ")})`);
    await conn.exec(`INSERT INTO ${quoteIdentifier(table)} VALUES ${values.join(", ")}`);
  }
}

async function temporaryTables(conn: SqlConnection): Promise<number> {
  const [{n}] = await conn.query("SELECT count(*)::INTEGER AS n FROM duckdb_tables() WHERE temporary");
  return Number(n);
}

for (const host of HOSTS) {
  test(`computeClassCounts (coded) equals the row path and a naive GROUP BY on random tables (${host.name})`, async () => {
    const conn: TestConnection = await host.open();
    try {
      const rand = random(20261125);
      for (let trial = 0; trial < 12; ++trial) {
        const q = 1 + (trial % 4);
        const s = trial % 3;
        const n = [0, 1, 7, 60, 400, 3000][trial % 6];
        const names = Array.from({length: q + s}, (_, j) => (j < q ? `qi ${j} "q"` : `sens${j - q}`));
        const rows = randomRows(rand, n, q + s);
        await createTable(conn, "t", names, rows);
        const options = {
          table: "t",
          quasiIdentifiers: names.slice(0, q).map((name, j) => ({name, hierarchy: j % 2 ? crossHierarchy : prefixHierarchy})),
          sensitive: names.slice(q)
        };
        const before = await temporaryTables(conn);
        const coded = await computeClassCounts(conn, options);
        assert.equal(await temporaryTables(conn), before, "the temporary dictionaries are dropped");
        const fromRows = await computeClassCountsFromRows(conn, options);
        const label = `${host.name} trial ${trial} (${n} rows, ${q} QIs, ${s} sensitive)`;
        assert.deepEqual(canonical(coded), canonical(fromRows), label);
        assert.deepEqual(decodedCells(coded), naiveCells(rows, q), label);
        assert.equal(coded.records, n, label);
        coded.quasiIdentifiers.forEach((x, j) => assert.deepEqual(x.labels[0], jsSorted(rows.map((r) => r[j])), `${label}: level-0 labels of ${x.name} in JS order`));
        coded.sensitive.forEach((x, t) => assert.deepEqual(x.values, jsSorted(rows.map((r) => r[q + t])), `${label}: values of ${x.name}`));
      }
    } finally {
      conn.close();
    }
  });

  test(`computeClassCounts on typed (non-text) columns casts as the row path does (${host.name})`, async () => {
    const conn: TestConnection = await host.open();
    try {
      await conn.exec(`CREATE OR REPLACE TABLE typed AS SELECT * FROM (VALUES
        (DATE '2020-01-02', 35, 1.50::DECIMAL(4,2), 'F'), (DATE '2020-01-02', 35, 1.50::DECIMAL(4,2), 'F'),
        (NULL, 4, 10.00::DECIMAL(4,2), 'M'), (DATE '1999-12-31', NULL, NULL, NULL)) v(d, age, dose, sex)`);
      const options = {table: "typed", quasiIdentifiers: ["d", "age", "dose"].map((name) => ({name, hierarchy: prefixHierarchy})), sensitive: ["sex"]};
      const coded = await computeClassCounts(conn, options);
      assert.deepEqual(canonical(coded), canonical(await computeClassCountsFromRows(conn, options)));
      assert.deepEqual(decodedCells(coded), [
        JSON.stringify([["1999-12-31", null, null], [null], 1]),
        JSON.stringify([["2020-01-02", "35", "1.50"], ["F"], 2]),
        JSON.stringify([[null, "4", "10.00"], ["M"], 1])
      ].sort());
      await assert.rejects(computeClassCounts(conn, {...options, sensitive: ["nope"]}), /column "nope" is not in table typed/);
    } finally {
      conn.close();
    }
  });
}
