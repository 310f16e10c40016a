/** Node-side readers for hierarchy files (ARX format) and the reference tables in data/reference/. */
import {existsSync, readFileSync} from "node:fs";
import {basename, dirname, join, resolve} from "node:path";
import {fileURLToPath} from "node:url";
import {builtinHierarchy, parseArxHierarchy, type Hierarchy, type ReferenceTables} from "../src/lib/hierarchies.js";
import {parseIcd10Categories} from "../src/lib/icd10.js";
import {parseRestrictedZip3List} from "../src/lib/zip3.js";

/** data/reference/ of this checkout. */
export const REFERENCE_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "data", "reference");

/** The restricted ZIP3 lists shipped with the app, by name. */
export const ZIP3_LISTS: Record<string, string> = {
  "hhs-2000": "zip3/restricted_zip3_hhs_2000.csv",
  "hrsa-2020": "zip3/restricted_zip3_hrsa_2020.csv"
};

let cached: ReferenceTables | undefined;

/** Read the reference tables (restricted ZIP3 lists, ICD-10-CM categories) from `dir`. */
export function loadReferenceTables(dir = REFERENCE_DIR): ReferenceTables {
  if (dir === REFERENCE_DIR && cached) return cached;
  const read = (file: string) => {
    const path = join(dir, file);
    if (!existsSync(path)) throw new Error(`reference table ${path} is missing`);
    return readFileSync(path, "utf8");
  };
  const refs: ReferenceTables = {
    restrictedZip3Lists: Object.entries(ZIP3_LISTS).map(([name, file]) => parseRestrictedZip3List(read(file), name, file)),
    icd10Categories: parseIcd10Categories(read("icd10/categories.csv"), read("icd10/chapters.csv"))
  };
  if (dir === REFERENCE_DIR) cached = refs;
  return refs;
}

/** Read an ARX hierarchy file (';'-separated, no header, column i = level i). */
export function readArxHierarchy(path: string): Hierarchy {
  if (!existsSync(path)) throw new Error(`hierarchy file ${path} does not exist`);
  return parseArxHierarchy(readFileSync(path, "utf8"), `arx:${basename(path)}`);
}

/**
 * Resolve a hierarchy given on the command line or in a data dictionary: a path to an ARX CSV
 * (anything ending in .csv or containing a path separator), else a built-in spec (age:5, date, zip, ...).
 * Relative paths are resolved against `baseDir`.
 */
export function resolveHierarchy(spec: string, baseDir = process.cwd()): Hierarchy {
  if (/\.csv$/i.test(spec) || spec.includes("/") || spec.includes("\\")) return readArxHierarchy(resolve(baseDir, spec));
  const needsRefs = /^(zip|icd10)(:|$)/.test(spec);
  return builtinHierarchy(spec, needsRefs ? loadReferenceTables() : {});
}
