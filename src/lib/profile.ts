import {quoteIdentifier, quoteLiteral, type SqlConnection} from "./sql.js";

export interface ColumnProfile {
  name: string;
  /** DuckDB's inferred type, e.g. BIGINT, DOUBLE, DATE, VARCHAR. */
  type: string;
  /** Number of distinct non-missing values. */
  distinct: number;
  /** Number of missing (NULL, i.e. empty in the CSV) values. */
  missing: number;
  /** Most frequent non-missing values, most frequent first, ties broken by value text. */
  top: {value: string; count: number}[];
}

export interface TableProfile {
  table: string;
  rows: number;
  columns: ColumnProfile[];
}

/** Describe the columns of a loaded table in the order they appear. */
export async function describeColumns(conn: SqlConnection, table: string): Promise<{name: string; type: string}[]> {
  const rows = await conn.query(
    `SELECT column_name AS name, data_type AS type FROM information_schema.columns WHERE table_name = ${quoteLiteral(table)} ORDER BY ordinal_position`
  );
  return rows.map((r) => ({name: String(r.name), type: String(r.type)}));
}

/** Per-column profile: distinct and missing counts and the most frequent values, all computed in SQL. */
export async function profileTable(conn: SqlConnection, table: string, {topN = 5}: {topN?: number} = {}): Promise<TableProfile> {
  const t = quoteIdentifier(table);
  const columns = await describeColumns(conn, table);
  const [{rows}] = await conn.query(`SELECT count(*)::BIGINT AS rows FROM ${t}`);
  if (columns.length === 0) return {table, rows: Number(rows), columns: []};
  const counts = await conn.query(
    `SELECT ${columns
      .map((c, i) => `count(DISTINCT ${quoteIdentifier(c.name)})::BIGINT AS d${i}, (count(*) - count(${quoteIdentifier(c.name)}))::BIGINT AS m${i}`)
      .join(", ")} FROM ${t}`
  );
  const top = await conn.query(
    columns
      .map(
        (c, i) => `SELECT * FROM (SELECT ${i} AS col, CAST(${quoteIdentifier(c.name)} AS VARCHAR) AS value, count(*)::BIGINT AS n FROM ${t} WHERE ${quoteIdentifier(c.name)} IS NOT NULL GROUP BY 2 ORDER BY n DESC, value ASC LIMIT ${Math.max(0, Math.floor(topN))})`
      )
      .join(" UNION ALL ") + " ORDER BY col, n DESC, value ASC"
  );
  return {
    table,
    rows: Number(rows),
    columns: columns.map((c, i) => ({
      name: c.name,
      type: c.type,
      distinct: Number(counts[0][`d${i}`]),
      missing: Number(counts[0][`m${i}`]),
      top: top.filter((r) => Number(r.col) === i).map((r) => ({value: String(r.value), count: Number(r.n)}))
    }))
  };
}

/** A paged slice of a table in its stored order, for the preview. */
export async function previewRows(conn: SqlConnection, table: string, {offset = 0, limit = 20}: {offset?: number; limit?: number} = {}) {
  return conn.query(`SELECT * FROM ${quoteIdentifier(table)} LIMIT ${Math.max(0, Math.floor(limit))} OFFSET ${Math.max(0, Math.floor(offset))}`);
}

/** Plain-text rendering of a profile, shared by the CLI and tests. */
export function formatProfile(profile: TableProfile): string {
  const lines = [`${profile.table}: ${profile.rows} rows, ${profile.columns.length} columns`, ""];
  const nameWidth = Math.max(6, ...profile.columns.map((c) => c.name.length));
  const typeWidth = Math.max(4, ...profile.columns.map((c) => c.type.length));
  lines.push(`${"column".padEnd(nameWidth)}  ${"type".padEnd(typeWidth)}  ${"distinct".padStart(8)}  ${"missing".padStart(8)}  top values`);
  for (const c of profile.columns) {
    const top = c.top.map((t) => `${t.value} (${t.count})`).join(", ");
    lines.push(`${c.name.padEnd(nameWidth)}  ${c.type.padEnd(typeWidth)}  ${String(c.distinct).padStart(8)}  ${String(c.missing).padStart(8)}  ${top}`);
  }
  return lines.join("\n") + "\n";
}
