import {DataType, type Table} from "apache-arrow";
import {normalizeSqlValue, type SqlRow, type SqlValue} from "./sql.js";

/** Convert an Arrow table from DuckDB-WASM into plain rows with the engine's value conventions. */
export function arrowToRows(table: Table): SqlRow[] {
  const fields = table.schema.fields;
  const columns = fields.map((f) => table.getChild(f.name)!);
  const converters = fields.map((f) => converterFor(f.type));
  const rows: SqlRow[] = new Array(table.numRows);
  for (let i = 0; i < table.numRows; ++i) {
    const row: SqlRow = {};
    for (let j = 0; j < fields.length; ++j) row[fields[j].name] = converters[j](columns[j].get(i));
    rows[i] = row;
  }
  return rows;
}

function converterFor(type: DataType): (v: unknown) => SqlValue {
  if (DataType.isDate(type)) return (v) => (v == null ? null : new Date(Number(v)).toISOString().slice(0, 10));
  if (DataType.isTimestamp(type)) {
    // Arrow JS (v17) already converts every timestamp unit to epoch milliseconds.
    return (v) => (v == null ? null : formatTimestamp(Number(v)));
  }
  if (DataType.isDecimal(type)) {
    const scale = (type as any).scale as number;
    return (v) => (v == null ? null : decimalToNumber(v, scale));
  }
  if (DataType.isList(type) || DataType.isStruct(type) || DataType.isMap(type)) return (v) => (v == null ? null : JSON.stringify((v as any).toJSON?.() ?? v, (_k, x) => (typeof x === "bigint" ? Number(x) : x)));
  return normalizeSqlValue;
}

function formatTimestamp(ms: number): string {
  const d = new Date(ms);
  const iso = d.toISOString();
  return ms % 86_400_000 === 0 ? iso.slice(0, 10) : iso.slice(0, 19).replace("T", " ");
}

function decimalToNumber(v: unknown, scale: number): number {
  // Arrow JS hands decimals back as a Uint32Array-backed BigNum; its string form is the unscaled integer.
  const unscaled = Number(typeof v === "bigint" ? v : BigInt(String(v)));
  return unscaled / 10 ** scale;
}
