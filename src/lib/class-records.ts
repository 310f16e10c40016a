/**
 * The records behind one equivalence class: the rows of the source table whose quasi-identifiers,
 * generalized to the chosen levels, carry the class's labels. Lets the expert see who is at risk.
 */
import type {FrequencyTable} from "./equivalence-classes.js";
import {levelOf} from "./hierarchies.js";
import {quoteIdentifier as qi, quoteLiteral, type SqlConnection, type SqlRow} from "./sql.js";

export interface ClassRecords {
  /** Columns of the source table, in order. */
  columns: string[];
  /** At most `limit` records, in table order; `__record` is the 1-based row number in the table. */
  rows: SqlRow[];
  /** All records of the class. */
  total: number;
}

/**
 * Records of `freq.source` in the class with `labels` (generalized label per quasi-identifier, null =
 * missing, as listEquivalenceClasses gives them) at `levels`. Uses the hierarchy mapping tables the
 * frequency table owns, so the labels are exactly those the class table was built from.
 */
export async function recordsOfClass(conn: SqlConnection, freq: FrequencyTable, levels: Record<string, number>, labels: Record<string, string | null>, {limit = 100}: {limit?: number} = {}): Promise<ClassRecords> {
  const joins: string[] = [];
  const conditions: string[] = [];
  freq.hierarchies.forEach((m, i) => {
    if (!(m.column in labels)) throw new Error(`no label given for quasi-identifier "${m.column}"`);
    const level = levelOf(m, levels);
    const label = labels[m.column];
    joins.push(`JOIN ${qi(m.table)} h${i} ON CAST(t.${qi(m.column)} AS VARCHAR) IS NOT DISTINCT FROM h${i}.value`);
    conditions.push(`h${i}.level${level} IS NOT DISTINCT FROM ${label === null ? "NULL" : quoteLiteral(label)}`);
  });
  const where = conditions.length ? `WHERE ${conditions.join(" AND ")}` : "";
  const numbered = `(SELECT *, (rowid + 1)::BIGINT AS __record FROM ${qi(freq.source)})`;
  const [{total}] = await conn.query(`SELECT count(*)::BIGINT AS total FROM ${numbered} t ${joins.join(" ")} ${where}`);
  const rows = await conn.query(`SELECT t.* FROM ${numbered} t ${joins.join(" ")} ${where} ORDER BY t.__record LIMIT ${Math.max(0, Math.floor(limit))}`);
  const columnRows = await conn.query(`SELECT column_name FROM information_schema.columns WHERE table_name = ${quoteLiteral(freq.source)} ORDER BY ordinal_position`);
  return {columns: columnRows.map((r) => String(r.column_name)), rows, total: Number(total)};
}
