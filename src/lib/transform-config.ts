/**
 * The transformation config: everything needed to turn an input dataset into a de-identified
 * package, and everything a reviewer needs to know what was done. Versioned and validated against
 * schemas/config.schema.json; semantic checks (roles vs actions, levels vs hierarchies) are here.
 * The same config, input and key give byte-identical packages in the browser and the CLI.
 */
import Ajv from "ajv";
import schema from "../../schemas/config.schema.json" with {type: "json"};
import {builtinHierarchy, tableHierarchy, type Hierarchy, type ReferenceTables} from "./hierarchies.js";
import type {KeyDerivation, KeyPurpose} from "./keys.js";
import {sha256Hex, utf8} from "./keys.js";
import type {RestrictedZip3List} from "./zip3.js";

/** Keep equal to package.json "version" (a unit test checks it). */
export const TOOL_VERSION = "0.1.0";
export const TOOL_NAME = "deid-workbench";
export const CONFIG_FORMAT = "deid-workbench-config";
export const CONFIG_VERSION = 1;

export type FieldRole = "direct-identifier" | "quasi-identifier" | "sensitive" | "feature" | "target" | "ignore";
/** The data dictionary's vocabulary (data-dictionary.ts). */
export type FieldType = "string" | "integer" | "decimal" | "date" | "datetime" | "boolean";

/** The 18 Safe Harbor identifier categories, 45 CFR 164.514(b)(2)(i)(A)-(R). */
export const SAFE_HARBOR_CATEGORIES = [
  {id: "names", label: "Names"},
  {id: "geographic", label: "Geographic subdivisions smaller than a state (street, city, county, precinct, ZIP code except the initial 3 digits where the ZIP3 area has more than 20,000 people)"},
  {id: "dates", label: "All elements of dates (except year) directly related to an individual, and all ages over 89 and dates indicative of such age"},
  {id: "telephone", label: "Telephone numbers"},
  {id: "fax", label: "Fax numbers"},
  {id: "email", label: "Electronic mail addresses"},
  {id: "ssn", label: "Social security numbers"},
  {id: "mrn", label: "Medical record numbers"},
  {id: "health-plan", label: "Health plan beneficiary numbers"},
  {id: "account", label: "Account numbers"},
  {id: "license", label: "Certificate/license numbers"},
  {id: "vehicle", label: "Vehicle identifiers and serial numbers, including license plate numbers"},
  {id: "device", label: "Device identifiers and serial numbers"},
  {id: "url", label: "Web Universal Resource Locators (URLs)"},
  {id: "ip", label: "Internet Protocol (IP) address numbers"},
  {id: "biometric", label: "Biometric identifiers, including finger and voice prints"},
  {id: "photo", label: "Full-face photographic images and any comparable images"},
  {id: "other-id", label: "Any other unique identifying number, characteristic, or code"}
] as const;
export type SafeHarborCategory = (typeof SAFE_HARBOR_CATEGORIES)[number]["id"];

export type FieldTransform =
  | {action: "keep"; topCodeAge?: boolean}
  | {action: "remove"}
  | {action: "redact"; replacement?: string | null}
  | {action: "mask"; keepPrefix?: number; keepSuffix?: number; maskChar?: string}
  | {action: "pseudonymize"; domain?: string; prefix?: string; length?: number}
  | {action: "date-shift"; topCodeAge?: boolean}
  | {action: "generalize"; level?: number; topCodeAge?: boolean}
  | {action: "suppress"};
export type TransformAction = FieldTransform["action"];

export interface FieldSpec {
  name: string;
  role: FieldRole;
  type: FieldType;
  /** Key into config.hierarchies (quasi-identifiers and generalized fields). */
  kind?: string;
  hierarchy?: string;
  /** Importance for the ML use case (utility weighting). */
  weight?: number;
  phiCategory?: SafeHarborCategory;
  description?: string;
  transform: FieldTransform;
}

export interface InputSpec {
  /** Table name in the package (data/<table>.csv when there are several inputs). */
  table: string;
  /** The file name the config was made for (informational; inputs are matched by fingerprint). */
  file: string;
  /** SHA-256 of the input file's bytes; absent only in a hand-written config before its first run. */
  sha256?: string;
  delimiter: string;
  /** Field identifying the patient: its token drives the per-patient date shift. */
  patientField?: string;
  fields: FieldSpec[];
}

export type HierarchySpec = {kind: "builtin"; spec: string} | {kind: "table"; rows: string[][]};

export interface PrivacyModelSpec {
  /** Table the model applies to; default the first input. */
  table?: string;
  k?: number;
  lDiversity?: {variant?: "distinct" | "entropy" | "recursive"; l: number; c?: number};
  tCloseness?: {t: number; distance?: "equal" | "ordered"};
  /** Largest share of records that may be suppressed (0..1). */
  suppressionLimit: number;
  /** Prosecutor-risk threshold for "records at risk" in the report. */
  riskThreshold: number;
  /** "mask" (default, ARX): suppressed records stay with every QI "*"; "remove": they are dropped. */
  suppressedRecords?: "mask" | "remove";
}

export interface AuditEvent {
  time: string;
  step: string;
  toolVersion?: string;
  configHash?: string;
  inputs?: {name: string; sha256: string}[];
  outputs?: {name: string; sha256: string}[];
  details?: Record<string, string | number | boolean | null | string[]>;
}

export interface TransformConfig {
  format: typeof CONFIG_FORMAT;
  version: typeof CONFIG_VERSION;
  toolVersion: string;
  /** "Today" for ages: ages over 89 are computed at this date, never the clock. */
  referenceDate: string;
  inputs: InputSpec[];
  hierarchies: Record<string, HierarchySpec>;
  /** Generalization level per quasi-identifier of the privacy-model table (as `risk`/`search` print them). */
  levels: Record<string, number>;
  privacyModel: PrivacyModelSpec;
  restrictedZip3: {name: string; codes: string[]};
  dateShift: {maxDays: number; keepTimeOfDay: boolean};
  keys?: {derivation: KeyDerivation; fingerprints: Partial<Record<KeyPurpose, string>>};
  /** Steps before the export (dictionary edits, detection runs, review decisions); no PHI. */
  history?: AuditEvent[];
}

export class ConfigError extends Error {
  name = "ConfigError";
}

let validateSchema: ((data: unknown) => boolean) & {errors?: any[] | null} | undefined;

/** Parse and validate config text (schema, then meaning). Errors name the JSON path. */
export function parseTransformConfig(text: string, fileName = "config.json"): TransformConfig {
  let doc: unknown;
  try {
    doc = JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch (error) {
    throw new ConfigError(`${fileName}: not valid JSON (${error instanceof Error ? error.message : error})`);
  }
  return validateTransformConfig(doc, fileName);
}

export function validateTransformConfig(doc: unknown, fileName = "config.json"): TransformConfig {
  if (!validateSchema) {
    const ajv = new (Ajv as any)({allErrors: true, strict: false});
    validateSchema = ajv.compile(schema);
  }
  if (!validateSchema!(doc)) {
    const errors = (validateSchema!.errors ?? []).slice(0, 5).map((e: any) => `${e.instancePath || "/"} ${e.message}${e.params?.allowedValues ? ` (${e.params.allowedValues.join(", ")})` : ""}${e.params?.additionalProperty ? ` (${e.params.additionalProperty})` : ""}`);
    throw new ConfigError(`${fileName} does not match the config schema (schemas/config.schema.json):\n  ${errors.join("\n  ")}`);
  }
  const config = doc as TransformConfig;
  checkConfigMeaning(config, fileName);
  return config;
}

/** Actions each role allows (the page offers them in this order). */
export const ACTIONS_BY_ROLE: Record<FieldRole, TransformAction[]> = {
  "direct-identifier": ["remove", "redact", "mask", "pseudonymize", "suppress"],
  "quasi-identifier": ["keep", "generalize", "date-shift", "remove", "redact", "mask", "suppress", "pseudonymize"],
  sensitive: ["keep", "generalize", "remove", "redact", "suppress", "date-shift"],
  feature: ["keep", "generalize", "date-shift", "remove", "redact", "mask", "suppress", "pseudonymize"],
  target: ["keep", "generalize", "date-shift", "remove", "redact", "suppress"],
  ignore: ["remove", "redact", "suppress"]
};

function checkConfigMeaning(config: TransformConfig, fileName: string): void {
  const fail = (msg: string) => {
    throw new ConfigError(`${fileName}: ${msg}`);
  };
  if (!isIsoDate(config.referenceDate)) fail(`referenceDate must be a valid date YYYY-MM-DD, got ${JSON.stringify(config.referenceDate)}`);
  const tables = new Set<string>();
  for (const input of config.inputs) {
    if (tables.has(input.table)) fail(`table "${input.table}" appears twice in inputs`);
    tables.add(input.table);
    const names = new Set<string>();
    for (const field of input.fields) {
      const where = `table "${input.table}", field "${field.name}"`;
      if (names.has(field.name)) fail(`${where} appears twice`);
      names.add(field.name);
      const action = field.transform.action;
      if (!ACTIONS_BY_ROLE[field.role].includes(action)) {
        fail(`${where}: role ${field.role} does not allow action "${action}" (allowed: ${ACTIONS_BY_ROLE[field.role].join(", ")})`);
      }
      if (action === "generalize") {
        if (!field.hierarchy) fail(`${where}: action "generalize" needs a hierarchy`);
        if (!config.hierarchies[field.hierarchy!]) fail(`${where}: hierarchy "${field.hierarchy}" is not defined in "hierarchies"`);
      }
      if (action === "date-shift" && field.type !== "date" && field.type !== "datetime") fail(`${where}: date-shift needs type date or datetime, not ${field.type}`);
      if ("topCodeAge" in field.transform && field.transform.topCodeAge && !["integer", "decimal", "date", "datetime"].includes(field.type)) {
        fail(`${where}: topCodeAge applies to ages (integer/decimal) and birth dates (date/datetime), not ${field.type}`);
      }
    }
    if (input.patientField !== undefined && !names.has(input.patientField)) fail(`table "${input.table}": patientField "${input.patientField}" is not one of its fields`);
    if (input.fields.some((f) => f.transform.action === "date-shift") && input.patientField === undefined) {
      fail(`table "${input.table}" shifts dates but names no patientField (the per-patient offset needs the patient's token)`);
    }
  }
  const modelTable = config.privacyModel.table ?? config.inputs[0].table;
  const primary = config.inputs.find((i) => i.table === modelTable);
  if (!primary) fail(`privacyModel.table "${modelTable}" is not one of the inputs`);
  for (const [name, level] of Object.entries(config.levels)) {
    const field = primary!.fields.find((f) => f.name === name);
    if (!field) fail(`levels: "${name}" is not a field of table "${modelTable}"`);
    if (field!.transform.action !== "generalize") fail(`levels: field "${name}" has action "${field!.transform.action}", not "generalize"`);
    if (!Number.isInteger(level) || level < 0) fail(`levels: "${name}" must be a non-negative integer`);
  }
  for (const input of config.inputs) {
    for (const field of input.fields) {
      if (field.transform.action !== "generalize") continue;
      const level = levelForField(config, input, field);
      if (level === undefined) fail(`table "${input.table}", field "${field.name}": no generalization level (set levels["${field.name}"] or transform.level)`);
    }
  }
  // pseudonym domains must agree on token shape, or "same value, same token" would not hold across fields
  const shapes = new Map<string, string>();
  for (const input of config.inputs) {
    for (const field of input.fields) {
      if (field.transform.action !== "pseudonymize") continue;
      const t = field.transform;
      const domain = t.domain ?? "default";
      const shape = `${t.prefix ?? ""}|${t.length ?? ""}`;
      const previous = shapes.get(domain);
      if (previous !== undefined && previous !== shape) fail(`pseudonym domain "${domain}" is used with different prefix/length settings; fields of one domain must share them`);
      shapes.set(domain, shape);
    }
  }
}

export function isIsoDate(text: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toISOString().slice(0, 10) === text;
}

/** The table the privacy model (levels, k, suppression) applies to. */
export function privacyModelTable(config: TransformConfig): InputSpec {
  const name = config.privacyModel.table ?? config.inputs[0].table;
  return config.inputs.find((i) => i.table === name)!;
}

export function levelForField(config: TransformConfig, input: InputSpec, field: FieldSpec): number | undefined {
  if (field.transform.action !== "generalize") return undefined;
  if (field.transform.level !== undefined) return field.transform.level;
  return input === privacyModelTable(config) ? config.levels[field.name] : undefined;
}

/** The configured levels in data-dictionary order (independent of JSON key order, for stable output). */
export function orderedLevels(config: TransformConfig): [string, number][] {
  const table = privacyModelTable(config);
  return table.fields.filter((f) => config.levels[f.name] !== undefined).map((f) => [f.name, config.levels[f.name]]);
}

/** Build the engine's Hierarchy for an inline hierarchy spec of the config. */
export function hierarchyFromSpec(config: TransformConfig, name: string, refs: ReferenceTables = {}): Hierarchy {
  const spec = config.hierarchies[name];
  if (!spec) throw new ConfigError(`hierarchy "${name}" is not defined in the config`);
  if (spec.kind === "table") return tableHierarchy(name, spec.rows, "inline table in config");
  const zip: RestrictedZip3List = {name: config.restrictedZip3.name, codes: new Set(config.restrictedZip3.codes)};
  // the config's restricted list is the one recorded; it wins over any list the host loaded
  return builtinHierarchy(spec.spec, {...refs, restrictedZip3Lists: [zip]});
}

/**
 * Canonical JSON text of a config: object keys sorted (as in RFC 8785), 2-space indent, final newline.
 * Equal configs give equal bytes, whoever built them, so the config hash is stable.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value), null, 2) + "\n";
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) out[k] = sortKeys(v);
    }
    return out;
  }
  return value;
}

/** "sha256:<hex>" of the canonical config text. */
export async function hashConfig(config: TransformConfig): Promise<string> {
  return `sha256:${await sha256Hex(utf8(canonicalJson(config)))}`;
}

/** Whether applying this config needs a secret key. */
export function configNeedsKey(config: TransformConfig): boolean {
  return config.inputs.some((i) => i.fields.some((f) => f.transform.action === "pseudonymize" || f.transform.action === "date-shift"));
}
