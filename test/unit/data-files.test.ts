import {test} from "node:test";
import assert from "node:assert/strict";
import {createHash} from "node:crypto";
import {unzipSync} from "fflate";
import {parquetReadObjects} from "hyparquet";
import {parquetWriteBuffer} from "hyparquet-writer";
import {decideParquetTypes, formatCsv, isCanonicalDouble, isCanonicalInt64, PARQUET_ROW_GROUP_ROWS, tableRowsFromRows, writeDataFiles} from "../../src/lib/data-files.js";
import {checkZipLimits, writeZip, zipPackage, ZIP_DEFLATE_CHUNK} from "../../src/lib/package-zip.js";
import {streamColumns} from "../../src/lib/sql.js";
import {TOOL_VERSION, type FieldType} from "../../src/lib/transform-config.js";
import {random as mulberry32} from "../helpers/random.js";
import {hostNames, openHost} from "../helpers/hosts.js";

function collect(): {write(b: Uint8Array): void; bytes(): Buffer} {
  const parts: Uint8Array[] = [];
  return {write: (b) => void parts.push(b), bytes: () => Buffer.concat(parts)};
}

function randomTable(rows: number, seed: number): {columns: string[]; types: FieldType[]; rows: (string | null)[][]} {
  const random = mulberry32(seed);
  const columns = ["id", "n", "x", "s", "mixed"];
  const types: FieldType[] = ["string", "integer", "decimal", "string", "integer"];
  const out: (string | null)[][] = [];
  for (let i = 0; i < rows; ++i) {
    const r = random();
    out.push([
      `id${i}`,
      r < 0.05 ? null : String(Math.floor(random() * 1e6) - 5e5),
      r < 0.1 ? null : String(Math.round(random() * 1e4) / 100),
      r < 0.02 ? "" : r < 0.04 ? 'a,"b"\nc' : `s${Math.floor(random() * 50)}`,
      // one non-canonical integer deep in the table turns the whole column into strings
      i === rows - 3 ? "007" : String(i)
    ]);
  }
  return {columns, types, rows: out};
}

/** The one-shot reference: hyparquet-writer on the whole table at once, types decided by the same rule written out here. */
function oneShotParquet(columns: string[], types: FieldType[], rows: (string | null)[][]): Buffer {
  const columnData = columns.map((name, j) => {
    const values = rows.map((r) => r[j]);
    if (types[j] === "integer" && values.every((v) => v === null || /^(0|-?[1-9]\d*)$/.test(v))) return {name, data: values.map((v) => (v === null ? null : BigInt(v))), type: "INT64", nullable: true};
    if (types[j] === "decimal" && values.every((v) => v === null || String(Number(v)) === v)) return {name, data: values.map((v) => (v === null ? null : Number(v))), type: "DOUBLE", nullable: true};
    return {name, data: values, type: "STRING", nullable: true};
  });
  return Buffer.from(parquetWriteBuffer({columnData: columnData as any, codec: "SNAPPY", statistics: true, rowGroupSize: PARQUET_ROW_GROUP_ROWS, createdBy: `deid-workbench ${TOOL_VERSION} (hyparquet-writer)`}));
}

test("streamed data files are byte-identical to one-shot CSV and Parquet, however the rows are chunked", async () => {
  const table = randomTable(230_017, 11);
  const expectedCsv = Buffer.from(formatCsv(table.columns, table.rows));
  const expectedParquet = oneShotParquet(table.columns, table.types, table.rows);
  for (const chunkRows of [2048, 99_999, 300_000]) {
    const csv = collect();
    const parquet = collect();
    const {records} = await writeDataFiles(tableRowsFromRows(table.columns, table.types, table.rows, chunkRows), csv, parquet);
    assert.equal(records, table.rows.length);
    assert.ok(csv.bytes().equals(expectedCsv), `CSV differs with chunks of ${chunkRows}`);
    assert.ok(parquet.bytes().equals(expectedParquet), `Parquet differs with chunks of ${chunkRows}`);
  }
  const back = await parquetReadObjects({file: new Uint8Array(expectedParquet).buffer as ArrayBuffer, rowStart: 0, rowEnd: 5});
  assert.equal(typeof back[0].n, "bigint");
  assert.equal(typeof back[0].x, "number");
  assert.equal(typeof back[0].mixed, "string", "one \"007\" makes the column text");
});

test("an empty table gives a header-only CSV and a Parquet file with no row groups", async () => {
  const csv = collect();
  const parquet = collect();
  await writeDataFiles(tableRowsFromRows(["a", "b"], ["integer", "string"], []), csv, parquet);
  assert.equal(csv.bytes().toString(), "a,b\n");
  assert.ok(parquet.bytes().equals(oneShotParquet(["a", "b"], ["integer", "string"], [])));
});

test("numeric typing: canonical number text only", async () => {
  for (const v of ["0", "42", "-9", "9223372036854775807", "-9223372036854775808"]) assert.ok(isCanonicalInt64(v), v);
  for (const v of ["007", "-0", "+1", "1.0", " 1", "9223372036854775808", "", "1e3"]) assert.ok(!isCanonicalInt64(v), v);
  for (const v of ["1.5", "-0.25", "3", "1e+21", "1.5e-7"]) assert.ok(isCanonicalDouble(v), v);
  for (const v of ["1.50", "1e21", " 1", "", "NaN", "Infinity", "0.10"]) assert.ok(!isCanonicalDouble(v), v);
  const types = await decideParquetTypes(tableRowsFromRows(["a", "b", "c"], ["integer", "decimal", "string"], [["1", "2.5", "7"], [null, "0.10", "8"]]));
  assert.deepEqual(types, ["INT64", "STRING", "STRING"]);
  // the distinct-values path (SQL tables) decides the same, and never reads the rows
  const rows: (string | null)[][] = [["1", "2.5", "7"], [null, "0.10", "8"], ["1", "2.5", "7"]];
  const base = tableRowsFromRows(["a", "b", "c"], ["integer", "decimal", "string"], rows);
  const viaDistinct = await decideParquetTypes({
    ...base,
    chunks: () => {
      throw new Error("rows read although distinct values were offered");
    },
    async *distinct(j: number) {
      const values = [...new Set(rows.map((r) => r[j]))];
      yield {rows: values.length, columns: [values]};
    }
  });
  assert.deepEqual(viaDistinct, ["INT64", "STRING", "STRING"]);
});

test("zip: same bytes whatever the input chunking; entries unzip to the files; sorted names", async () => {
  const random = mulberry32(5);
  const big = new Uint8Array(ZIP_DEFLATE_CHUNK * 2 + 12345).map(() => Math.floor(random() * 16) + 65);
  const files = new Map([["b.csv", big], ["a.json", new TextEncoder().encode("{}")], ["data/x.txt", new Uint8Array(0)]]);
  const whole = await zipPackage(files, "2026-01-31T12:00:00Z");
  for (const piece of [1000, 65_536, ZIP_DEFLATE_CHUNK + 7]) {
    const parts: Uint8Array[] = [];
    await writeZip(
      [...files].map(([name, bytes]) => ({
        name,
        size: bytes.length,
        chunks: function* () {
          for (let at = 0; at < bytes.length; at += piece) yield bytes.subarray(at, at + piece);
        }
      })),
      "2026-01-31T12:00:00Z",
      (b) => void parts.push(b)
    );
    assert.ok(Buffer.concat(parts).equals(Buffer.from(whole)), `zip differs with input pieces of ${piece}`);
  }
  const back = unzipSync(whole);
  assert.deepEqual(Object.keys(back), ["a.json", "b.csv", "data/x.txt"]);
  assert.equal(createHash("sha256").update(back["b.csv"]).digest("hex"), createHash("sha256").update(big).digest("hex"));
  assert.throws(() => checkZipLimits([{name: "data.csv", size: 5 * 2 ** 30}]), /data\.csv is 5368709120 bytes: a zip without ZIP64/);
  assert.throws(() => checkZipLimits([{name: "a", size: 2 ** 31}, {name: "b", size: 2 ** 31}]), /holds under 4 GiB/);
});

for (const host of hostNames) test(`streamColumns gives the query's rows in order, in chunks (${host})`, async () => {
  const conn = await openHost(host);
  await conn.exec(`CREATE OR REPLACE TABLE stream_src AS SELECT (i * 7919 % 5003)::VARCHAR AS a, CASE WHEN i % 7 = 0 THEN NULL ELSE 'v' || i END AS b FROM range(5003) r(i)`);
  const expected = await conn.query(`SELECT a, b FROM stream_src ORDER BY a::INTEGER DESC`);
  const seen: {a: unknown; b: unknown}[] = [];
  let chunks = 0;
  for await (const chunk of streamColumns(conn, `SELECT a, b FROM stream_src ORDER BY a::INTEGER DESC`, {chunkRows: 1000})) {
    chunks++;
    assert.deepEqual(chunk.names, ["a", "b"]);
    for (let i = 0; i < chunk.rows; ++i) seen.push({a: chunk.columns[0][i], b: chunk.columns[1][i]});
  }
  assert.ok(chunks >= 2, "more than one chunk");
  assert.deepEqual(seen, expected);
  const leftovers = await conn.query(`SELECT table_name FROM information_schema.tables WHERE table_name LIKE '__stream_%'`);
  assert.deepEqual(leftovers, []);
  conn.close();
});
