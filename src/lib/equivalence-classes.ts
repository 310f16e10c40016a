/**
 * Equivalence classes of a transformation, computed in DuckDB. The input table is encoded once into a
 * frequency table (one row per distinct combination of quasi-identifier values and sensitive values,
 * with its count); every transformation is then a join of that table with the hierarchy mapping tables
 * and a GROUP BY. Semantics: docs/semantics.md.
 */
import {levelOf, materializeHierarchies, type MaterializedHierarchy, type QuasiIdentifier} from "./hierarchies.js";
import {hasPrivacyModel, MODEL_EPSILON, validatePrivacyModel, type PrivacyModel} from "./privacy-models.js";
import {quoteIdentifier as qi, quoteLiteral, type SqlConnection} from "./sql.js";

/** A sensitive attribute's distribution over all input records, ordered for the ordered-distance EMD. */
export interface SensitiveDomain {
  readonly column: string;
  /** Temp table (s VARCHAR, q DOUBLE share of all records, rnk INTEGER 1..size in domain order). */
  readonly table: string;
  readonly size: number;
  /** "numeric" when every non-missing value is a number, else "text" (byte order); missing last. */
  readonly order: "numeric" | "text";
}

export interface FrequencyTable {
  readonly source: string;
  readonly quasiIdentifiers: QuasiIdentifier[];
  readonly hierarchies: MaterializedHierarchy[];
  readonly sensitive: string[];
  /** Temp table: q0..q{n-1} INTEGER (level-0 ids), s0..s{m-1} VARCHAR, cnt BIGINT. */
  readonly table: string;
  readonly records: number;
  readonly domains: SensitiveDomain[];
  /** The population (superset) table for journalist risk, encoded the same way (q0.., cnt). */
  readonly population?: {readonly source: string; readonly table: string; readonly records: number};
}

export interface FrequencyTableOptions {
  table: string;
  quasiIdentifiers: QuasiIdentifier[];
  sensitive?: string[];
  /** A table with the same quasi-identifier columns holding the population the sample was drawn from. */
  populationTable?: string;
}

let counter = 0;
const tempName = (kind: string) => `__risk_${kind}_${++counter}`;

/** Encode `table` once; reuse the result for every transformation of the same quasi-identifiers. */
export async function prepareFrequencyTable(conn: SqlConnection, options: FrequencyTableOptions): Promise<FrequencyTable> {
  const {table, quasiIdentifiers, sensitive = [], populationTable} = options;
  if (quasiIdentifiers.length === 0) throw new Error("at least one quasi-identifier is needed");
  const columns = await tableColumns(conn, table);
  const names = new Set<string>();
  for (const name of [...quasiIdentifiers.map((q) => q.name), ...sensitive]) {
    if (!columns.includes(name)) throw new Error(`column "${name}" is not in table ${table} (columns: ${columns.join(", ")})`);
    if (names.has(name)) throw new Error(`column "${name}" is listed twice (a column is either a quasi-identifier or sensitive, once)`);
    names.add(name);
  }
  if (populationTable) {
    const popColumns = await tableColumns(conn, populationTable);
    for (const q of quasiIdentifiers) if (!popColumns.includes(q.name)) throw new Error(`population table ${populationTable} lacks quasi-identifier column "${q.name}"`);
  }
  const coverTable = populationTable ? tempName("cover") : table;
  if (populationTable) {
    const cols = quasiIdentifiers.map((q) => `CAST(${qi(q.name)} AS VARCHAR) AS ${qi(q.name)}`).join(", ");
    await conn.exec(`CREATE OR REPLACE TEMP TABLE ${qi(coverTable)} AS SELECT ${cols} FROM ${qi(table)} UNION ALL SELECT ${cols} FROM ${qi(populationTable)}`);
  }
  const hierarchies = await materializeHierarchies(conn, coverTable, quasiIdentifiers, {prefix: tempName("h")});
  if (populationTable) await conn.exec(`DROP TABLE ${qi(coverTable)}`);

  const freq = tempName("freq");
  const joins = hierarchies.map((m, i) => `JOIN ${qi(m.table)} h${i} ON CAST(t.${qi(m.column)} AS VARCHAR) IS NOT DISTINCT FROM h${i}.value`).join(" ");
  const codes = hierarchies.map((_, i) => `h${i}.id0 AS q${i}`);
  const sens = sensitive.map((s, j) => `CAST(t.${qi(s)} AS VARCHAR) AS s${j}`);
  await conn.exec(`CREATE OR REPLACE TEMP TABLE ${qi(freq)} AS SELECT ${[...codes, ...sens].join(", ")}, count(*)::BIGINT AS cnt FROM ${qi(table)} t ${joins} GROUP BY ALL`);
  const [{records}] = await conn.query(`SELECT (SELECT count(*) FROM ${qi(table)})::BIGINT AS records`);

  const domains: SensitiveDomain[] = [];
  for (const [j, column] of sensitive.entries()) {
    const domain = tempName("dom");
    const [{numeric}] = await conn.query(`SELECT (count(s${j}) = count(TRY_CAST(s${j} AS DOUBLE)))::BOOLEAN AS numeric FROM ${qi(freq)}`);
    const orderBy = numeric ? `TRY_CAST(s AS DOUBLE) NULLS LAST, s NULLS LAST` : `s COLLATE "binary" NULLS LAST`;
    await conn.exec(
      `CREATE OR REPLACE TEMP TABLE ${qi(domain)} AS SELECT s, q, (row_number() OVER (ORDER BY ${orderBy}))::INTEGER AS rnk FROM (SELECT s${j} AS s, sum(cnt)::DOUBLE / ${Number(records)} AS q FROM ${qi(freq)} GROUP BY ALL)`
    );
    const [{size}] = await conn.query(`SELECT count(*)::INTEGER AS size FROM ${qi(domain)}`);
    domains.push({column, table: domain, size: Number(size), order: numeric ? "numeric" : "text"});
  }

  let population: FrequencyTable["population"];
  if (populationTable) {
    const pop = tempName("pop");
    const popJoins = hierarchies.map((m, i) => `JOIN ${qi(m.table)} h${i} ON CAST(t.${qi(m.column)} AS VARCHAR) IS NOT DISTINCT FROM h${i}.value`).join(" ");
    await conn.exec(`CREATE OR REPLACE TEMP TABLE ${qi(pop)} AS SELECT ${codes.join(", ")}, count(*)::BIGINT AS cnt FROM ${qi(populationTable)} t ${popJoins} GROUP BY ALL`);
    const [{n}] = await conn.query(`SELECT (SELECT count(*) FROM ${qi(populationTable)})::BIGINT AS n`);
    population = {source: populationTable, table: pop, records: Number(n)};
  }
  return {source: table, quasiIdentifiers, hierarchies, sensitive, table: freq, records: Number(records), domains, population};
}

/** Drop every temp table a frequency table owns. */
export async function dropFrequencyTable(conn: SqlConnection, freq: FrequencyTable): Promise<void> {
  const tables = [freq.table, ...freq.domains.map((d) => d.table), ...freq.hierarchies.map((h) => h.table), ...(freq.population ? [freq.population.table] : [])];
  for (const t of tables) await conn.exec(`DROP TABLE IF EXISTS ${qi(t)}`);
}

async function tableColumns(conn: SqlConnection, table: string): Promise<string[]> {
  const rows = await conn.query(`SELECT column_name FROM information_schema.columns WHERE table_name = ${quoteLiteral(table)} ORDER BY ordinal_position`);
  if (rows.length === 0) throw new Error(`table ${table} does not exist`);
  return rows.map((r) => String(r.column_name));
}

/**
 * The evaluated transformation: temp tables that the measurements read, and the suppression decision.
 * `classes` has g0..g{n-1} (label ids at the chosen levels), size, violates BOOLEAN, kept BOOLEAN, and
 * per sensitive attribute j: distinct_l{j}, entropy{j} (natural log), r1_{j}, tail{j}, t_equal{j},
 * t_ordered{j} (NULL when not computed).
 */
export interface EvaluatedTransformation {
  readonly freq: FrequencyTable;
  readonly levels: Record<string, number>;
  /** Temp table: g0..g{n-1}, s0.., cnt (the frequency table generalized to `levels`). */
  readonly generalized: string;
  readonly classes: string;
  readonly records: number;
  readonly violatingRecords: number;
  readonly suppressed: number;
  /** null without a privacy model. */
  readonly anonymous: boolean | null;
  readonly suppressionLimit: number;
  /** Whether t_ordered was computed. */
  readonly orderedDistance: boolean;
}

export interface TransformationOptions extends PrivacyModel {
  /** Fraction of all records that may be suppressed (default 0). */
  suppressionLimit?: number;
  /** l for the reported recursive (c,l) figure when no l-diversity model is set (default 2). */
  reportL?: number;
  /**
   * Suppress violating classes even when they exceed the limit (anonymous stays false): what ARX's
   * output view shows for a non-anonymous transformation. Default false (docs/semantics.md).
   */
  suppressAlways?: boolean;
  /** Compute the ordered-distance EMD even without an ordered t-closeness model (default: when classes x domain <= 20M). */
  orderedDistance?: boolean;
}

/**
 * Generalize the frequency table to `levels`, evaluate the privacy model per class and decide
 * suppression: violating classes are suppressed when their records number at most
 * floor(suppressionLimit * records); otherwise nothing is suppressed and the transformation is not anonymous.
 */
export async function evaluateTransformation(conn: SqlConnection, freq: FrequencyTable, levels: Record<string, number>, options: TransformationOptions = {}): Promise<EvaluatedTransformation> {
  validatePrivacyModel(options);
  const limit = options.suppressionLimit ?? 0;
  if (!(limit >= 0 && limit <= 1)) throw new Error(`suppression limit must be a fraction between 0 and 1, got ${limit}`);
  for (const name of Object.keys(levels)) {
    if (!freq.hierarchies.some((h) => h.column === name)) throw new Error(`level given for "${name}", which is not a quasi-identifier`);
  }
  const n = freq.hierarchies.length;
  const g = Array.from({length: n}, (_, i) => `g${i}`);
  const gList = g.join(", ");
  const s = freq.sensitive.map((_, j) => `s${j}`);

  const generalized = tempName("gen");
  const selects = freq.hierarchies.map((m, i) => {
    const level = levelOf(m, levels);
    return level === 0 ? `f.q${i} AS g${i}` : `h${i}.id${level} AS g${i}`;
  });
  const joins = freq.hierarchies.map((m, i) => (levelOf(m, levels) === 0 ? "" : `JOIN ${qi(m.table)} h${i} ON f.q${i} = h${i}.id0`)).join(" ");
  await conn.exec(`CREATE OR REPLACE TEMP TABLE ${qi(generalized)} AS SELECT ${[...selects, ...s.map((c) => `f.${c}`)].join(", ")}, sum(f.cnt)::BIGINT AS cnt FROM ${qi(freq.table)} f ${joins} GROUP BY ALL`);

  // Without sensitive attributes the generalized table already has one row per class.
  const base = freq.sensitive.length ? tempName("cls") : generalized;
  const sizeColumn = freq.sensitive.length ? "size" : "cnt";
  if (freq.sensitive.length) await conn.exec(`CREATE OR REPLACE TEMP TABLE ${qi(base)} AS SELECT ${gList}, sum(cnt)::BIGINT AS size FROM ${qi(generalized)} GROUP BY ALL`);
  const [{classCount}] = freq.sensitive.length ? await conn.query(`SELECT count(*)::BIGINT AS classCount FROM ${qi(base)}`) : [{classCount: 0}];

  const lModel = options.lDiversity;
  const tailL = Math.max(1, Math.floor(lModel?.l ?? options.reportL ?? 2));
  const orderedWanted = options.tCloseness?.distance === "ordered";
  const perSensitive: string[] = [];
  let orderedComputed = freq.domains.length > 0;
  for (const [j, domain] of freq.domains.entries()) {
    const stats = tempName("sens");
    const on = g.map((c) => `cs.${c} = cls.${c}`).join(" AND ");
    const computeOrdered = orderedWanted || (options.orderedDistance ?? Number(classCount) * domain.size <= 20_000_000);
    if (!computeOrdered) orderedComputed = false;
    const ordered = computeOrdered
      ? `, ord AS (
          SELECT ${g.map((c) => `cls.${c}`).join(", ")}, d.rnk, coalesce(cs.c, 0) / cls.n - d.q AS diff
          FROM (SELECT ${gList}, sum(c) AS n FROM cs GROUP BY ALL) cls CROSS JOIN ${qi(domain.table)} d
          LEFT JOIN cs ON ${on} AND cs.s IS NOT DISTINCT FROM d.s),
        cum AS (SELECT ${gList}, sum(diff) OVER (PARTITION BY ${gList} ORDER BY rnk ROWS UNBOUNDED PRECEDING) AS cd FROM ord),
        tord AS (SELECT ${gList}, ${domain.size > 1 ? `sum(abs(cd)) / ${domain.size - 1}` : "0::DOUBLE"} AS t_ordered FROM cum GROUP BY ALL)`
      : "";
    await conn.exec(`CREATE OR REPLACE TEMP TABLE ${qi(stats)} AS
      WITH cs AS (SELECT ${gList}, s${j} AS s, sum(cnt)::DOUBLE AS c FROM ${qi(generalized)} GROUP BY ALL),
      ranked AS (SELECT cs.*, row_number() OVER (PARTITION BY ${gList} ORDER BY c DESC) AS rn, sum(c) OVER (PARTITION BY ${gList}) AS n, d.q FROM cs JOIN ${qi(domain.table)} d ON cs.s IS NOT DISTINCT FROM d.s),
      lstats AS (
        SELECT ${gList}, count(*)::INTEGER AS distinct_l, -sum((c / n) * ln(c / n)) AS entropy, max(c) AS r1,
          coalesce(sum(c) FILTER (WHERE rn >= ${tailL}), 0) AS tail, 0.5 * (1 + sum(abs(c / n - q) - q)) AS t_equal
        FROM ranked GROUP BY ALL)${ordered}
      SELECT lstats.*, ${computeOrdered ? "tord.t_ordered" : "NULL::DOUBLE AS t_ordered"} FROM lstats ${computeOrdered ? `JOIN tord USING (${gList})` : ""}`);
    perSensitive.push(stats);
  }

  const violations: string[] = [];
  if (options.k !== undefined) violations.push(`c.${sizeColumn} < ${options.k}`);
  freq.domains.forEach((_, j) => {
    if (lModel) {
      const variant = lModel.variant ?? "distinct";
      if (variant === "distinct") violations.push(`p${j}.distinct_l < ${lModel.l}`);
      else if (variant === "entropy") violations.push(`p${j}.entropy < ln(${lModel.l}) - ${MODEL_EPSILON}`);
      else violations.push(`NOT (p${j}.r1 < ${lModel.c} * p${j}.tail)`);
    }
    if (options.tCloseness) {
      const column = options.tCloseness.distance === "ordered" ? "t_ordered" : "t_equal";
      violations.push(`p${j}.${column} > ${options.tCloseness.t} + ${MODEL_EPSILON}`);
    }
  });
  const violates = violations.length ? violations.join(" OR ") : "false";
  const sensColumns = freq.domains.map((_, j) => `p${j}.distinct_l AS distinct_l${j}, p${j}.entropy AS entropy${j}, p${j}.r1 AS r1_${j}, p${j}.tail AS tail${j}, p${j}.t_equal AS t_equal${j}, p${j}.t_ordered AS t_ordered${j}`);
  const sensJoins = perSensitive.map((t, j) => `JOIN ${qi(t)} p${j} ON ${g.map((c) => `p${j}.${c} = c.${c}`).join(" AND ")}`).join(" ");
  const classSelect = `SELECT ${g.map((c) => `c.${c}`).join(", ")}, c.${sizeColumn}::BIGINT AS size, ${[...sensColumns, `(${violates}) AS violates`].join(", ")} FROM ${qi(base)} c ${sensJoins}`;

  // Decide suppression first, so the class table is written once with its final `kept` column.
  const [{violating}] = await conn.query(`SELECT coalesce(sum(size) FILTER (WHERE violates), 0)::BIGINT AS violating FROM (${classSelect})`);
  const records = freq.records;
  const violatingRecords = Number(violating);
  const modelSet = hasPrivacyModel(options);
  // ARX: suppress only when the violating records fit the limit; otherwise report the transformation as is.
  const fits = violatingRecords <= Math.floor(limit * records);
  const suppress = modelSet && (fits || options.suppressAlways === true) && violatingRecords > 0;
  const evaluated = tempName("eval");
  await conn.exec(`CREATE OR REPLACE TEMP TABLE ${qi(evaluated)} AS SELECT *, ${suppress ? "NOT violates" : "true"} AS kept FROM (${classSelect})`);
  for (const t of [...(base === generalized ? [] : [base]), ...perSensitive]) await conn.exec(`DROP TABLE ${qi(t)}`);
  return {
    freq,
    levels: {...levels},
    generalized,
    classes: evaluated,
    records,
    violatingRecords,
    suppressed: suppress ? violatingRecords : 0,
    anonymous: modelSet ? fits : null,
    suppressionLimit: limit,
    orderedDistance: orderedComputed
  };
}

export async function dropEvaluation(conn: SqlConnection, evaluation: EvaluatedTransformation): Promise<void> {
  await conn.exec(`DROP TABLE IF EXISTS ${qi(evaluation.generalized)}; DROP TABLE IF EXISTS ${qi(evaluation.classes)}`);
}

/** One equivalence class as the pages show it. */
export interface EquivalenceClassRow {
  /** Generalized label per quasi-identifier (null = missing value). */
  labels: Record<string, string | null>;
  size: number;
  /** Prosecutor risk of each record in the class: 1 / size. */
  prosecutorRisk: number;
  violates: boolean;
  suppressed: boolean;
}

/**
 * The class table of an evaluated transformation, smallest classes first (ties by labels), at most
 * `limit` rows (default 1000).
 */
export async function listEquivalenceClasses(conn: SqlConnection, evaluation: EvaluatedTransformation, {limit = 1000}: {limit?: number} = {}): Promise<EquivalenceClassRow[]> {
  const hs = evaluation.freq.hierarchies;
  const labelJoins = hs.map((m, i) => {
    const level = levelOf(m, evaluation.levels);
    return `JOIN (SELECT DISTINCT id${level} AS id, level${level} AS label FROM ${qi(m.table)}) l${i} ON l${i}.id = c.g${i}`;
  });
  const rows = await conn.query(
    `SELECT ${hs.map((_, i) => `l${i}.label AS lab${i}`).join(", ")}, c.size::BIGINT AS size, c.violates, c.kept FROM ${qi(evaluation.classes)} c ${labelJoins.join(" ")}
     ORDER BY c.size, ${hs.map((_, i) => `lab${i} NULLS LAST`).join(", ")} LIMIT ${Math.max(0, Math.floor(limit))}`
  );
  return rows.map((r) => {
    const labels: Record<string, string | null> = {};
    hs.forEach((m, i) => (labels[m.column] = r[`lab${i}`] as string | null));
    const size = Number(r.size);
    return {labels, size, prosecutorRisk: 1 / size, violates: Boolean(r.violates), suppressed: !r.kept};
  });
}

export interface EquivalenceClassesOptions extends FrequencyTableOptions, TransformationOptions {
  levels: Record<string, number>;
  limit?: number;
  /** Reuse an encoded frequency table (from prepareFrequencyTable). */
  prepared?: FrequencyTable;
}

/** The class table (sizes, smallest first) for one transformation, with the suppression decision applied. */
export async function equivalenceClasses(conn: SqlConnection, options: EquivalenceClassesOptions): Promise<{classes: EquivalenceClassRow[]; totalClasses: number; records: number; suppressed: number; anonymous: boolean | null}> {
  const freq = options.prepared ?? (await prepareFrequencyTable(conn, options));
  try {
    const evaluation = await evaluateTransformation(conn, freq, options.levels, options);
    try {
      const classes = await listEquivalenceClasses(conn, evaluation, {limit: options.limit});
      const [{total}] = await conn.query(`SELECT count(*)::BIGINT AS total FROM ${qi(evaluation.classes)}`);
      return {classes, totalClasses: Number(total), records: evaluation.records, suppressed: evaluation.suppressed, anonymous: evaluation.anonymous};
    } finally {
      await dropEvaluation(conn, evaluation);
    }
  } finally {
    if (!options.prepared) await dropFrequencyTable(conn, freq);
  }
}
