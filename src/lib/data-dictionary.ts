/**
 * The data dictionary: for every field, its role in de-identification, its type, an optional
 * generalization hierarchy and an importance weight for the ML use case. A versioned JSON document;
 * its JSON Schema is schemas/data-dictionary.schema.json. `proposeDataDictionary` drafts one from the
 * data (name and value-pattern heuristics) for the expert to edit.
 */
import {quoteIdentifier, quoteLiteral, type SqlConnection} from "./sql.js";

export const DATA_DICTIONARY_VERSION = 1;

export const FIELD_ROLES = ["direct-identifier", "quasi-identifier", "sensitive", "feature", "target", "ignore"] as const;
export type FieldRole = (typeof FIELD_ROLES)[number];

export const FIELD_TYPES = ["string", "integer", "decimal", "date", "datetime", "boolean"] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

/** What the values are, when the heuristics (or the expert) can tell. */
export const FIELD_KINDS = ["name", "mrn", "ssn", "phone", "email", "address", "identifier", "zip", "age", "date", "birth-date", "icd10", "sex", "race", "ethnicity", "marital-status", "other"] as const;
export type FieldKind = (typeof FIELD_KINDS)[number];

export interface DataDictionaryField {
  name: string;
  role: FieldRole;
  type: FieldType;
  kind?: FieldKind;
  /** A built-in hierarchy spec (age:5, date, year, zip, icd10, mask:N, flat, interval:...) or an ARX hierarchy CSV path. */
  hierarchy?: string;
  /** Importance for the ML use case, >= 0 (default 1). */
  weight?: number;
  description?: string;
  /** Why the proposal chose this role (filled by proposeDataDictionary). */
  reason?: string;
}

export interface DataDictionary {
  version: number;
  /** The dataset the dictionary describes (file name), for the audit trail. */
  dataset?: string;
  fields: DataDictionaryField[];
}

export class DataDictionaryError extends Error {
  name = "DataDictionaryError";
  constructor(readonly problems: string[]) {
    super(`invalid data dictionary:\n  - ${problems.join("\n  - ")}`);
  }
}

const BUILTIN_HIERARCHY = /^(age(:(1|5|10|20))?|interval:\d+(,\d+)*(:top=-?\d+(\.\d+)?)?|date|year|zip(:[A-Za-z0-9._+-]+)?|icd10|mask:\d+|flat)$/;

/** Whether `spec` names a built-in hierarchy or looks like a hierarchy file path. */
export function isHierarchySpec(spec: string): boolean {
  return BUILTIN_HIERARCHY.test(spec) || /\.csv$/i.test(spec);
}

/**
 * Check a parsed JSON document and return it typed. Reports every problem at once, each with its
 * JSON path. When `columns` is given, every field must be a column and (unless requireAllColumns is
 * false) every column a field.
 */
export function validateDataDictionary(doc: unknown, {columns, requireAllColumns = true}: {columns?: string[]; requireAllColumns?: boolean} = {}): DataDictionary {
  const problems: string[] = [];
  if (!doc || typeof doc !== "object" || Array.isArray(doc)) throw new DataDictionaryError(["the document must be a JSON object with \"version\" and \"fields\""]);
  const d = doc as Record<string, unknown>;
  for (const key of Object.keys(d)) if (!["version", "dataset", "fields", "$schema"].includes(key)) problems.push(`unknown key "${key}"`);
  if (d.version !== DATA_DICTIONARY_VERSION) problems.push(`version must be ${DATA_DICTIONARY_VERSION}, got ${JSON.stringify(d.version)}`);
  if (d.dataset !== undefined && typeof d.dataset !== "string") problems.push("dataset must be a string");
  if (!Array.isArray(d.fields)) {
    problems.push("fields must be an array");
    throw new DataDictionaryError(problems);
  }
  const seen = new Set<string>();
  d.fields.forEach((f, i) => {
    const at = `fields[${i}]`;
    if (!f || typeof f !== "object" || Array.isArray(f)) {
      problems.push(`${at} must be an object`);
      return;
    }
    const field = f as Record<string, unknown>;
    const label = typeof field.name === "string" ? `${at} ("${field.name}")` : at;
    for (const key of Object.keys(field)) {
      if (!["name", "role", "type", "kind", "hierarchy", "weight", "description", "reason"].includes(key)) problems.push(`${label}: unknown key "${key}"`);
    }
    if (typeof field.name !== "string" || field.name === "") problems.push(`${at}: name must be a non-empty string`);
    else if (seen.has(field.name)) problems.push(`${label}: field listed twice`);
    else seen.add(field.name);
    if (!FIELD_ROLES.includes(field.role as FieldRole)) problems.push(`${label}: role must be one of ${FIELD_ROLES.join(", ")}; got ${JSON.stringify(field.role)}`);
    if (!FIELD_TYPES.includes(field.type as FieldType)) problems.push(`${label}: type must be one of ${FIELD_TYPES.join(", ")}; got ${JSON.stringify(field.type)}`);
    if (field.kind !== undefined && !FIELD_KINDS.includes(field.kind as FieldKind)) problems.push(`${label}: kind must be one of ${FIELD_KINDS.join(", ")}; got ${JSON.stringify(field.kind)}`);
    if (field.hierarchy !== undefined && (typeof field.hierarchy !== "string" || !isHierarchySpec(field.hierarchy))) {
      problems.push(`${label}: hierarchy ${JSON.stringify(field.hierarchy)} is neither a built-in (age:5, interval:5,10, date, year, zip, icd10, mask:N, flat) nor a .csv file`);
    }
    if (field.role === "quasi-identifier" && field.hierarchy === undefined) problems.push(`${label}: a quasi-identifier needs a hierarchy`);
    if (field.weight !== undefined && !(typeof field.weight === "number" && Number.isFinite(field.weight) && field.weight >= 0)) problems.push(`${label}: weight must be a number >= 0`);
    for (const key of ["description", "reason"]) if (field[key] !== undefined && typeof field[key] !== "string") problems.push(`${label}: ${key} must be a string`);
  });
  const targets = d.fields.filter((f) => (f as {role?: unknown})?.role === "target").length;
  if (targets > 1) problems.push(`${targets} fields have role target; the ML use case predicts one target`);
  if (columns) {
    for (const name of seen) if (!columns.includes(name)) problems.push(`field "${name}" is not a column of the data (columns: ${columns.join(", ")})`);
    if (requireAllColumns) for (const c of columns) if (!seen.has(c)) problems.push(`column "${c}" has no entry in the data dictionary`);
  }
  if (problems.length) throw new DataDictionaryError(problems);
  return doc as DataDictionary;
}

/** Parse and validate dictionary JSON text; `source` names the file in errors. */
export function parseDataDictionary(text: string, source = "data dictionary", options: {columns?: string[]; requireAllColumns?: boolean} = {}): DataDictionary {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new Error(`${source}: not valid JSON (${(error as Error).message})`);
  }
  try {
    return validateDataDictionary(doc, options);
  } catch (error) {
    if (error instanceof DataDictionaryError) error.message = `${source}: ${error.message}`;
    throw error;
  }
}

export function fieldsWithRole(dictionary: DataDictionary, role: FieldRole): DataDictionaryField[] {
  return dictionary.fields.filter((f) => f.role === role);
}

interface ColumnFacts {
  name: string;
  duckType: string;
  rows: number;
  nonNull: number;
  distinct: number;
  shares: Record<string, number>;
}

/** Value patterns (DuckDB regular expressions, full match) the proposal measures on each column. */
const PATTERNS: Record<string, string> = {
  email: "[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}",
  phone: "(\\+?1[ .-]?)?\\(?[0-9]{3}\\)?[ .-]?[0-9]{3}[ .-]?[0-9]{4}",
  ssn: "[0-9]{3}-[0-9]{2}-[0-9]{4}",
  zip: "[0-9]{5}(-[0-9]{4})?",
  date: "[0-9]{4}-[0-9]{2}-[0-9]{2}([ T].*)?",
  icd10: "[A-TV-Za-tv-z][0-9][0-9A-Za-z](\\.?[0-9A-Za-z]{1,4})?",
  integer: "-?[0-9]+",
  decimal: "-?[0-9]*\\.[0-9]+"
};

async function columnFacts(conn: SqlConnection, table: string): Promise<ColumnFacts[]> {
  const columns = await conn.query(`SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ${quoteLiteral(table)} ORDER BY ordinal_position`);
  if (columns.length === 0) throw new Error(`table ${table} does not exist`);
  const facts: ColumnFacts[] = [];
  for (const c of columns) {
    const name = String(c.column_name);
    const v = `CAST(${quoteIdentifier(name)} AS VARCHAR)`;
    const shareSql = Object.entries(PATTERNS).map(([k, re]) => `avg(CASE WHEN ${v} IS NULL THEN NULL WHEN regexp_full_match(trim(${v}), ${quoteLiteral(re)}) THEN 1.0 ELSE 0.0 END) AS ${k}`);
    const [r] = await conn.query(`SELECT count(*)::BIGINT AS rows, count(${v})::BIGINT AS non_null, count(DISTINCT ${v})::BIGINT AS distinct_values, ${shareSql.join(", ")} FROM ${quoteIdentifier(table)}`);
    const shares: Record<string, number> = {};
    for (const k of Object.keys(PATTERNS)) shares[k] = Number(r[k] ?? 0);
    facts.push({name, duckType: String(c.data_type), rows: Number(r.rows), nonNull: Number(r.non_null), distinct: Number(r.distinct_values), shares});
  }
  return facts;
}

function typeOf(f: ColumnFacts): FieldType {
  const t = f.duckType.toUpperCase();
  if (t === "DATE") return "date";
  if (t.startsWith("TIMESTAMP")) return "datetime";
  if (t === "BOOLEAN") return "boolean";
  if (/INT/.test(t)) return "integer";
  if (/DOUBLE|FLOAT|DECIMAL|REAL|NUMERIC/.test(t)) return "decimal";
  if (f.shares.integer >= 0.99) return "integer";
  if (f.shares.integer + f.shares.decimal >= 0.99) return "decimal";
  if (f.shares.date >= 0.95) return "date";
  return "string";
}

/**
 * Draft a data dictionary from `table`: names (e.g. "first_name", "mrn", "zip", "dob") and value
 * patterns (emails, phone numbers, SSNs, ZIP codes, ISO dates, ICD-10 codes) decide roles and
 * hierarchies; every proposal carries its reason. The expert reviews it; nothing is final.
 */
export async function proposeDataDictionary(conn: SqlConnection, table: string, {dataset}: {dataset?: string} = {}): Promise<DataDictionary> {
  const facts = await columnFacts(conn, table);
  const fields = facts.map((f): DataDictionaryField => {
    const n = f.name.toLowerCase().replace(/[^a-z0-9]+/g, "_");
    const has = (re: RegExp) => re.test(n);
    const share = (k: string) => f.shares[k] ?? 0;
    const type = typeOf(f);
    const field = (role: FieldRole, kind: FieldKind | undefined, reason: string, hierarchy?: string): DataDictionaryField => ({name: f.name, role, type, ...(kind ? {kind} : {}), ...(hierarchy ? {hierarchy} : {}), weight: 1, reason});
    if (has(/(^|_)(first|last|given|family|sur|full|middle|patient|maiden)?_?name($|_)/) && !has(/(file|user|host|drug|product|facility)_?name/)) return field("direct-identifier", "name", "column name suggests a person's name");
    if (has(/(^|_)(mrn|medical_record|record_number|patient_id|member_id|account)/)) return field("direct-identifier", "mrn", "column name suggests a medical record or account number");
    if (has(/(^|_)(ssn|social_security)/) || share("ssn") >= 0.9) return field("direct-identifier", "ssn", has(/ssn|social/) ? "column name suggests a Social Security number" : "values look like SSNs (NNN-NN-NNNN)");
    if (has(/(^|_)(email|e_mail)/) || share("email") >= 0.9) return field("direct-identifier", "email", has(/mail/) ? "column name suggests an e-mail address" : "values look like e-mail addresses");
    if (has(/(^|_)(phone|tel|telephone|fax|mobile|cell)($|_)/) || (share("phone") >= 0.9 && share("integer") < 0.9)) return field("direct-identifier", "phone", has(/phone|tel|fax|mobile|cell/) ? "column name suggests a phone or fax number" : "values look like phone numbers");
    if (has(/(^|_)(address|street|addr)($|_)/)) return field("direct-identifier", "address", "column name suggests a street address");
    if (has(/(^|_)(zip|zipcode|postal|postcode)/) || (share("zip") >= 0.95 && has(/zip|post/))) return field("quasi-identifier", "zip", "ZIP code: generalize to 3 digits (restricted ZIP3s to 000)", "zip");
    if (has(/(^|_)(dob|birth|birthdate|date_of_birth|birth_date)/)) return field("quasi-identifier", "birth-date", "birth date: generalize to year or coarser", "date");
    if (has(/(^|_)age($|_|_years)/) && (type === "integer" || type === "decimal")) return field("quasi-identifier", "age", "age: 5-year bands, 90+ top-coded", "age:5");
    if (has(/(^|_)(sex|gender)($|_)/)) return field("quasi-identifier", "sex", "demographic quasi-identifier", "flat");
    if (has(/(^|_)race($|_)/)) return field("quasi-identifier", "race", "demographic quasi-identifier", "flat");
    if (has(/ethnic/)) return field("quasi-identifier", "ethnicity", "demographic quasi-identifier", "flat");
    if (has(/marital/)) return field("quasi-identifier", "marital-status", "demographic quasi-identifier", "flat");
    if (has(/(icd|diagnos|(^|_)dx($|_))/) && share("icd10") >= 0.8) return field("sensitive", "icd10", "ICD-10 diagnosis codes: sensitive (make it a quasi-identifier if an attacker may know it)", "icd10");
    if (has(/(^|_)(readmit|readmitted|readmission|outcome|target|label|mortality|died|death_flag)/)) return field("target", undefined, "column name suggests an outcome to predict (the ML target)");
    if (type === "date" || type === "datetime" || share("date") >= 0.95) return field("quasi-identifier", "date", "dates related to an individual are HIPAA identifiers: generalize", "date");
    if (f.nonNull > 0 && f.distinct === f.rows && f.rows >= 20 && type !== "decimal") return field("direct-identifier", "identifier", "every value is unique: likely a record identifier");
    return field("feature", undefined, "no identifying pattern found");
  });
  return {version: DATA_DICTIONARY_VERSION, ...(dataset ? {dataset} : {}), fields};
}
