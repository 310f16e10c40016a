/**
 * Generalization hierarchies: for each quasi-identifier, the labels a value takes at every level from
 * 0 (original) to the top ("*"). Semantics in docs/semantics.md, "Generalization hierarchies".
 */
import {normalizeIcd10Code, type Icd10Category} from "./icd10.js";
import {parseCsvText} from "./reference-tables.js";
import {columnOf, queryColumns, quoteIdentifier, quoteLiteral, type SqlConnection} from "./sql.js";
import {unionZip3Lists, type RestrictedZip3List} from "./zip3.js";

export interface Hierarchy {
  /** e.g. "age:5", "zip", "arx:adult_hierarchy_age.csv". */
  readonly name: string;
  /** Number of levels including level 0 (original) and the top level ("*"). */
  readonly height: number;
  /** Optional human labels per level. */
  readonly levelNames?: string[];
  /** Where the hierarchy's facts come from (e.g. which restricted ZIP3 list); for reports. */
  readonly source?: string;
  /**
   * All generalizations of one value: result[0] is the value itself (as text), result[height-1] is "*".
   * A missing value (null) is its own value; built-in hierarchies label it "" below the top level.
   * Throws HierarchyCoverageError naming the value when the hierarchy does not cover it.
   */
  generalize(value: string | null): string[];
  /**
   * Optional fast path: SQL over a non-null VARCHAR expression `v`. For every value where `matches(v)`
   * is true, `levels(v)` must give exactly `generalize(v)`; all other values (and NULL) go through
   * `generalize`. Lets materializeHierarchies label millions of distinct values inside DuckDB.
   */
  readonly sql?: SqlGeneralization;
}

export interface SqlGeneralization {
  matches(v: string): string;
  levels(v: string): string[];
}

export class HierarchyCoverageError extends Error {
  name = "HierarchyCoverageError";
  constructor(readonly hierarchy: string, readonly value: string | null, detail = "") {
    super(`hierarchy "${hierarchy}" does not cover the value ${value === null ? "(missing)" : JSON.stringify(value)}${detail ? `: ${detail}` : ""}`);
  }
}

/** Reference data built-in hierarchies need; hosts load it from data/reference/ (see loaders/hierarchy-files.ts). */
export interface ReferenceTables {
  /** Restricted ZIP3 lists; "zip" uses the union of all of them, "zip:NAME" one list by name. */
  restrictedZip3Lists?: RestrictedZip3List[];
  /** ICD-10-CM 3-character category -> block and chapter. */
  icd10Categories?: ReadonlyMap<string, Icd10Category>;
}

const TOP = "*";

/** A hierarchy given as a table: one row per original value, column i = level i. */
export function tableHierarchy(name: string, rows: string[][], source?: string): Hierarchy {
  if (rows.length === 0) throw new Error(`hierarchy ${name}: no rows`);
  const height = rows[0].length;
  const byValue = new Map<string, string[]>();
  rows.forEach((row, i) => {
    if (row.length !== height) throw new Error(`hierarchy ${name}, line ${i + 1}: expected ${height} levels but found ${row.length}`);
    const previous = byValue.get(row[0]);
    if (previous && previous.join("\u0000") !== row.join("\u0000")) {
      throw new Error(`hierarchy ${name}, line ${i + 1}: value ${JSON.stringify(row[0])} appears twice with different generalizations`);
    }
    byValue.set(row[0], row);
  });
  return {
    name,
    height,
    source,
    generalize(value: string | null): string[] {
      const row = value === null ? byValue.get("") ?? byValue.get("NULL") : byValue.get(value);
      if (!row) throw new HierarchyCoverageError(name, value);
      return row.slice();
    }
  };
}

/** Parse the ARX hierarchy format: ';'-separated, no header, one row per original value, column i = level i. */
export function parseArxHierarchy(text: string, name: string): Hierarchy {
  const rows = parseCsvText(text.replace(/^\uFEFF/, ""), ";");
  return tableHierarchy(name, rows, name);
}

/**
 * Built-in hierarchies:
 * - "age" / "age:W": integer bands starting at width W (1, 5, 10 or 20; default 5) and doubling up to 20,
 *   with ages 90 and over top-coded as "90+" at every level above 0 (HIPAA 164.514(b)(2)(i)(C)).
 * - "interval:W1,W2,...[:top=T]": numeric bands of the given widths (each a multiple of the previous).
 * - "date": day -> month (YYYY-MM) -> quarter (YYYY-Qn) -> year -> decade (1990-1999) -> "*".
 * - "year": date or year -> year -> "*".
 * - "zip" / "zip:LIST": 5 digits -> 4 ("0213*") -> 3 ("021**", or "000**" for restricted ZIP3s) -> "*".
 * - "icd10": code -> 3-character category -> block -> chapter (range) -> "*".
 * - "mask:N": level i (1..N) replaces the last i characters by "*"; then "*".
 * - "flat": value -> "*".
 */
export function builtinHierarchy(spec: string, refs: ReferenceTables = {}): Hierarchy {
  const [kind, ...args] = spec.split(":");
  switch (kind) {
    case "age": {
      const start = args[0] === undefined ? 5 : Number(args[0]);
      const widths = [1, 5, 10, 20].filter((w) => w >= start);
      if (!Number.isInteger(start) || start < 1 || !widths.includes(start)) throw new Error(`hierarchy ${spec}: age band width must be 1, 5, 10 or 20`);
      return intervalHierarchy(spec, widths, 90);
    }
    case "interval": {
      const widths = (args[0] ?? "").split(",").map(Number);
      const topArg = args.find((a) => a.startsWith("top="));
      const top = topArg ? Number(topArg.slice(4)) : undefined;
      if (widths.length === 0 || widths.some((w) => !Number.isInteger(w) || w < 1)) throw new Error(`hierarchy ${spec}: widths must be positive integers, e.g. interval:5,10,20`);
      if (top !== undefined && !Number.isFinite(top)) throw new Error(`hierarchy ${spec}: top=T must be a number`);
      return intervalHierarchy(spec, widths, top);
    }
    case "date":
      return dateHierarchy(spec, false);
    case "year":
      return dateHierarchy(spec, true);
    case "zip":
      return zipHierarchy(spec, args[0], refs);
    case "icd10":
      return icd10Hierarchy(spec, refs);
    case "mask": {
      const n = Number(args[0]);
      if (!Number.isInteger(n) || n < 1) throw new Error(`hierarchy ${spec}: mask:N needs a positive number of masked characters`);
      return maskHierarchy(spec, n);
    }
    case "flat":
      return {name: spec, height: 2, levelNames: ["value", "*"], sql: {matches: () => "true", levels: (v) => [v, "'*'"]}, generalize: (v) => [v ?? "", TOP]};
    default:
      throw new Error(`unknown hierarchy ${JSON.stringify(spec)}: expected age[:W], interval:W1,W2,..., date, year, zip[:LIST], icd10, mask:N, flat, or an ARX hierarchy file`);
  }
}

function intervalHierarchy(name: string, widths: number[], top?: number): Hierarchy {
  for (let i = 1; i < widths.length; ++i) {
    if (widths[i] % widths[i - 1] !== 0) throw new Error(`hierarchy ${name}: width ${widths[i]} is not a multiple of ${widths[i - 1]}, so bands would not nest`);
  }
  const band = (x: number, w: number) => {
    if (top !== undefined && x >= top) return `${top}+`;
    const lo = Math.floor(x / w) * w;
    if (w === 1) return String(lo);
    const hi = top !== undefined ? Math.min(lo + w - 1, top - 1) : lo + w - 1;
    return `${lo}-${hi}`;
  };
  // SQL path only for plain decimals of at most 15 digits (exact in doubles) and an integer top code.
  const sql: SqlGeneralization | undefined =
    top === undefined || Number.isInteger(top)
      ? {
          matches: (v) => `regexp_full_match(${v}, '-?[0-9]{1,15}([.][0-9]{1,15})?')`,
          levels: (v) => {
            const x = `TRY_CAST(${v} AS DOUBLE)`;
            const labels = widths.map((w) => {
              const lo = `CAST(floor(${x} / ${w}) * ${w} AS BIGINT)`;
              const hi = top !== undefined ? `least(${lo} + ${w - 1}, ${top - 1})` : `${lo} + ${w - 1}`;
              const band = w === 1 ? `CAST(${lo} AS VARCHAR)` : `CAST(${lo} AS VARCHAR) || '-' || CAST(${hi} AS VARCHAR)`;
              return top !== undefined ? `CASE WHEN ${x} >= ${top} THEN '${top}+' ELSE ${band} END` : band;
            });
            return [v, ...labels, "'*'"];
          }
        }
      : undefined;
  return {
    name,
    height: widths.length + 2,
    levelNames: ["value", ...widths.map((w) => (w === 1 ? (top !== undefined ? `year, ${top}+` : "1") : `${w}-band`)), "*"],
    sql,
    generalize(value) {
      if (value === null) return ["", ...widths.map(() => ""), TOP];
      const x = Number(value.trim());
      if (value.trim() === "" || !Number.isFinite(x)) throw new HierarchyCoverageError(name, value, "not a number");
      return [value, ...widths.map((w) => band(x, w)), TOP];
    }
  };
}

const DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})(?:[T ].*)?$/;

function dateHierarchy(name: string, yearOnly: boolean): Hierarchy {
  return {
    name,
    height: yearOnly ? 3 : 6,
    levelNames: yearOnly ? ["value", "year", "*"] : ["day", "month", "quarter", "year", "decade", "*"],
    sql: {
      // Strict ISO dates without surrounding blanks; anything else takes the JavaScript path.
      matches: (v) =>
        `(regexp_full_match(${v}, '[0-9]{4}-[0-9]{2}-[0-9]{2}([T ].*)?') AND TRY_CAST(substr(${v}, 6, 2) AS INTEGER) BETWEEN 1 AND 12 AND TRY_CAST(substr(${v}, 9, 2) AS INTEGER) BETWEEN 1 AND 31)${yearOnly ? ` OR regexp_full_match(${v}, '[0-9]{4}')` : ""}`,
      levels: (v) => {
        const y = `substr(${v}, 1, 4)`;
        if (yearOnly) return [v, y, "'*'"];
        const month = `TRY_CAST(substr(${v}, 6, 2) AS INTEGER)`;
        const decade = `TRY_CAST(${y} AS INTEGER) // 10 * 10`;
        return [v, `substr(${v}, 1, 7)`, `${y} || '-Q' || CAST((${month} + 2) // 3 AS VARCHAR)`, y, `CAST(${decade} AS VARCHAR) || '-' || CAST(${decade} + 9 AS VARCHAR)`, "'*'"];
      }
    },
    generalize(value) {
      if (value === null) return yearOnly ? ["", "", TOP] : ["", "", "", "", "", TOP];
      const v = value.trim();
      if (yearOnly && /^\d{4}$/.test(v)) return [value, v, TOP];
      const m = DATE_PATTERN.exec(v);
      if (!m || Number(m[2]) < 1 || Number(m[2]) > 12 || Number(m[3]) < 1 || Number(m[3]) > 31) throw new HierarchyCoverageError(name, value, "expected an ISO date YYYY-MM-DD");
      const [, y, mo] = m;
      if (yearOnly) return [value, y, TOP];
      const decade = Math.floor(Number(y) / 10) * 10;
      return [value, `${y}-${mo}`, `${y}-Q${Math.ceil(Number(mo) / 3)}`, y, `${decade}-${decade + 9}`, TOP];
    }
  };
}

function zipHierarchy(name: string, listName: string | undefined, refs: ReferenceTables): Hierarchy {
  const lists = refs.restrictedZip3Lists ?? [];
  if (lists.length === 0) throw new Error(`hierarchy ${name}: needs the restricted ZIP3 lists (data/reference/zip3/)`);
  const list = listName === undefined ? unionZip3Lists(lists) : lists.find((l) => l.name === listName);
  if (!list) throw new Error(`hierarchy ${name}: unknown restricted ZIP3 list ${JSON.stringify(listName)}; available: ${lists.map((l) => l.name).join(", ")}`);
  return {
    name,
    height: 4,
    levelNames: ["ZIP5", "ZIP4", "ZIP3 (restricted -> 000)", "*"],
    source: `restricted ZIP3 list: ${list.name}`,
    sql: {
      matches: (v) => `regexp_full_match(${v}, '[0-9]{5}(-?[0-9]{4})?')`,
      levels: (v) => {
        const restricted = list.codes.size ? `substr(${v}, 1, 3) IN (${[...list.codes].map((c) => `'${c}'`).join(", ")})` : "false";
        return [v, `substr(${v}, 1, 4) || '*'`, `CASE WHEN ${restricted} THEN '000' ELSE substr(${v}, 1, 3) END || '**'`, "'*'"];
      }
    },
    generalize(value) {
      if (value === null) return ["", "", "", TOP];
      const m = /^(\d{5})(?:-?\d{4})?$/.exec(value.trim());
      if (!m) throw new HierarchyCoverageError(name, value, "expected a 5-digit ZIP code (ZIP codes must be loaded as text to keep leading zeros)");
      const zip3 = m[1].slice(0, 3);
      return [value, `${m[1].slice(0, 4)}*`, `${list.codes.has(zip3) ? "000" : zip3}**`, TOP];
    }
  };
}

function icd10Hierarchy(name: string, refs: ReferenceTables): Hierarchy {
  const categories = refs.icd10Categories;
  if (!categories) throw new Error(`hierarchy ${name}: needs the ICD-10-CM category table (data/reference/icd10/)`);
  return {
    name,
    height: 5,
    levelNames: ["code", "category", "block", "chapter", "*"],
    source: "ICD-10-CM FY2021 categories (CDC/NCHS)",
    generalize(value) {
      if (value === null) return ["", "", "", "", TOP];
      const code = normalizeIcd10Code(value);
      const category = categories.get(code.slice(0, 3));
      if (code.length < 3 || !category) throw new HierarchyCoverageError(name, value, "no such ICD-10-CM category");
      return [value, code.slice(0, 3), category.block, category.chapter, TOP];
    }
  };
}

function maskHierarchy(name: string, n: number): Hierarchy {
  return {
    name,
    height: n + 2,
    levelNames: ["value", ...Array.from({length: n}, (_, i) => `mask ${i + 1}`), "*"],
    sql: {
      // Printable ASCII only, where JavaScript's string length equals DuckDB's.
      matches: (v) => `regexp_full_match(${v}, '[ -~]*')`,
      levels: (v) => [v, ...Array.from({length: n}, (_, k) => `left(${v}, greatest(0, length(${v}) - ${k + 1})) || repeat('*', least(length(${v}), ${k + 1}))`), "'*'"]
    },
    generalize(value) {
      const v = value ?? "";
      const levels = [v];
      for (let i = 1; i <= n; ++i) {
        const keep = Math.max(0, v.length - i);
        levels.push(v.slice(0, keep) + "*".repeat(v.length - keep));
      }
      levels.push(TOP);
      return levels;
    }
  };
}

/** A quasi-identifier and its hierarchy. */
export interface QuasiIdentifier {
  name: string;
  hierarchy: Hierarchy;
}

/**
 * A hierarchy materialized in DuckDB for one column of one table: `table` has one row per distinct
 * value (`value` = CAST(column AS VARCHAR), NULL is its own row) with the labels `level0..level{h-1}`
 * (VARCHAR) and integer ids `id0..id{h-1}` of those labels (0-based, dense; equal labels, equal ids;
 * the order of ids is arbitrary).
 */
export interface MaterializedHierarchy {
  readonly column: string;
  readonly hierarchy: Hierarchy;
  readonly table: string;
  readonly distinctValues: number;
}

let materializeCounter = 0;

/**
 * Create the mapping tables of `quasiIdentifiers` for `table`, so that a generalized view is a plain
 * SQL join (see generalizedViewSql). Throws naming the column and the first uncovered values.
 */
export async function materializeHierarchies(conn: SqlConnection, table: string, quasiIdentifiers: QuasiIdentifier[], {prefix}: {prefix?: string} = {}): Promise<MaterializedHierarchy[]> {
  const base = prefix ?? `__hier_${++materializeCounter}`;
  const result: MaterializedHierarchy[] = [];
  for (const [i, qi] of quasiIdentifiers.entries()) {
    const mapTable = `${base}_${i}`;
    const distinct = `${mapTable}__distinct`;
    const staging = `${mapTable}__labels`;
    const h = qi.hierarchy;
    const levelColumns = Array.from({length: h.height}, (_, j) => `level${j}`);
    await conn.exec(`CREATE OR REPLACE TEMP TABLE ${quoteIdentifier(distinct)} AS SELECT DISTINCT CAST(${quoteIdentifier(qi.name)} AS VARCHAR) AS v FROM ${quoteIdentifier(table)}`);
    await conn.exec(`CREATE OR REPLACE TEMP TABLE ${quoteIdentifier(staging)} (value VARCHAR, ${levelColumns.map((c) => `${c} VARCHAR`).join(", ")})`);
    let rest = `SELECT v FROM ${quoteIdentifier(distinct)}`;
    if (h.sql) {
      const levels = h.sql.levels("v");
      if (levels.length !== h.height) throw new Error(`hierarchy "${h.name}": its SQL gives ${levels.length} levels, expected ${h.height}`);
      const matches = `(v IS NOT NULL AND coalesce(${h.sql.matches("v")}, false))`;
      await conn.exec(`INSERT INTO ${quoteIdentifier(staging)} SELECT v, ${levels.join(", ")} FROM ${quoteIdentifier(distinct)} WHERE ${matches}`);
      rest += ` WHERE NOT ${matches}`;
    }
    // The values the SQL path does not cover (all of them for table hierarchies) are labelled here,
    // once per distinct value, and sent back as one string per level.
    const distinctValues = columnOf(await queryColumns(conn, rest), "v") as (string | null)[];
    const uncovered: (string | null)[] = [];
    const columns: string[][] = levelColumns.map(() => []);
    const values: string[] = [];
    let hasNull = false;
    let nullLabels: string[] = [];
    let firstError: HierarchyCoverageError | undefined;
    for (const value of distinctValues) {
      let labels: string[];
      try {
        labels = h.generalize(value);
      } catch (error) {
        if (!(error instanceof HierarchyCoverageError)) throw error;
        firstError ??= error;
        uncovered.push(value);
        continue;
      }
      if (labels.length !== h.height) throw new Error(`quasi-identifier "${qi.name}": hierarchy "${h.name}" gave ${labels.length} levels for ${JSON.stringify(value)}, expected ${h.height}`);
      if (value === null) {
        hasNull = true;
        nullLabels = labels;
        continue;
      }
      values.push(value);
      labels.forEach((l, j) => columns[j].push(l));
    }
    if (uncovered.length > 0) {
      const examples = uncovered.slice(0, 5).map((v) => (v === null ? "(missing)" : JSON.stringify(v))).join(", ");
      throw new HierarchyCoverageError(h.name, firstError!.value, `quasi-identifier "${qi.name}" has ${uncovered.length} value(s) the hierarchy does not cover: ${examples}${uncovered.length > 5 ? ", ..." : ""}`);
    }
    await insertLabelColumns(conn, staging, values, columns);
    if (hasNull) await conn.exec(`INSERT INTO ${quoteIdentifier(staging)} VALUES (NULL, ${nullLabels.map((l, j) => (j === 0 ? "NULL" : quoteLiteral(l))).join(", ")})`);
    // Ids number the distinct labels of each level (arbitrary but fixed order); hash joins, no sorts.
    const idJoins = levelColumns.slice(1).map((c, k) => `JOIN (SELECT l, (row_number() OVER () - 1)::INTEGER AS id FROM (SELECT DISTINCT ${c} AS l FROM ${quoteIdentifier(staging)})) d${k + 1} ON s.${c} IS NOT DISTINCT FROM d${k + 1}.l`);
    const ids = ["(row_number() OVER () - 1)::INTEGER AS id0", ...levelColumns.slice(1).map((_, k) => `d${k + 1}.id AS id${k + 1}`)];
    await conn.exec(`CREATE OR REPLACE TEMP TABLE ${quoteIdentifier(mapTable)} AS SELECT s.*, ${ids.join(", ")} FROM ${quoteIdentifier(staging)} s ${idJoins.join(" ")}`);
    const [{n}] = await conn.query(`SELECT count(*)::BIGINT AS n FROM ${quoteIdentifier(mapTable)}`);
    await conn.exec(`DROP TABLE ${quoteIdentifier(staging)}; DROP TABLE ${quoteIdentifier(distinct)}`);
    result.push({column: qi.name, hierarchy: h, table: mapTable, distinctValues: Number(n)});
  }
  return result;
}

const UNIT_SEPARATOR = "\u001f";

/**
 * Insert rows given column-wise. Each column travels as one string literal split in SQL (much faster
 * to parse than a VALUES list, notably in DuckDB-WASM); labels containing the separator fall back to VALUES.
 */
async function insertLabelColumns(conn: SqlConnection, table: string, values: string[], columns: string[][]): Promise<void> {
  if (values.length === 0) return;
  const all = [values, ...columns];
  const chunk = 50_000;
  for (let start = 0; start < values.length; start += chunk) {
    const slices = all.map((c) => c.slice(start, start + chunk));
    if (slices.some((c) => c.some((x) => x.includes(UNIT_SEPARATOR)))) {
      const rows = slices[0].map((_, r) => `(${slices.map((c) => quoteLiteral(c[r])).join(", ")})`);
      for (let i = 0; i < rows.length; i += 2000) await conn.exec(`INSERT INTO ${quoteIdentifier(table)} VALUES ${rows.slice(i, i + 2000).join(", ")}`);
      continue;
    }
    // string_split of '' gives [''], so a column of one empty label still yields one row.
    await conn.exec(`INSERT INTO ${quoteIdentifier(table)} SELECT ${slices.map((c) => `unnest(string_split(${quoteLiteral(c.join(UNIT_SEPARATOR))}, chr(31)))`).join(", ")}`);
  }
}

/**
 * SQL for the generalized view of `table`: every column kept, each quasi-identifier replaced by its
 * label at `levels[name]` (level 0 = original text).
 */
export function generalizedViewSql(table: string, hierarchies: MaterializedHierarchy[], levels: Record<string, number>): string {
  const replacements = hierarchies.map((m, i) => `h${i}.level${levelOf(m, levels)} AS ${quoteIdentifier(m.column)}`);
  const joins = hierarchies.map((m, i) => `LEFT JOIN ${quoteIdentifier(m.table)} h${i} ON CAST(t.${quoteIdentifier(m.column)} AS VARCHAR) IS NOT DISTINCT FROM h${i}.value`);
  return `SELECT t.* REPLACE (${replacements.join(", ")}) FROM ${quoteIdentifier(table)} t ${joins.join(" ")}`;
}

/** The level chosen for a materialized hierarchy, validated against its height. */
export function levelOf(m: MaterializedHierarchy, levels: Record<string, number>): number {
  const level = levels[m.column];
  if (level === undefined) throw new Error(`no level given for quasi-identifier "${m.column}"`);
  if (!Number.isInteger(level) || level < 0 || level >= m.hierarchy.height) {
    throw new Error(`level ${level} for quasi-identifier "${m.column}" is out of range: hierarchy "${m.hierarchy.name}" has levels 0..${m.hierarchy.height - 1}`);
  }
  return level;
}

/** Drop the mapping tables created by materializeHierarchies. */
export async function dropMaterializedHierarchies(conn: SqlConnection, hierarchies: MaterializedHierarchy[]): Promise<void> {
  for (const m of hierarchies) await conn.exec(`DROP TABLE IF EXISTS ${quoteIdentifier(m.table)}`);
}
