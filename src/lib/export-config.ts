/**
 * Draft the transformation config the Export page applies, from what the expert decided on the
 * earlier pages: the data dictionary (roles, types, kinds, hierarchies) and the chosen levels and
 * privacy model. The result is an ordinary TransformConfig (validated like an imported config.json),
 * so the browser and `deid-workbench apply` run exactly the same thing.
 *
 * Default action per field (the expert can change it on the page):
 *   direct identifier: medical record number -> keyed pseudonym (domain "patient", it links the patient's
 *     records and drives the date shift); other identifier codes -> keyed pseudonym in their own domain;
 *     names, SSNs, phones, e-mails, addresses -> removed (45 CFR 164.514(b)(2)(i): Safe Harbor removes them).
 *   quasi-identifier -> generalized at the chosen level (ages and birth dates top-coded at 90+).
 *   sensitive, target -> kept; feature -> kept, or date-shifted per patient when it is a date.
 *   ignore -> removed.
 */
import type {DataDictionary, DataDictionaryField} from "./data-dictionary.js";
import {builtinHierarchy, parseArxHierarchy, type ReferenceTables} from "./hierarchies.js";
import {parseCsvText} from "./reference-tables.js";
import {DEFAULT_MAX_SHIFT_DAYS} from "./date-shift.js";
import {unionZip3Lists} from "./zip3.js";
import {
  ACTIONS_BY_ROLE,
  CONFIG_FORMAT,
  CONFIG_VERSION,
  TOOL_VERSION,
  validateTransformConfig,
  type FieldRole,
  type FieldSpec,
  type FieldTransform,
  type HierarchySpec,
  type SafeHarborCategory,
  type TransformAction,
  type TransformConfig
} from "./transform-config.js";

export interface ExportChoices {
  /** Generalization level per quasi-identifier (the Explorer's choice). */
  levels?: Record<string, number>;
  k?: number;
  suppressionLimit?: number;
  /** Prosecutor-risk threshold for "records at risk". */
  riskThreshold?: number;
  /** Per-field action chosen on the Export page, overriding the default. */
  actions?: Record<string, TransformAction>;
  maxShiftDays?: number;
  keepTimeOfDay?: boolean;
}

export interface DraftConfigOptions {
  dictionary: DataDictionary;
  /** File name of the dataset, e.g. "sample-patients.csv". */
  file: string;
  delimiter: string;
  /** SHA-256 of the dataset's bytes; binds the config to this exact file. */
  sha256?: string;
  /** "Today" for ages over 89 (YYYY-MM-DD). */
  referenceDate: string;
  choices?: ExportChoices;
  refs?: ReferenceTables;
  /** ARX hierarchy files imported in this browser, by file name. */
  arxFiles?: Record<string, string>;
}

export const DEFAULT_K = 5;
export const DEFAULT_SUPPRESSION_LIMIT = 0.05;
export const DEFAULT_RISK_THRESHOLD = 0.2;

const PHI_BY_KIND: Partial<Record<string, SafeHarborCategory>> = {
  name: "names",
  mrn: "mrn",
  ssn: "ssn",
  phone: "telephone",
  email: "email",
  address: "geographic",
  zip: "geographic",
  identifier: "other-id",
  age: "dates",
  date: "dates",
  "birth-date": "dates"
};

export {ACTIONS_BY_ROLE};

/** A table name the config schema accepts, from a file name: "sample-patients.csv" -> "sample-patients". */
export function tableNameFor(file: string): string {
  const base = file.split(/[\\/]/).pop()!.replace(/\.(csv|tsv|txt)$/i, "");
  const cleaned = base.replace(/[^A-Za-z0-9_-]+/g, "_").replace(/^_+|_+$/g, "");
  return /^[A-Za-z]/.test(cleaned) ? cleaned : `t_${cleaned || "data"}`;
}

const isDateType = (f: DataDictionaryField) => f.type === "date" || f.type === "datetime";

/** The field whose pseudonym identifies the patient: the medical record number, else the first identifier code. */
export function patientFieldOf(dictionary: DataDictionary): string | undefined {
  const ids = dictionary.fields.filter((f) => f.role === "direct-identifier");
  return (ids.find((f) => f.kind === "mrn") ?? ids.find((f) => f.kind === "identifier"))?.name;
}

/** Default level per quasi-identifier when the Explorer chose none: a Safe Harbor-like starting point. */
export function defaultLevel(field: DataDictionaryField): number {
  const spec = field.hierarchy ?? "";
  if (spec === "date") return 3; // year
  if (spec === "year") return 1;
  if (spec.startsWith("zip")) return 2; // ZIP3, restricted areas 000
  if (spec.startsWith("age")) return 1; // narrowest band above the exact age
  if (spec === "icd10") return 1; // 3-character category
  return 0;
}

export function defaultAction(field: DataDictionaryField, patientField: string | undefined): TransformAction {
  switch (field.role) {
    case "direct-identifier":
      return field.kind === "mrn" || field.kind === "identifier" ? "pseudonymize" : "remove";
    case "quasi-identifier":
      return field.hierarchy ? "generalize" : "remove";
    case "feature":
      if (isDateType(field)) return patientField ? "date-shift" : "remove";
      return "keep";
    case "sensitive":
    case "target":
      return "keep";
    default:
      return "remove";
  }
}

function transformFor(field: DataDictionaryField, action: TransformAction): FieldTransform {
  const topCode = field.kind === "age" || field.kind === "birth-date";
  switch (action) {
    case "pseudonymize":
      return field.kind === "mrn" ? {action, domain: "patient", prefix: "pt_"} : {action, domain: field.name.replace(/[^A-Za-z0-9_.-]+/g, "_") || "id"};
    case "generalize":
      return topCode ? {action, topCodeAge: true} : {action};
    case "date-shift":
      return field.kind === "birth-date" ? {action, topCodeAge: true} : {action};
    case "keep":
      return topCode && ["integer", "decimal", "date", "datetime"].includes(field.type) ? {action, topCodeAge: true} : {action};
    case "mask":
      return {action, keepSuffix: 4, maskChar: "*"};
    case "redact":
      return {action, replacement: null};
    default:
      return {action} as FieldTransform;
  }
}

function hierarchySpecFor(spec: string, refs: ReferenceTables, arxFiles: Record<string, string>): HierarchySpec {
  const file = spec.split(/[\\/]/).pop()!;
  const arx = arxFiles[spec] ?? arxFiles[file];
  if (arx !== undefined) {
    parseArxHierarchy(arx, `arx:${file}`); // validates (same value twice, ragged rows)
    return {kind: "table", rows: parseCsvText(arx.replace(/^\uFEFF/, ""), ";")};
  }
  if (/\.csv$/i.test(spec)) throw new Error(`hierarchy file ${file} has not been imported in this browser; import it on the Dictionary page`);
  builtinHierarchy(spec, refs); // validates the spec
  return {kind: "builtin", spec};
}

/**
 * The config for one dataset from the dictionary and the expert's choices. Throws with a clear
 * message (validated exactly like an imported config.json).
 */
export function draftTransformConfig(options: DraftConfigOptions): TransformConfig {
  const {dictionary, choices = {}, refs = {}, arxFiles = {}} = options;
  const patientField = patientFieldOf(dictionary);
  const hierarchies: Record<string, HierarchySpec> = {};
  const levels: Record<string, number> = {};
  const fields: FieldSpec[] = dictionary.fields.map((f) => {
    const action = choices.actions?.[f.name] ?? defaultAction(f, patientField);
    const spec: FieldSpec = {name: f.name, role: f.role, type: f.type, transform: transformFor(f, action)};
    if (f.kind) spec.kind = f.kind;
    const phi = f.kind ? PHI_BY_KIND[f.kind] : undefined;
    if (phi) spec.phiCategory = phi;
    if (f.weight !== undefined) spec.weight = f.weight;
    if (f.description) spec.description = f.description;
    if (f.hierarchy) {
      // named by what it is (the built-in spec, or the ARX file's name) so the report says which hierarchy
      const key = /\.csv$/i.test(f.hierarchy) ? f.hierarchy.split(/[\\/]/).pop()! : f.hierarchy;
      hierarchies[key] ??= hierarchySpecFor(f.hierarchy, refs, arxFiles);
      spec.hierarchy = key;
      if (action === "generalize") levels[f.name] = choices.levels?.[f.name] ?? defaultLevel(f);
    }
    return spec;
  });
  const usesPatient = fields.some((f) => f.transform.action === "date-shift");
  const zipSpecs = Object.values(hierarchies).flatMap((h) => (h.kind === "builtin" && /^zip(:|$)/.test(h.spec) ? [h.spec] : []));
  const lists = refs.restrictedZip3Lists ?? [];
  const named = zipSpecs.map((s) => s.split(":")[1]).find((n) => n !== undefined);
  const zipList = named ? lists.find((l) => l.name === named) : lists.length ? unionZip3Lists(lists) : undefined;
  if (zipSpecs.length && !zipList) throw new Error(`no restricted ZIP3 list${named ? ` named ${named}` : ""} is loaded; the zip hierarchy needs one`);
  const config: TransformConfig = {
    format: CONFIG_FORMAT,
    version: CONFIG_VERSION,
    toolVersion: TOOL_VERSION,
    referenceDate: options.referenceDate,
    inputs: [
      {
        table: tableNameFor(options.file),
        file: options.file.split(/[\\/]/).pop()!,
        ...(options.sha256 ? {sha256: options.sha256} : {}),
        delimiter: options.delimiter,
        ...(patientField && (usesPatient || fields.some((f) => f.name === patientField && f.transform.action === "pseudonymize")) ? {patientField} : {}),
        fields
      }
    ],
    hierarchies,
    levels,
    privacyModel: {
      k: choices.k ?? DEFAULT_K,
      suppressionLimit: choices.suppressionLimit ?? DEFAULT_SUPPRESSION_LIMIT,
      riskThreshold: choices.riskThreshold ?? DEFAULT_RISK_THRESHOLD
    },
    restrictedZip3: zipList ? {name: zipList.name, codes: [...zipList.codes].sort()} : {name: "none", codes: []},
    dateShift: {maxDays: choices.maxShiftDays ?? DEFAULT_MAX_SHIFT_DAYS, keepTimeOfDay: choices.keepTimeOfDay ?? false}
  };
  return validateTransformConfig(config, "the configuration drafted from the data dictionary");
}
