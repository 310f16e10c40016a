import {quoteIdentifier as qi, type SqlConnection} from "./sql.js";

/**
 * A few distinct values of a column to show what a hierarchy does to real data: the most frequent
 * ones, then the smallest, middle and largest distinct values (numeric order when every value is a
 * number, else text order), then a missing value if there is one. As text, without duplicates.
 */
export async function sampleDistinctValues(conn: SqlConnection, table: string, column: string, {frequent = 3}: {frequent?: number} = {}): Promise<(string | null)[]> {
  const v = `CAST(${qi(column)} AS VARCHAR)`;
  const top = await conn.query(`SELECT ${v} AS v, count(*) AS n FROM ${qi(table)} WHERE ${qi(column)} IS NOT NULL GROUP BY 1 ORDER BY n DESC, v LIMIT ${Math.max(0, Math.floor(frequent))}`);
  const [{numeric, distinct, missing}] = await conn.query(
    `SELECT (count(${v}) = count(TRY_CAST(${v} AS DOUBLE)))::BOOLEAN AS numeric, count(DISTINCT ${v})::BIGINT AS distinct, (count(*) - count(${v}))::BIGINT AS missing FROM ${qi(table)}`
  );
  const order = numeric ? `TRY_CAST(v AS DOUBLE), v` : `v COLLATE "binary"`;
  const n = Number(distinct);
  const positions = n === 0 ? [] : [...new Set([0, Math.floor((n - 1) / 2), n - 1])];
  const spread = positions.length
    ? await conn.query(`SELECT v FROM (SELECT v, (row_number() OVER (ORDER BY ${order}) - 1)::BIGINT AS i FROM (SELECT DISTINCT ${v} AS v FROM ${qi(table)} WHERE ${qi(column)} IS NOT NULL)) WHERE i IN (${positions.join(", ")}) ORDER BY i`)
    : [];
  const values: (string | null)[] = [];
  for (const r of [...top, ...spread]) if (!values.includes(r.v as string)) values.push(r.v as string);
  if (Number(missing) > 0) values.push(null);
  return values;
}
