import {test} from "node:test";
import assert from "node:assert/strict";
import {existsSync, readFileSync} from "node:fs";
import {builtinHierarchy, generalizedViewSql, HierarchyCoverageError, materializeHierarchies, parseArxHierarchy, tableHierarchy} from "../../src/lib/hierarchies.js";
import {loadReferenceTables, readArxHierarchy, resolveHierarchy} from "../../loaders/hierarchy-files.js";
import {parseCsvText} from "../../src/lib/reference-tables.js";
import {createTextTable, HOSTS} from "../helpers/hosts.js";

test("hierarchies: age:5 bands double to 20 years and top-code 90+", () => {
  const h = builtinHierarchy("age:5");
  assert.equal(h.height, 5);
  assert.deepEqual(h.generalize("34"), ["34", "30-34", "30-39", "20-39", "*"]);
  assert.deepEqual(h.generalize("0"), ["0", "0-4", "0-9", "0-19", "*"]);
  // 80-99 would straddle the top code: it stops at 89.
  assert.deepEqual(h.generalize("85"), ["85", "85-89", "80-89", "80-89", "*"]);
  assert.deepEqual(h.generalize("89"), ["89", "85-89", "80-89", "80-89", "*"]);
  assert.deepEqual(h.generalize("90"), ["90", "90+", "90+", "90+", "*"]);
  assert.deepEqual(h.generalize("104"), ["104", "90+", "90+", "90+", "*"]);
  assert.deepEqual(builtinHierarchy("age:1").generalize("93"), ["93", "90+", "90+", "90+", "90+", "*"]);
  assert.deepEqual(builtinHierarchy("age:1").generalize("42"), ["42", "42", "40-44", "40-49", "40-59", "*"]);
  assert.deepEqual(builtinHierarchy("age").generalize("42"), h.generalize("42"));
  assert.deepEqual(h.generalize(null), ["", "", "", "", "*"]);
  assert.throws(() => h.generalize("forty"), (e: unknown) => e instanceof HierarchyCoverageError && /"forty"/.test((e as Error).message));
  assert.throws(() => builtinHierarchy("age:3"), /1, 5, 10 or 20/);
});

test("hierarchies: generic intervals nest and reject non-nesting widths", () => {
  const h = builtinHierarchy("interval:10,50:top=200");
  assert.deepEqual(h.generalize("123.5"), ["123.5", "120-129", "100-149", "*"]);
  assert.deepEqual(h.generalize("-3"), ["-3", "-10--1", "-50--1", "*"]);
  assert.deepEqual(h.generalize("250"), ["250", "200+", "200+", "*"]);
  assert.throws(() => builtinHierarchy("interval:10,25"), /not a multiple/);
});

test("hierarchies: dates go day > month > quarter > year > decade, and year only", () => {
  const h = builtinHierarchy("date");
  assert.deepEqual(h.generalize("1987-08-14"), ["1987-08-14", "1987-08", "1987-Q3", "1987", "1980-1989", "*"]);
  assert.deepEqual(h.generalize("2020-12-31 23:59:00"), ["2020-12-31 23:59:00", "2020-12", "2020-Q4", "2020", "2020-2029", "*"]);
  assert.throws(() => h.generalize("08/14/1987"), /does not cover the value "08\/14\/1987"/);
  assert.throws(() => h.generalize("1987-13-01"), HierarchyCoverageError);
  const y = builtinHierarchy("year");
  assert.deepEqual(y.generalize("1987-08-14"), ["1987-08-14", "1987", "*"]);
  assert.deepEqual(y.generalize("1987"), ["1987", "1987", "*"]);
});

test("hierarchies: ZIP 5 > 4 > 3 with restricted ZIP3s as 000, recording the list", () => {
  const refs = loadReferenceTables();
  const union = builtinHierarchy("zip", refs);
  assert.equal(union.source, "restricted ZIP3 list: hhs-2000+hrsa-2020");
  assert.deepEqual(union.generalize("02138"), ["02138", "0213*", "021**", "*"]);
  assert.deepEqual(union.generalize("03601"), ["03601", "0360*", "000**", "*"]); // 036 is on both lists
  assert.deepEqual(union.generalize("20201-1234"), ["20201-1234", "2020*", "000**", "*"]); // 202: HRSA 2020 only
  assert.deepEqual(union.generalize("06390"), ["06390", "0639*", "000**", "*"]); // 063: HHS 2000 only
  const hrsa = builtinHierarchy("zip:hrsa-2020", refs);
  assert.deepEqual(hrsa.generalize("06390"), ["06390", "0639*", "063**", "*"]);
  const hhs = builtinHierarchy("zip:hhs-2000", refs);
  assert.deepEqual(hhs.generalize("20201"), ["20201", "2020*", "202**", "*"]);
  assert.throws(() => union.generalize("2138"), /"2138".*5-digit ZIP/);
  assert.throws(() => builtinHierarchy("zip", {}), /restricted ZIP3 lists/);
  assert.throws(() => builtinHierarchy("zip:census-1990", refs), /unknown restricted ZIP3 list "census-1990"/);
  // 17 HHS + 18 HRSA codes, 12 of them on both lists: a union of 23.
  assert.equal(new Set(refs.restrictedZip3Lists!.flatMap((l) => [...l.codes])).size, 23);
});

test("hierarchies: ICD-10-CM code > category > block > chapter, with the range-lookup traps", () => {
  const h = builtinHierarchy("icd10", loadReferenceTables());
  assert.deepEqual(h.generalize("E11.9"), ["E11.9", "E11", "E08-E13", "E00-E89", "*"]);
  assert.deepEqual(h.generalize("c4a1"), ["c4a1", "C4A", "C43-C44", "C00-D49", "*"]);
  assert.deepEqual(h.generalize("M1A.00X0"), ["M1A.00X0", "M1A", "M05-M14", "M00-M99", "*"]);
  assert.deepEqual(h.generalize("Z3A.01"), ["Z3A.01", "Z3A", "Z30-Z39", "Z00-Z99", "*"]);
  assert.deepEqual(h.generalize("C7A.0"), ["C7A.0", "C7A", "C7A", "C00-D49", "*"]);
  assert.deepEqual(h.generalize("D3A"), ["D3A", "D3A", "D3A", "C00-D49", "*"]);
  assert.throws(() => h.generalize("B9Z.1"), /no such ICD-10-CM category/);
  assert.throws(() => h.generalize("U99"), /"U99"/);
});

test("hierarchies: masking keeps a prefix; flat goes straight to *", () => {
  const h = builtinHierarchy("mask:3");
  assert.equal(h.height, 5);
  assert.deepEqual(h.generalize("ABCDE"), ["ABCDE", "ABCD*", "ABC**", "AB***", "*"]);
  assert.deepEqual(h.generalize("AB"), ["AB", "A*", "**", "**", "*"]);
  assert.deepEqual(builtinHierarchy("flat").generalize("F"), ["F", "*"]);
  assert.throws(() => builtinHierarchy("soundex"), /unknown hierarchy "soundex"/);
});

test("hierarchies: ARX format parsing, duplicates, ragged rows and coverage errors", () => {
  const h = parseArxHierarchy("Male;*\r\nFemale;*\r\n", "arx:sex.csv");
  assert.equal(h.height, 2);
  assert.deepEqual(h.generalize("Female"), ["Female", "*"]);
  assert.throws(() => h.generalize("Other"), /hierarchy "arx:sex.csv" does not cover the value "Other"/);
  assert.throws(() => h.generalize(null), /\(missing\)/);
  assert.throws(() => parseArxHierarchy("a;x;*\nb;*\n", "bad.csv"), /bad.csv, line 2: expected 3 levels but found 2/);
  assert.throws(() => parseArxHierarchy("a;x;*\na;y;*\n", "dup.csv"), /value "a" appears twice/);
  // Duplicate identical rows are harmless.
  assert.equal(parseArxHierarchy("a;x;*\na;x;*\n", "ok.csv").generalize("a")[1], "x");
  // Quoted fields with the separator inside.
  assert.deepEqual(parseCsvText('"a;b";x\n', ";"), [["a;b", "x"]]);
  assert.deepEqual(tableHierarchy("t", [["", "none", "*"]]).generalize(null), ["", "none", "*"]);
});

const ADULT = "/work/shared/data/adult";

test("hierarchies: Adult's ARX hierarchies keep their shifted band labels", {skip: existsSync(ADULT) ? false : `shared Adult data not found at ${ADULT}`}, () => {
  const age = readArxHierarchy(`${ADULT}/adult_hierarchy_age.csv`);
  assert.equal(age.name, "arx:adult_hierarchy_age.csv");
  assert.equal(age.height, 5);
  assert.deepEqual(age.generalize("90"), ["90", "85-89", "80-89", "80-99", "*"]);
  assert.deepEqual(age.generalize("21"), ["21", "20-24", "20-29", "20-39", "*"]);
  const country = readArxHierarchy(`${ADULT}/adult_hierarchy_native-country.csv`);
  assert.equal(country.height, 3);
  assert.equal(country.generalize("Holand-Netherlands")[1], "Europe");
  assert.equal(readFileSync(`${ADULT}/adult_hierarchy_native-country.csv`, "utf8").trim().split("\n").length, 41);
  assert.equal(resolveHierarchy(`${ADULT}/adult_hierarchy_sex.csv`).name, "arx:adult_hierarchy_sex.csv");
  assert.equal(resolveHierarchy("age:10").height, 4);
});

test("hierarchies: materialized mapping tables make the generalized view a plain join (both hosts)", async () => {
  for (const host of HOSTS) {
    const conn = await host.open();
    await createTextTable(conn, "t", ["age", "zip", "note"], [
      ["34", "02138", "a"],
      ["91", "03601", "b"],
      [null, "02139", "c"],
      ["36", "02138", "d"]
    ]);
    const refs = loadReferenceTables();
    const m = await materializeHierarchies(conn, "t", [
      {name: "age", hierarchy: builtinHierarchy("age:5")},
      {name: "zip", hierarchy: builtinHierarchy("zip", refs)}
    ]);
    assert.deepEqual(m.map((x) => x.distinctValues), [4, 3]);
    const mapping = await conn.query(`SELECT value, level0, level2, id0, id2 FROM ${m[0].table} ORDER BY value NULLS LAST`);
    assert.deepEqual(mapping.map((r) => [r.value, r.level0, r.level2]), [["34", "34", "30-39"], ["36", "36", "30-39"], ["91", "91", "90+"], [null, null, ""]]);
    // Equal labels share an id; NULL keeps its own id at level 0.
    assert.equal(mapping[0].id2, mapping[1].id2);
    assert.equal(new Set(mapping.map((r) => r.id0)).size, 4);
    const view = await conn.query(`${generalizedViewSql("t", m, {age: 2, zip: 2})} ORDER BY note`);
    assert.deepEqual(view, [
      {age: "30-39", zip: "021**", note: "a"},
      {age: "90+", zip: "000**", note: "b"},
      {age: "", zip: "021**", note: "c"},
      {age: "30-39", zip: "021**", note: "d"}
    ], host.name);
    await createTextTable(conn, "u", ["zip"], [["2138"], ["ABCDE"], ["02138"]]);
    await assert.rejects(materializeHierarchies(conn, "u", [{name: "zip", hierarchy: builtinHierarchy("zip", refs)}]), /quasi-identifier "zip" has 2 value\(s\) the hierarchy does not cover: .*"2138"/);
    conn.close();
  }
});

test("hierarchies: the SQL fast path labels exactly as generalize() does (both hosts)", async () => {
  const refs = loadReferenceTables();
  const rnd = (() => {
    let s = 12345;
    return () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  })();
  const numbers = ["0", "-0", "4", "5", "89", "90", "91", "-3", "-10", "12.5", "89.999", "1e3", " 34", "007", "999999999999999", ...Array.from({length: 200}, () => (rnd() * 400 - 100).toFixed(Math.floor(rnd() * 3)))];
  const cases: [string, string[]][] = [
    ["age:5", numbers],
    ["age:1", numbers],
    ["interval:10,50:top=200", numbers],
    ["interval:3,6", numbers],
    ["date", ["2020-02-30", "1999-12-31", "2000-01-01T10:00:00", "2000-01-01 ", " 2001-05-05", "0001-01-01", "9999-12-31 23:59:59", ...Array.from({length: 100}, () => `${1900 + Math.floor(rnd() * 130)}-${String(1 + Math.floor(rnd() * 12)).padStart(2, "0")}-${String(1 + Math.floor(rnd() * 31)).padStart(2, "0")}`)]],
    ["year", ["1987", "1987-08-14", " 1990", "2000-01-01 00:00:00"]],
    ["zip", ["02138", "02138-1234", "021381234", "03601", "20201", "06390", " 02139", ...Array.from({length: 100}, () => String(Math.floor(rnd() * 100000)).padStart(5, "0"))]],
    ["zip:hrsa-2020", ["06390", "20201", "89301"]],
    ["mask:3", ["", "A", "AB", "ABCDE", "héllo", "tab\there", "a'b", "***"]],
    ["flat", ["x", "", "y z", "é"]]
  ];
  for (const host of HOSTS) {
    const conn = await host.open();
    for (const [spec, values] of cases) {
      const h = builtinHierarchy(spec, refs);
      assert.ok(h.sql, `${spec} has an SQL path`);
      const distinct = [...new Set(values)];
      await createTextTable(conn, "v", ["x"], [...distinct.map((v) => [v]), [null]]);
      const [m] = await materializeHierarchies(conn, "v", [{name: "x", hierarchy: h}]);
      const rows = await conn.query(`SELECT * FROM ${m.table}`);
      assert.equal(rows.length, distinct.length + 1, `${host.name} ${spec}`);
      for (const r of rows) {
        const value = r.value as string | null;
        const expected = h.generalize(value);
        const actual = Array.from({length: h.height}, (_, j) => r[`level${j}`]);
        if (value === null) expected[0] = null as unknown as string;
        assert.deepEqual(actual, expected, `${host.name} ${spec} ${JSON.stringify(value)}`);
      }
    }
    conn.close();
  }
});
