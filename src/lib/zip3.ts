import {parseCsvRecords} from "./reference-tables.js";

/**
 * A versioned list of three-digit ZIP prefixes whose population is 20,000 or less; HIPAA Safe
 * Harbor (45 CFR 164.514(b)(2)(i)(B)) requires them to become "000". The list used is always
 * recorded (`name`) so a report can say which Census vintage it relied on.
 */
export interface RestrictedZip3List {
  /** e.g. "hhs-2000", "hrsa-2020" or "hhs-2000+hrsa-2020". */
  readonly name: string;
  readonly codes: ReadonlySet<string>;
}

/** Parse a `restricted_zip3_*.csv` table (column `zip3`, three digits). */
export function parseRestrictedZip3List(text: string, name: string, fileName = name): RestrictedZip3List {
  const codes = new Set<string>();
  parseCsvRecords(text, fileName, ["zip3"]).forEach((r, i) => {
    if (!/^\d{3}$/.test(r.zip3)) throw new Error(`${fileName}, line ${i + 2}: zip3 must be three digits, got ${JSON.stringify(r.zip3)}`);
    codes.add(r.zip3);
  });
  return {name, codes};
}

/** The union of several lists; the default restricted set is the union of HHS 2000 and HRSA 2020. */
export function unionZip3Lists(lists: RestrictedZip3List[]): RestrictedZip3List {
  return {name: lists.map((l) => l.name).join("+"), codes: new Set(lists.flatMap((l) => [...l.codes]))};
}

/** Parse `zip3_population.csv`: population per ZIP3, null when unknown. */
export function parseZip3Population(text: string, fileName = "zip3_population.csv"): Map<string, number | null> {
  const populations = new Map<string, number | null>();
  for (const r of parseCsvRecords(text, fileName, ["zip3", "population"])) {
    populations.set(r.zip3, r.population === "" ? null : Number(r.population));
  }
  return populations;
}
