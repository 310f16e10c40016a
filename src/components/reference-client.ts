import {builtinHierarchy, parseArxHierarchy, type Hierarchy, type ReferenceTables} from "../lib/hierarchies.js";
import {parseIcd10Categories} from "../lib/icd10.js";
import {parseRestrictedZip3List} from "../lib/zip3.js";

export interface ReferenceUrls {
  hhs2000: string;
  hrsa2020: string;
  icd10Categories: string;
  icd10Chapters: string;
}

/** Fetch the bundled reference tables (restricted ZIP3 lists, ICD-10-CM) from the local server. */
export async function loadReferenceTablesInBrowser(urls: ReferenceUrls): Promise<ReferenceTables> {
  const text = async (url: string) => {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`reference table ${url}: HTTP ${response.status}`);
    return response.text();
  };
  const [hhs, hrsa, categories, chapters] = await Promise.all([text(urls.hhs2000), text(urls.hrsa2020), text(urls.icd10Categories), text(urls.icd10Chapters)]);
  return {
    restrictedZip3Lists: [
      parseRestrictedZip3List(hhs, "hhs-2000", "zip3/restricted_zip3_hhs_2000.csv"),
      parseRestrictedZip3List(hrsa, "hrsa-2020", "zip3/restricted_zip3_hrsa_2020.csv")
    ],
    icd10Categories: parseIcd10Categories(categories, chapters)
  };
}

/**
 * Resolve a hierarchy spec in the browser: a built-in spec, or the name of an ARX hierarchy file
 * the user imported (kept in `arxFiles` by file name).
 */
export function resolveHierarchyInBrowser(spec: string, refs: ReferenceTables, arxFiles: Record<string, string> = {}): Hierarchy {
  const file = spec.split(/[\\/]/).pop()!;
  if (arxFiles[spec] !== undefined) return parseArxHierarchy(arxFiles[spec], `arx:${file}`);
  if (arxFiles[file] !== undefined) return parseArxHierarchy(arxFiles[file], `arx:${file}`);
  if (/\.csv$/i.test(spec)) throw new Error(`hierarchy file ${file} has not been imported in this browser; import it on the Dictionary page`);
  return builtinHierarchy(spec, refs);
}
