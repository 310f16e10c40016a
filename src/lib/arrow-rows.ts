import {DataType, type Table} from "apache-arrow";
import {normalizeSqlValue, type SqlColumn, type SqlColumns, type SqlRow, type SqlValue} from "./sql.js";

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

/**
 * Convert an Arrow table from DuckDB-WASM into columns with the same values as `arrowToRows`:
 * Int32Array for integers of at most 32 bits without NULLs, Float64Array for other numbers without
 * NULLs, plain arrays otherwise. Columns are taken by position, so duplicate names are all kept.
 */
export function arrowToColumns(table: Table): SqlColumns {
  const fields = table.schema.fields;
  const rows = table.numRows;
  const columns = fields.map((field, j): SqlColumn => {
    const vector = table.getChildAt(j)!;
    const type = field.type;
    const noNulls = vector.nullCount === 0;
    if (noNulls && DataType.isInt(type) && (type.bitWidth < 32 || (type.bitWidth === 32 && type.isSigned))) {
      const data = vector.toArray() as ArrayLike<number>;
      return data instanceof Int32Array ? data : Int32Array.from(data);
    }
    if (noNulls && DataType.isFloat(type)) {
      const data = vector.toArray() as ArrayLike<number>;
      return data instanceof Float64Array ? data : Float64Array.from(data);
    }
    const convert = converterFor(type);
    const values: SqlValue[] = new Array(rows);
    let i = 0;
    for (const v of vector) values[i++] = convert(v);
    const numeric = DataType.isInt(type) || DataType.isDecimal(type);
    return numeric && noNulls ? Float64Array.from(values as number[]) : values;
  });
  return {names: fields.map((f) => f.name), columns, rows};
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
