/**
 * The package's data files, written a chunk at a time so a table larger than memory streams from
 * DuckDB to disk: data.csv (RFC 4180) and data.parquet (hyparquet-writer, pure JS: DuckDB-WASM cannot
 * load its Parquet extension offline) hold the same rows, in the same order, with the same values.
 *
 * Byte-identity does not depend on how the rows arrive: CSV is row by row, and Parquet row groups are
 * always cut at PARQUET_ROW_GROUP_ROWS rows, so the browser (one chunk in memory) and the CLI (chunks
 * from a stream) write the same bytes.
 */
import {ByteWriter, ParquetWriter, schemaFromColumnData} from "hyparquet-writer";
import {TOOL_VERSION, type FieldType} from "./transform-config.js";

/** A chunk of rows by columns: `columns[j][i]` is row i's value of column j as text (null = missing). */
export interface TextColumns {
  rows: number;
  columns: (string | null)[][];
}

/** A table to write: its columns and its rows in package order, chunk by chunk. */
export interface TableRows {
  columns: string[];
  /** Dictionary type of each column (decides which columns may be typed numbers in Parquet). */
  types: FieldType[];
  /** The rows in package order. `only` (column indexes) asks for those columns only, in that order. */
  chunks(only?: number[]): AsyncIterable<TextColumns>;
  /** Optional: the distinct values of column j (any order, in chunks); typing reads these instead of every row. */
  distinct?(j: number): AsyncIterable<TextColumns>;
}

/** Something that takes a file's bytes in order. */
export interface ByteSink {
  write(bytes: Uint8Array): void | Promise<void>;
}

export const PARQUET_ROW_GROUP_ROWS = 100_000;
const CSV_FLUSH_CHARS = 1 << 20;

export type ParquetColumnType = "INT64" | "DOUBLE" | "STRING";

// ---------------------------------------------------------------------------------------------
// CSV

/** One CSV field (RFC 4180): quoted when it holds a comma, quote, CR or LF, or is the empty string (to tell it from missing). */
export function formatCsvField(value: string | null): string {
  if (value === null) return "";
  if (value === "" || /[",\r\n]/.test(value)) return `"${value.replace(/"/g, '""')}"`;
  return value;
}

export function formatCsv(columns: string[], rows: (string | null)[][]): string {
  const parts: string[] = [columns.map(formatCsvField).join(",") + "\n"];
  for (const row of rows) parts.push(row.map(formatCsvField).join(",") + "\n");
  return parts.join("");
}

// ---------------------------------------------------------------------------------------------
// Parquet column types

/** True when `v` is an integer whose canonical text is `v` and that fits INT64. */
export function isCanonicalInt64(v: string): boolean {
  if (!/^-?\d+$/.test(v)) return false;
  const n = BigInt(v);
  return String(n) === v && n >= -(2n ** 63n) && n < 2n ** 63n;
}

/** True when `v` is a finite number whose JS canonical text is `v` (so a DOUBLE reads back as the CSV text). */
export function isCanonicalDouble(v: string): boolean {
  return v.trim() === v && v !== "" && Number.isFinite(Number(v)) && String(Number(v)) === v;
}

/**
 * A column is typed INT64 / DOUBLE only when the dictionary says integer / decimal and every value's
 * canonical number text equals the CSV text, so both files hold exactly the same values; else STRING.
 * Reads only the integer and decimal columns, and stops as soon as none can be numeric.
 */
export async function decideParquetTypes(table: TableRows): Promise<ParquetColumnType[]> {
  const result: ParquetColumnType[] = table.types.map((t) => (t === "integer" ? "INT64" : t === "decimal" ? "DOUBLE" : "STRING"));
  const candidates = result.map((t, j) => (t === "STRING" ? -1 : j)).filter((j) => j >= 0);
  if (candidates.length === 0) return result;
  if (table.distinct) {
    for (const j of candidates) {
      const check = result[j] === "INT64" ? isCanonicalInt64 : isCanonicalDouble;
      scan: for await (const chunk of table.distinct(j)) {
        const values = chunk.columns[0];
        for (let i = 0; i < chunk.rows; ++i) {
          const v = values[i];
          if (v !== null && !check(v)) {
            result[j] = "STRING";
            break scan;
          }
        }
      }
    }
    return result;
  }
  let open = candidates.slice();
  for await (const chunk of table.chunks(candidates)) {
    candidates.forEach((j, position) => {
      if (result[j] === "STRING") return;
      const check = result[j] === "INT64" ? isCanonicalInt64 : isCanonicalDouble;
      const values = chunk.columns[position];
      for (let i = 0; i < chunk.rows; ++i) {
        const v = values[i];
        if (v !== null && !check(v)) {
          result[j] = "STRING";
          return;
        }
      }
    });
    open = open.filter((j) => result[j] !== "STRING");
    if (open.length === 0) break;
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Writers

/** ByteWriter that hands its bytes to a sink after every row group instead of growing one buffer. */
class DrainingByteWriter extends ByteWriter {
  constructor(private readonly sink: ByteSink) {
    super(1 << 20);
  }
  flush(): void | Promise<void> {
    if (this.index === 0) return;
    const bytes = new Uint8Array(this.buffer.slice(0, this.index));
    this.index = 0;
    return this.sink.write(bytes);
  }
  finish(): void {}
}

function parquetColumn(name: string, type: ParquetColumnType, values: (string | null)[]) {
  if (type === "INT64") return {name, data: values.map((v) => (v === null ? null : BigInt(v))), type, nullable: true};
  if (type === "DOUBLE") return {name, data: values.map((v) => (v === null ? null : Number(v))), type, nullable: true};
  return {name, data: values, type, nullable: true};
}

/**
 * Write a table's CSV and Parquet files in one pass over its rows. Memory: one Parquet row group
 * (PARQUET_ROW_GROUP_ROWS rows) plus about 1 MB of CSV text, whatever the table's size.
 */
export async function writeDataFiles(table: TableRows, csv: ByteSink, parquet: ByteSink, {onRows}: {onRows?: (rows: number) => void} = {}): Promise<{records: number}> {
  const types = await decideParquetTypes(table);
  const encoder = new TextEncoder();
  const pw = new DrainingByteWriter(parquet);
  const schema = schemaFromColumnData({columnData: table.columns.map((name, j) => ({name, data: [], type: types[j], nullable: true})) as any});
  const writer = new ParquetWriter({writer: pw, schema, codec: "SNAPPY", statistics: true, createdBy: `deid-workbench ${TOOL_VERSION} (hyparquet-writer)`});

  let csvText = table.columns.map(formatCsvField).join(",") + "\n";
  const flushCsv = async () => {
    if (csvText.length === 0) return;
    const bytes = encoder.encode(csvText);
    csvText = "";
    await csv.write(bytes);
  };
  let pending: (string | null)[][] = table.columns.map(() => []);
  let pendingRows = 0;
  const writeGroup = async (rows: number) => {
    const group = pending.map((values) => values.slice(0, rows));
    pending = pending.map((values) => values.slice(rows));
    pendingRows -= rows;
    await writer.write({columnData: table.columns.map((name, j) => parquetColumn(name, types[j], group[j])) as any, rowGroupSize: PARQUET_ROW_GROUP_ROWS});
  };

  let records = 0;
  const width = table.columns.length;
  for await (const chunk of table.chunks()) {
    const cols = chunk.columns;
    for (let i = 0; i < chunk.rows; ++i) {
      let line = "";
      for (let j = 0; j < width; ++j) line += (j ? "," : "") + formatCsvField(cols[j][i]);
      csvText += line + "\n";
      if (csvText.length >= CSV_FLUSH_CHARS) await flushCsv();
    }
    for (let j = 0; j < width; ++j) {
      const target = pending[j];
      const source = cols[j];
      for (let i = 0; i < chunk.rows; ++i) target.push(source[i]);
    }
    pendingRows += chunk.rows;
    records += chunk.rows;
    while (pendingRows >= PARQUET_ROW_GROUP_ROWS) await writeGroup(PARQUET_ROW_GROUP_ROWS);
    onRows?.(records);
  }
  if (pendingRows > 0) await writeGroup(pendingRows);
  await flushCsv();
  writer.finish();
  await pw.flush();
  return {records};
}

/** A table held in memory as rows (tests, small tables), as TableRows. */
export function tableRowsFromRows(columns: string[], types: FieldType[], rows: (string | null)[][], chunkRows = PARQUET_ROW_GROUP_ROWS): TableRows {
  return {
    columns,
    types,
    async *chunks(only?: number[]) {
      const pick = only ?? columns.map((_, j) => j);
      for (let start = 0; start < rows.length; start += chunkRows) {
        const slice = rows.slice(start, start + chunkRows);
        yield {rows: slice.length, columns: pick.map((j) => slice.map((r) => r[j]))};
      }
    }
  };
}
