/**
 * Turn loaded input tables into de-identified output tables, in SQL (DuckDB) as far as possible:
 * remove / redact / mask / pseudonymize / date-shift / generalize / top-code / suppress, as the
 * config's data dictionary says. Per-value HMAC tokens and per-patient offsets are computed in JS over
 * the DISTINCT values only, a page at a time, and joined back as mapping tables. Semantics: docs/semantics.md,
 * "Transformations and the export package".
 */
import {collisionMessage, computeTokenBodies, DEFAULT_TOKEN_LENGTH, TOKEN_BODY_LENGTH} from "./pseudonyms.js";
import {computePackedDateOffsets} from "./date-shift.js";
import {evaluateTransformation, dropEvaluation, dropFrequencyTable, prepareFrequencyTable, type EvaluatedTransformation, type FrequencyTable} from "./equivalence-classes.js";
import {builtinHierarchy, levelOf, materializeHierarchies, type QuasiIdentifier, type ReferenceTables} from "./hierarchies.js";
import {checkKeyFingerprints, signerFor, type RunKeys} from "./keys.js";
import {computeRiskSummary, type RiskSummary} from "./risk.js";
import {columnOf, queryColumns, quoteIdentifier as qi, quoteLiteral, type SqlConnection} from "./sql.js";
import {
  configNeedsKey,
  hierarchyFromSpec,
  levelForField,
  privacyModelTable,
  type FieldSpec,
  type InputSpec,
  type TransformConfig
} from "./transform-config.js";

export interface ApplyOptions {
  /** DuckDB table holding each input, loaded with every column as text (loadCsv allText), by config table name. */
  sourceTables: Record<string, string>;
  /** Required when the config pseudonymizes or shifts dates. */
  keys?: RunKeys;
  /** Reference tables for built-in hierarchies that need them (icd10). */
  refs?: ReferenceTables;
  /** Prefix for the output tables (default "deid_out_"). */
  outputPrefix?: string;
  /** Called with a short description of each step (progress). */
  onProgress?: (step: string) => void;
}

export interface AppliedTable {
  /** Config table name. */
  table: string;
  /** DuckDB table with the output (columns in dictionary order; plus hidden __row, __suppressed). */
  sqlTable: string;
  columns: string[];
  inputRecords: number;
  outputRecords: number;
}

export interface ApplyStatistics {
  suppressedRecords: number;
  /** Records the privacy model found violating before suppression. */
  violatingRecords: number;
  /** Cells replaced by "90+", per "table.field". */
  topCoded: Record<string, number>;
  /** Date cells blanked because the record had no patient id (no offset to apply). */
  datesWithoutPatient: Record<string, number>;
  /** Distinct tokens issued per pseudonym domain. */
  tokensByDomain: Record<string, number>;
  /** Patients whose dates were shifted. */
  patientsShifted: number;
}

export interface ApplyResult {
  tables: AppliedTable[];
  statistics: ApplyStatistics;
  /** Risk of the privacy-model table before (original values) and after (the published values). */
  riskBefore: RiskSummary | null;
  riskAfter: RiskSummary | null;
  /** Quasi-identifiers the privacy model and the risk figures used. */
  quasiIdentifiers: string[];
}

/** A problem with the input data or its fit to the config; message names the file, field and row. */
export class ApplyError extends Error {
  name = "ApplyError";
}

export const TOP_CODE_LABEL = "90+";
const ISO_DATE_REGEX = "^\\d{4}-\\d{2}-\\d{2}([ T]\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?)?$";
const HIDDEN_COLUMNS = ["__row", "__suppressed"];

export async function applyTransformations(conn: SqlConnection, config: TransformConfig, options: ApplyOptions): Promise<ApplyResult> {
  const progress = options.onProgress ?? (() => {});
  if (configNeedsKey(config)) {
    if (!options.keys) throw new ApplyError("this config pseudonymizes or shifts dates: a key is required");
    checkKeyFingerprints(options.keys, config.keys?.fingerprints);
  }
  const outPrefix = options.outputPrefix ?? "deid_out_";
  for (const input of config.inputs) {
    const src = options.sourceTables[input.table];
    if (!src) throw new ApplyError(`no input loaded for table "${input.table}" (${input.file})`);
    await checkColumns(conn, input, src);
    await checkValues(conn, input, src);
  }

  progress("pseudonyms");
  const statistics: ApplyStatistics = {suppressedRecords: 0, violatingRecords: 0, topCoded: {}, datesWithoutPatient: {}, tokensByDomain: {}, patientsShifted: 0};
  const maps = await buildTokenMaps(conn, config, options, statistics);

  const modelInput = privacyModelTable(config);
  const tables: AppliedTable[] = [];
  let riskBefore: RiskSummary | null = null;
  let riskAfter: RiskSummary | null = null;
  let quasiIdentifiers: string[] = [];
  for (const input of config.inputs) {
    progress(`transform ${input.table}`);
    const src = options.sourceTables[input.table];
    const isModelTable = input === modelInput;
    let evaluation: {freq: FrequencyTable; ev: EvaluatedTransformation; qis: QuasiIdentifier[]} | null = null;
    if (isModelTable) {
      evaluation = await evaluatePrivacyModel(conn, config, input, src, options.refs);
      if (evaluation) {
        quasiIdentifiers = evaluation.qis.map((q) => q.name);
        riskBefore = await computeRiskSummary(conn, {
          table: src,
          quasiIdentifiers: evaluation.qis,
          levels: Object.fromEntries(evaluation.qis.map((q) => [q.name, 0])),
          sensitive: sensitiveFields(input).map((f) => f.name),
          threshold: config.privacyModel.riskThreshold,
          drivers: false
        });
      }
    }
    try {
      const applied = await buildOutputTable(conn, config, input, src, `${outPrefix}${input.table}`, maps, evaluation, options.refs, statistics);
      tables.push(applied);
      if (evaluation) {
        statistics.violatingRecords = evaluation.ev.violatingRecords;
        statistics.suppressedRecords = evaluation.ev.suppressed;
        riskAfter = await measurePublishedRisk(conn, config, input, applied, evaluation.qis.map((q) => q.name));
      }
    } finally {
      if (evaluation) {
        await dropEvaluation(conn, evaluation.ev);
        await dropFrequencyTable(conn, evaluation.freq);
      }
    }
  }
  for (const m of maps.values()) await conn.exec(`DROP TABLE IF EXISTS ${qi(m.table)}`);
  return {tables, statistics, riskBefore, riskAfter, quasiIdentifiers};
}

/** Rows of an output table in the package order: sorted by every output column, so row order carries no information about the input order. */
export function outputRowsSql(applied: AppliedTable): string {
  const cols = applied.columns.map(qi).join(", ");
  return `SELECT ${cols} FROM ${qi(applied.sqlTable)} ORDER BY ${applied.columns.length ? applied.columns.map((c) => `${qi(c)} NULLS LAST`).join(", ") : "1"}`;
}

// ---------------------------------------------------------------------------------------------
// Checks

async function tableColumns(conn: SqlConnection, table: string): Promise<{name: string; type: string}[]> {
  const rows = await conn.query(`SELECT column_name AS name, data_type AS type FROM information_schema.columns WHERE table_name = ${quoteLiteral(table)} ORDER BY ordinal_position`);
  return rows.map((r) => ({name: String(r.name), type: String(r.type)}));
}

async function checkColumns(conn: SqlConnection, input: InputSpec, src: string): Promise<void> {
  const columns = await tableColumns(conn, src);
  const names = new Set(columns.map((c) => c.name));
  const missing = input.fields.filter((f) => !names.has(f.name)).map((f) => f.name);
  if (missing.length) {
    throw new ApplyError(`${input.file}: missing column${missing.length > 1 ? "s" : ""} ${missing.map((m) => `"${m}"`).join(", ")} that the config's data dictionary expects (the file has: ${columns.map((c) => c.name).join(", ")})`);
  }
  const known = new Set(input.fields.map((f) => f.name));
  const extra = columns.filter((c) => !known.has(c.name)).map((c) => c.name);
  if (extra.length) {
    throw new ApplyError(`${input.file}: column${extra.length > 1 ? "s" : ""} ${extra.map((m) => `"${m}"`).join(", ")} not in the config's data dictionary; every column needs a role and a transformation before it can be released`);
  }
  const nonText = columns.filter((c) => c.type !== "VARCHAR");
  if (nonText.length) throw new ApplyError(`table for ${input.file} must be loaded with every column as text (allText); ${nonText[0].name} is ${nonText[0].type}`);
}

async function checkValues(conn: SqlConnection, input: InputSpec, src: string): Promise<void> {
  for (const field of input.fields) {
    const c = qi(field.name);
    const t = field.transform;
    const isDateWork = t.action === "date-shift" || (("topCodeAge" in t) && t.topCodeAge && (field.type === "date" || field.type === "datetime"));
    const isAgeWork = ("topCodeAge" in t) && t.topCodeAge && (field.type === "integer" || field.type === "decimal");
    let problem: string | null = null;
    let bad: {row: number; value: string} | null = null;
    if (isDateWork) {
      const rows = await conn.query(
        `SELECT rowid + 1 AS row, ${c} AS v FROM ${qi(src)} WHERE ${c} IS NOT NULL AND (NOT regexp_full_match(${c}, ${quoteLiteral(ISO_DATE_REGEX)}) OR TRY_CAST(${c} AS TIMESTAMP) IS NULL) ORDER BY rowid LIMIT 1`
      );
      if (rows.length) {
        bad = {row: Number(rows[0].row), value: String(rows[0].v)};
        problem = "is not an ISO date (YYYY-MM-DD or YYYY-MM-DD HH:MM:SS, no time zone)";
      }
    } else if (isAgeWork) {
      const rows = await conn.query(`SELECT rowid + 1 AS row, ${c} AS v FROM ${qi(src)} WHERE ${c} IS NOT NULL AND TRY_CAST(trim(${c}) AS DOUBLE) IS NULL ORDER BY rowid LIMIT 1`);
      if (rows.length) {
        bad = {row: Number(rows[0].row), value: String(rows[0].v)};
        problem = "is not a number (an age to top-code)";
      }
    }
    if (bad && problem) throw new ApplyError(`${input.file}, data row ${bad.row}, field "${field.name}": value ${JSON.stringify(bad.value)} ${problem}`);
  }
}


// ---------------------------------------------------------------------------------------------
// Tokens and offsets

interface TokenMap {
  domain: string;
  /** Temp table (rn BIGINT, value VARCHAR, token VARCHAR, offset INTEGER NULL); rn numbers the distinct values in sort order. */
  table: string;
  hasOffsets: boolean;
}

/**
 * Distinct values per page of the token step: JS holds one page at a time (its values, MACs and
 * tokens), DuckDB holds the rest, so memory does not grow with the number of patients.
 */
export const TOKEN_PAGE_SIZE = 100_000;

let mapCounter = 0;

/** The pseudonym domain whose tokens drive date shifts: the patient fields' domain. */
function patientDomain(config: TransformConfig): string | null {
  const domains = new Set<string>();
  for (const input of config.inputs) {
    if (!input.fields.some((f) => f.transform.action === "date-shift")) continue;
    const field = input.fields.find((f) => f.name === input.patientField)!;
    domains.add(field.transform.action === "pseudonymize" ? field.transform.domain ?? "default" : "patient");
  }
  if (domains.size > 1) {
    throw new ApplyError(`the patient fields of the tables that shift dates use different pseudonym domains (${[...domains].join(", ")}); give them one domain so a patient gets one offset in every table`);
  }
  return domains.size ? [...domains][0] : null;
}

/**
 * One mapping table per pseudonym domain: each distinct value of the domain's fields with its token
 * (prefix + the first `length` characters of the 52-character body) and, for the patient domain, its
 * date offset (drawn from the full body). Values are numbered in DuckDB and processed `pageSize` at a
 * time; then one SQL query checks the run for collisions. Exported for tests (page size).
 */
export async function buildTokenMaps(
  conn: SqlConnection,
  config: TransformConfig,
  options: Pick<ApplyOptions, "sourceTables" | "keys">,
  statistics: Pick<ApplyStatistics, "tokensByDomain" | "patientsShifted">,
  pageSize = TOKEN_PAGE_SIZE
): Promise<Map<string, TokenMap>> {
  if (!Number.isInteger(pageSize) || pageSize < 1) throw new Error(`token page size must be a positive integer, got ${pageSize}`);
  // domain -> the (table, field) pairs whose values it covers
  const members = new Map<string, {input: InputSpec; field: FieldSpec}[]>();
  const shape = new Map<string, {prefix: string; length: number}>();
  const add = (domain: string, input: InputSpec, field: FieldSpec) => {
    if (!members.has(domain)) members.set(domain, []);
    members.get(domain)!.push({input, field});
  };
  for (const input of config.inputs) {
    for (const field of input.fields) {
      if (field.transform.action !== "pseudonymize") continue;
      const domain = field.transform.domain ?? "default";
      add(domain, input, field);
      shape.set(domain, {prefix: field.transform.prefix ?? "", length: field.transform.length ?? DEFAULT_TOKEN_LENGTH});
    }
  }
  const shiftDomain = patientDomain(config);
  if (shiftDomain) {
    for (const input of config.inputs) {
      if (!input.fields.some((f) => f.transform.action === "date-shift")) continue;
      const field = input.fields.find((f) => f.name === input.patientField)!;
      if (!(members.get(shiftDomain) ?? []).some((m) => m.input === input && m.field === field)) add(shiftDomain, input, field);
    }
  }
  const maps = new Map<string, TokenMap>();
  // published domains in the order their tokens are issued, for the collision check
  const issued: {domain: string; field: string; table: string}[] = [];
  const scratch: string[] = [];
  try {
    for (const [domain, fields] of members) {
      const id = ++mapCounter;
      const values = `__deid_values_${id}`;
      const keyed = `__deid_keyed_${id}`;
      const table = `__deid_map_${id}`;
      scratch.push(values, keyed, table);
      const union = fields.map(({input, field}) => `SELECT ${qi(field.name)} AS v FROM ${qi(options.sourceTables[input.table])} WHERE ${qi(field.name)} IS NOT NULL`).join(" UNION ");
      await conn.exec(`CREATE OR REPLACE TEMP TABLE ${qi(values)} AS SELECT row_number() OVER (ORDER BY v) AS rn, v FROM (SELECT DISTINCT v FROM (${union})) ORDER BY rn`);
      const [{n}] = await conn.query(`SELECT count(*)::BIGINT AS n FROM ${qi(values)}`);
      const count = Number(n);
      await conn.exec(`CREATE OR REPLACE TEMP TABLE ${qi(keyed)} (rn BIGINT, token VARCHAR, "offset" INTEGER)`);
      const published = shape.get(domain) ?? null;
      const shifts = domain === shiftDomain;
      const readPage = async (first: number) =>
        columnOf(await queryColumns(conn, `SELECT v FROM ${qi(values)} WHERE rn > ${first} AND rn <= ${first + pageSize} ORDER BY rn`), "v") as string[];
      // DuckDB inserts one page while JS computes the next page's MACs (one statement at a time on the
      // connection; at most two pages in memory)
      let inserting: Promise<void> = Promise.resolve();
      try {
        let page = count > 0 ? await readPage(0) : [];
        for (let first = 0; first < count; first += pageSize) {
          // the full 52-character token body: the published token is prefix + its first `length` characters
          const bodies = await computeTokenBodies(signerFor(options.keys!, "pseudonym"), page, domain);
          const offsets = shifts ? await computePackedDateOffsets(signerFor(options.keys!, "date-shift"), bodies, TOKEN_BODY_LENGTH, page.length, config.dateShift.maxDays) : null;
          await inserting;
          const rows = page.length;
          page = first + pageSize < count ? await readPage(first + pageSize) : [];
          inserting = insertKeyedRows(conn, keyed, first, rows, published ? {bodies, ...published} : null, offsets);
          inserting.catch(() => {}); // awaited below; not an unhandled rejection meanwhile
        }
      } finally {
        await inserting.catch(() => {});
      }
      await inserting;
      await conn.exec(
        `CREATE OR REPLACE TEMP TABLE ${qi(table)} AS SELECT v.rn, v.v AS value, k.token, k."offset" FROM ${qi(values)} v JOIN ${qi(keyed)} k USING (rn); ` +
          `DROP TABLE ${qi(values)}; DROP TABLE ${qi(keyed)}`
      );
      maps.set(domain, {domain, table, hasOffsets: shifts});
      if (published) {
        const field = fields.filter((f) => f.field.transform.action === "pseudonymize").map((f) => `${f.input.table}.${f.field.name}`).join(", ");
        issued.push({domain, field, table});
        statistics.tokensByDomain[domain] = count;
      }
      if (shifts) statistics.patientsShifted = count;
    }
    await checkTokenCollisions(conn, issued);
  } catch (error) {
    for (const t of scratch) await conn.exec(`DROP TABLE IF EXISTS ${qi(t)}`);
    throw error;
  }
  return maps;
}

/**
 * Two different (domain, value) pairs with one token would silently merge two patients, so that is an
 * error. Tokens count as issued domain by domain, values in sort order; the error names the field and
 * domain of the first pair whose token was already issued (as TokenRegistry.register would).
 */
async function checkTokenCollisions(conn: SqlConnection, issued: {domain: string; field: string; table: string}[]): Promise<void> {
  if (issued.length === 0) return;
  const all = issued.map((m, d) => `SELECT ${d} AS d, rn, token FROM ${qi(m.table)}`).join(" UNION ALL ");
  const rows = await conn.query(
    `WITH issued AS (${all}) SELECT d FROM (` +
      `SELECT d, rn, row_number() OVER (PARTITION BY token ORDER BY d, rn) AS k FROM issued WHERE token IN (SELECT token FROM issued GROUP BY token HAVING count(*) > 1)` +
      `) WHERE k = 2 ORDER BY d, rn LIMIT 1`
  );
  if (rows.length) {
    const second = issued[Number(rows[0].d)];
    throw new Error(collisionMessage(second.field, second.domain));
  }
}

const COMMA = 44;
const MINUS = 45;
const ZERO = 48;

/**
 * Insert the (rn, token, offset) rows of one page: rn = first + 1, first + 2, ... One string literal
 * of comma-separated records, split in SQL, is ~25x faster than VALUES lists (measured with native
 * DuckDB). A record is the token's body characters (base32, never a comma) followed by the offset.
 */
async function insertKeyedRows(
  conn: SqlConnection,
  table: string,
  first: number,
  count: number,
  tokens: {bodies: Uint8Array; prefix: string; length: number} | null,
  offsets: Int32Array | null
): Promise<void> {
  const length = tokens?.length ?? 0;
  const text = new Uint8Array(count * (length + 8));
  let at = 0;
  for (let i = 0; i < count; ++i) {
    if (i > 0) text[at++] = COMMA;
    if (tokens) {
      const from = TOKEN_BODY_LENGTH * i;
      for (let j = 0; j < length; ++j) text[at++] = tokens.bodies[from + j];
    }
    if (offsets) {
      let o = offsets[i];
      if (o < 0) {
        text[at++] = MINUS;
        o = -o;
      }
      const digits = at;
      do {
        text[at++] = ZERO + (o % 10);
        o = Math.floor(o / 10);
      } while (o > 0);
      text.subarray(digits, at).reverse();
    }
  }
  const records = new TextDecoder().decode(text.subarray(0, at));
  const token = tokens ? `${quoteLiteral(tokens.prefix)} || substr(s, 1, ${length})` : "NULL";
  const offset = offsets ? `CAST(${tokens ? `substr(s, ${length + 1})` : "s"} AS INTEGER)` : "NULL";
  await conn.exec(
    `INSERT INTO ${qi(table)} SELECT ${first} + i, ${token}, ${offset} FROM (SELECT unnest(l) AS s, generate_subscripts(l, 1) AS i FROM (SELECT string_split(${quoteLiteral(records)}, ',') AS l))`
  );
}

// ---------------------------------------------------------------------------------------------
// Privacy model (record suppression) on the privacy-model table

function sensitiveFields(input: InputSpec): FieldSpec[] {
  return input.fields.filter((f) => f.role === "sensitive" && f.transform.action !== "remove" && f.transform.action !== "redact" && f.transform.action !== "suppress");
}

/** Quasi-identifiers the privacy model covers: those released as values (kept or generalized). */
function modelQuasiIdentifiers(config: TransformConfig, input: InputSpec, refs: ReferenceTables | undefined): QuasiIdentifier[] {
  return input.fields
    .filter((f) => f.role === "quasi-identifier" && (f.transform.action === "generalize" || f.transform.action === "keep"))
    .map((f) => ({name: f.name, hierarchy: f.transform.action === "generalize" ? hierarchyFromSpec(config, f.hierarchy!, refs) : builtinHierarchy("flat")}));
}

async function evaluatePrivacyModel(conn: SqlConnection, config: TransformConfig, input: InputSpec, src: string, refs: ReferenceTables | undefined) {
  const qis = modelQuasiIdentifiers(config, input, refs);
  if (qis.length === 0) return null;
  const pm = config.privacyModel;
  let freq: FrequencyTable;
  try {
    freq = await prepareFrequencyTable(conn, {table: src, quasiIdentifiers: qis, sensitive: sensitiveFields(input).map((f) => f.name)});
  } catch (error) {
    throw new ApplyError(`${input.file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const levels = Object.fromEntries(qis.map((q) => [q.name, levelForField(config, input, input.fields.find((f) => f.name === q.name)!) ?? 0]));
  let ev: EvaluatedTransformation;
  try {
    ev = await evaluateTransformation(conn, freq, levels, {k: pm.k, lDiversity: pm.lDiversity, tCloseness: pm.tCloseness, suppressionLimit: pm.suppressionLimit});
  } catch (error) {
    await dropFrequencyTable(conn, freq);
    throw new ApplyError(`${input.file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (ev.anonymous === false) {
    await dropEvaluation(conn, ev);
    await dropFrequencyTable(conn, freq);
    throw new ApplyError(
      `the configured levels (${Object.entries(levels).map(([k, v]) => `${k}=${v}`).join(", ")}) do not satisfy the privacy model on ${input.file}: ` +
        `${ev.violatingRecords} records violate it but the suppression limit ${pm.suppressionLimit} allows ${Math.floor(pm.suppressionLimit * ev.records)} of ${ev.records}`
    );
  }
  return {freq, ev, qis};
}

// ---------------------------------------------------------------------------------------------
// Output

/** 'YYYY-MM-DD' that many years before `date`, Feb 29 becoming Feb 28. */
export function yearsBefore(date: string, years: number): string {
  const [y, m, d] = date.split("-").map(Number);
  const year = y - years;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const day = m === 2 && d === 29 && !leap ? 28 : d;
  return `${String(year).padStart(4, "0")}-${String(m).padStart(2, "0")}-${String(day).padStart(2, "0")}`;
}

async function buildOutputTable(
  conn: SqlConnection,
  config: TransformConfig,
  input: InputSpec,
  src: string,
  outTable: string,
  maps: Map<string, TokenMap>,
  evaluation: {freq: FrequencyTable; ev: EvaluatedTransformation; qis: QuasiIdentifier[]} | null,
  refs: ReferenceTables | undefined,
  statistics: ApplyStatistics
): Promise<AppliedTable> {
  const joins: string[] = [];
  const selects: string[] = [];
  const columns: string[] = [];
  const topCodeChecks: {field: string; condition: string}[] = [];
  const blankChecks: {field: string; condition: string}[] = [];
  let joinCounter = 0;
  const cutoff = yearsBefore(config.referenceDate, 90);
  const shiftDomain = [...maps.values()].find((m) => m.hasOffsets);
  let patientAlias: string | null = null;
  if (input.fields.some((f) => f.transform.action === "date-shift")) {
    patientAlias = `p${joinCounter++}`;
    joins.push(`LEFT JOIN ${qi(shiftDomain!.table)} ${patientAlias} ON t.${qi(input.patientField!)} = ${patientAlias}.value`);
  }
  // hierarchy label tables: from the privacy-model evaluation where available, else materialized here
  const hierarchyTables = new Map<string, {table: string; height: number}>();
  if (evaluation) for (const m of evaluation.freq.hierarchies) hierarchyTables.set(m.column, {table: m.table, height: m.hierarchy.height});
  const extraHierarchies: string[] = [];
  const modelQis = new Set(evaluation?.qis.map((q) => q.name) ?? []);

  for (const field of input.fields) {
    const c = `t.${qi(field.name)}`;
    const t = field.transform;
    let expr: string;
    switch (t.action) {
      case "remove":
        continue;
      case "keep":
        expr = c;
        break;
      case "redact":
        expr = t.replacement === undefined || t.replacement === null ? "NULL::VARCHAR" : quoteLiteral(t.replacement);
        break;
      case "suppress":
        expr = "'*'";
        break;
      case "mask": {
        const p = t.keepPrefix ?? 0;
        const s = t.keepSuffix ?? 0;
        const ch = quoteLiteral(t.maskChar ?? "*");
        expr = `CASE WHEN ${c} IS NULL THEN NULL WHEN length(${c}) <= ${p + s} THEN repeat(${ch}, length(${c})) ELSE left(${c}, ${p}) || repeat(${ch}, length(${c}) - ${p + s}) || ${s > 0 ? `right(${c}, ${s})` : "''"} END`;
        break;
      }
      case "pseudonymize": {
        const alias = `m${joinCounter++}`;
        joins.push(`LEFT JOIN ${qi(maps.get(t.domain ?? "default")!.table)} ${alias} ON ${c} = ${alias}.value`);
        expr = `${alias}.token`;
        break;
      }
      case "date-shift": {
        const keepTime = config.dateShift.keepTimeOfDay && field.type === "datetime";
        const ts = `CAST(${c} AS TIMESTAMP) + to_days(${patientAlias}."offset")`;
        expr = keepTime
          ? `CASE WHEN length(${c}) > 10 THEN strftime(${ts}, '%Y-%m-%d %H:%M:%S') ELSE strftime(${ts}, '%Y-%m-%d') END`
          : `strftime(${ts}, '%Y-%m-%d')`;
        expr = `CASE WHEN ${c} IS NULL OR ${patientAlias}."offset" IS NULL THEN NULL ELSE ${expr} END`;
        blankChecks.push({field: field.name, condition: `${c} IS NOT NULL AND ${patientAlias}."offset" IS NULL`});
        break;
      }
      case "generalize": {
        const level = levelForField(config, input, field)!;
        let h = hierarchyTables.get(field.name);
        if (!h) {
          const hierarchy = hierarchyFromSpec(config, field.hierarchy!, refs);
          try {
            const [m] = await materializeHierarchies(conn, src, [{name: field.name, hierarchy}]);
            h = {table: m.table, height: m.hierarchy.height};
            extraHierarchies.push(m.table);
          } catch (error) {
            throw new ApplyError(`${input.file}: ${error instanceof Error ? error.message : String(error)}`);
          }
        }
        if (level >= h.height) throw new ApplyError(`table "${input.table}", field "${field.name}": level ${level} is out of range; hierarchy "${field.hierarchy}" has levels 0..${h.height - 1}`);
        const alias = `g${joinCounter++}`;
        joins.push(`LEFT JOIN ${qi(h.table)} ${alias} ON ${c} IS NOT DISTINCT FROM ${alias}.value`);
        const top = level === h.height - 1;
        // a missing value stays missing below the top level (built-in hierarchies label it "")
        expr = top ? `${alias}.level${level}` : `CASE WHEN ${c} IS NULL THEN NULL ELSE ${alias}.level${level} END`;
        if (top) {
          selects.push(`${expr} AS ${qi(field.name)}`);
          columns.push(field.name);
          continue;
        }
        break;
      }
    }
    if ("topCodeAge" in t && t.topCodeAge) {
      const condition =
        field.type === "date" || field.type === "datetime"
          ? `${c} IS NOT NULL AND CAST(CAST(${c} AS TIMESTAMP) AS DATE) <= DATE '${cutoff}'`
          : `${c} IS NOT NULL AND CAST(trim(${c}) AS DOUBLE) > 89`;
      expr = `CASE WHEN ${condition} THEN '${TOP_CODE_LABEL}' ELSE ${expr} END`;
      topCodeChecks.push({field: field.name, condition});
    }
    selects.push(`${expr} AS ${qi(field.name)}`);
    columns.push(field.name);
  }

  let suppressedExpr = "false";
  if (evaluation) {
    // each record's class: its label ids at the chosen levels, looked up in the evaluated class table
    const ev = evaluation.ev;
    const hs = evaluation.freq.hierarchies;
    const classJoinParts: string[] = [];
    hs.forEach((m, i) => {
      const alias = `k${i}`;
      joins.push(`LEFT JOIN ${qi(m.table)} ${alias} ON t.${qi(m.column)} IS NOT DISTINCT FROM ${alias}.value`);
      classJoinParts.push(`cls.g${i} = ${alias}.id${levelOf(m, ev.levels)}`);
    });
    joins.push(`LEFT JOIN ${qi(ev.classes)} cls ON ${classJoinParts.join(" AND ")}`);
    suppressedExpr = "NOT coalesce(cls.kept, true)";
  }
  const staging = `${outTable}__building`;
  await conn.exec(
    `CREATE OR REPLACE TABLE ${qi(staging)} AS SELECT t.rowid AS __row, ${suppressedExpr} AS __suppressed, ${selects.join(", ")} FROM (SELECT rowid, * FROM ${qi(src)}) t ${joins.join(" ")}`
  );
  for (const check of topCodeChecks) {
    const [{n}] = await conn.query(`SELECT count(*)::BIGINT AS n FROM (SELECT rowid, * FROM ${qi(src)}) t WHERE ${check.condition}`);
    statistics.topCoded[`${input.table}.${check.field}`] = Number(n);
  }
  for (const check of blankChecks) {
    const [{n}] = await conn.query(`SELECT count(*)::BIGINT AS n FROM (SELECT rowid, * FROM ${qi(src)}) t ${patientAlias ? joins[0] : ""} WHERE ${check.condition}`);
    if (Number(n) > 0) statistics.datesWithoutPatient[`${input.table}.${check.field}`] = Number(n);
  }
  // suppression: every released quasi-identifier of a suppressed record becomes "*" (or the record goes)
  const suppressedQis = columns.filter((c) => modelQis.has(c));
  const mode = config.privacyModel.suppressedRecords ?? "mask";
  const final =
    evaluation && mode === "remove"
      ? `SELECT * FROM ${qi(staging)} WHERE NOT __suppressed`
      : suppressedQis.length
        ? `SELECT * REPLACE (${suppressedQis.map((c) => `CASE WHEN __suppressed THEN '*' ELSE ${qi(c)} END AS ${qi(c)}`).join(", ")}) FROM ${qi(staging)}`
        : `SELECT * FROM ${qi(staging)}`;
  await conn.exec(`CREATE OR REPLACE TABLE ${qi(outTable)} AS ${final}; DROP TABLE ${qi(staging)}`);
  for (const table of extraHierarchies) await conn.exec(`DROP TABLE IF EXISTS ${qi(table)}`);
  const [{inputRecords}] = await conn.query(`SELECT count(*)::BIGINT AS inputRecords FROM ${qi(src)}`);
  const [{outputRecords}] = await conn.query(`SELECT count(*)::BIGINT AS outputRecords FROM ${qi(outTable)}`);
  return {table: input.table, sqlTable: outTable, columns, inputRecords: Number(inputRecords), outputRecords: Number(outputRecords)};
}

/**
 * Risk of what is actually published: classes over the released quasi-identifier values of the records
 * that were not suppressed (ARX convention), with suppressed records counted in `suppressed`.
 */
async function measurePublishedRisk(conn: SqlConnection, config: TransformConfig, input: InputSpec, applied: AppliedTable, qis: string[]): Promise<RiskSummary | null> {
  const released = qis.filter((q) => applied.columns.includes(q));
  if (released.length === 0) return null;
  const view = `${applied.sqlTable}__kept`;
  const sensitive = sensitiveFields(input).map((f) => f.name).filter((s) => applied.columns.includes(s));
  await conn.exec(`CREATE OR REPLACE TEMP TABLE ${qi(view)} AS SELECT ${[...released, ...sensitive].map(qi).join(", ")} FROM ${qi(applied.sqlTable)} WHERE NOT __suppressed`);
  try {
    const summary = await computeRiskSummary(conn, {
      table: view,
      quasiIdentifiers: released.map((name) => ({name, hierarchy: builtinHierarchy("flat")})),
      levels: Object.fromEntries(released.map((q) => [q, 0])),
      sensitive,
      threshold: config.privacyModel.riskThreshold,
      drivers: false
    });
    const [{suppressed}] = await conn.query(`SELECT count(*) FILTER (WHERE __suppressed)::BIGINT AS suppressed FROM ${qi(applied.sqlTable)}`);
    const removed = applied.inputRecords - applied.outputRecords;
    const gone = Number(suppressed) + removed;
    const note =
      gone > 0
        ? `${gone} record(s) in classes violating the privacy model were suppressed (${removed > 0 ? "removed" : "all quasi-identifiers \"*\""}); class statistics and risks are over the ${summary.records} remaining records (ARX convention), measured on the released values.`
        : "No records suppressed; class statistics and risks are over all records, measured on the released values.";
    return {...summary, records: summary.records + gone, suppressed: gone, note};
  } finally {
    await conn.exec(`DROP TABLE IF EXISTS ${qi(view)}`);
  }
}

export {HIDDEN_COLUMNS};
