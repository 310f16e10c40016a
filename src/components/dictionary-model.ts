/**
 * Pure logic behind the Dictionary page: editing fields, placing validation problems next to the
 * field they concern, and previewing a hierarchy on real values. No DOM here (unit-tested in Node).
 */
import {DataDictionaryError, validateDataDictionary, type DataDictionary, type DataDictionaryField} from "../lib/data-dictionary.js";
import {HierarchyCoverageError, type Hierarchy} from "../lib/hierarchies.js";

/** Built-in hierarchy specs offered in the editor (any other valid spec can be typed). */
export const HIERARCHY_SUGGESTIONS = ["flat", "age:5", "age:10", "age:1", "interval:5,10,20", "interval:10,20,40", "date", "year", "zip", "zip:hhs-2000", "zip:hrsa-2020", "icd10", "mask:1", "mask:2", "mask:3"];

export interface DictionaryProblems {
  /** Problems about one field, by field name. */
  byField: Map<string, string[]>;
  /** Problems about the document as a whole (or a column without a field). */
  general: string[];
}

/** Validate `dictionary` against the table's columns and sort every problem under its field. */
export function dictionaryProblems(dictionary: DataDictionary, columns: string[]): DictionaryProblems {
  const byField = new Map<string, string[]>();
  const general: string[] = [];
  try {
    validateDataDictionary(dictionary, {columns});
  } catch (error) {
    if (!(error instanceof DataDictionaryError)) throw error;
    for (const problem of error.problems) {
      const m = /^fields\[(\d+)\]/.exec(problem);
      const field = m ? dictionary.fields[Number(m[1])] : undefined;
      const prefixes = field ? [`fields[${m![1]}] ("${field.name}"): `, `fields[${m![1]}]: `] : [];
      const prefix = prefixes.find((p) => problem.startsWith(p));
      if (field && prefix && typeof field.name === "string") {
        const list = byField.get(field.name) ?? [];
        list.push(problem.slice(prefix.length));
        byField.set(field.name, list);
      } else general.push(problem);
    }
  }
  return {byField, general};
}

/** The hierarchy a field would most plausibly use when it becomes a quasi-identifier. */
export function suggestHierarchy(field: DataDictionaryField): string {
  switch (field.kind) {
    case "zip":
      return "zip";
    case "age":
      return "age:5";
    case "date":
    case "birth-date":
      return "date";
    case "icd10":
      return "icd10";
  }
  if (field.type === "date" || field.type === "datetime") return "date";
  if (field.type === "integer" || field.type === "decimal") return "interval:5,10,20";
  return "flat";
}

export type FieldPatch = Partial<Pick<DataDictionaryField, "role" | "type" | "hierarchy" | "weight" | "kind" | "description">>;

/**
 * A copy of `dictionary` with one field changed. An empty hierarchy removes it; a field that becomes a
 * quasi-identifier without a hierarchy gets the suggested one; a NaN weight is kept as given so that
 * validation reports it.
 */
export function updateField(dictionary: DataDictionary, name: string, patch: FieldPatch): DataDictionary {
  return {
    ...dictionary,
    fields: dictionary.fields.map((f) => {
      if (f.name !== name) return f;
      const next: DataDictionaryField = {...f, ...patch};
      if (patch.hierarchy !== undefined && patch.hierarchy.trim() === "") delete next.hierarchy;
      else if (patch.hierarchy !== undefined) next.hierarchy = patch.hierarchy.trim();
      if (patch.role === "quasi-identifier" && next.hierarchy === undefined) next.hierarchy = suggestHierarchy(next);
      return next;
    })
  };
}

export interface HierarchyPreviewRow {
  value: string | null;
  /** Labels from level 0 to the top, or null when the hierarchy does not cover the value. */
  labels: string[] | null;
  error?: string;
}

/** Each value generalized level by level (coverage problems reported per value, not thrown). */
export function previewHierarchy(hierarchy: Hierarchy, values: (string | null)[]): HierarchyPreviewRow[] {
  return values.map((value) => {
    try {
      return {value, labels: hierarchy.generalize(value)};
    } catch (error) {
      if (error instanceof HierarchyCoverageError) return {value, labels: null, error: error.message};
      throw error;
    }
  });
}

/** Names for the levels of a hierarchy: its own, else "level i" (0 = "original", last = "*"). */
export function levelNames(hierarchy: Hierarchy): string[] {
  return Array.from({length: hierarchy.height}, (_, i) => hierarchy.levelNames?.[i] ?? (i === 0 ? "original" : i === hierarchy.height - 1 ? "*" : `level ${i}`));
}

/** The dictionary as the JSON file the CLI reads (`risk --config` "dictionary", `apply`). */
export function dictionaryJson(dictionary: DataDictionary): string {
  return JSON.stringify(dictionary, null, 2) + "\n";
}
