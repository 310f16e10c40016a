import {parseCsvRecords} from "./reference-tables.js";

/** Where a 3-character ICD-10-CM category sits: its block (e.g. "E08-E13") and chapter range (e.g. "E00-E89"). */
export interface Icd10Category {
  readonly block: string;
  readonly chapter: string;
}

/**
 * Build the category lookup from `categories.csv` (category, title, block, chapter) and `chapters.csv`
 * (chapter, first_code, last_code, title). Blocks come from the category table, never from range
 * comparison: C4A, M1A and Z3A sort outside their blocks (see data/reference/icd10/SOURCE.md).
 */
export function parseIcd10Categories(categoriesCsv: string, chaptersCsv: string): Map<string, Icd10Category> {
  const chapterRanges = new Map<string, string>();
  for (const c of parseCsvRecords(chaptersCsv, "chapters.csv", ["chapter", "first_code", "last_code"])) {
    chapterRanges.set(c.chapter, `${c.first_code}-${c.last_code}`);
  }
  const categories = new Map<string, Icd10Category>();
  parseCsvRecords(categoriesCsv, "categories.csv", ["category", "block", "chapter"]).forEach((r, i) => {
    const chapter = chapterRanges.get(r.chapter);
    if (!chapter) throw new Error(`categories.csv, line ${i + 2}: chapter ${JSON.stringify(r.chapter)} is not in chapters.csv`);
    categories.set(r.category.toUpperCase(), {block: r.block, chapter});
  });
  return categories;
}

/** Normalise an ICD-10-CM code as written in data ("e11.9", "E119 ") to the dotless upper-case form. */
export function normalizeIcd10Code(code: string): string {
  return code.trim().toUpperCase().replace(/\./g, "");
}
