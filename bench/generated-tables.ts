import {createWriteStream, existsSync, mkdirSync, renameSync} from "node:fs";
import {once} from "node:events";
import {generatePatientsCsv} from "../src/lib/sample-data.js";

/** Generate (once, cached under bench/.cache) the synthetic patient table with `rows` rows, seed 7. */
export async function generatedTable(rows: number): Promise<string> {
  mkdirSync("bench/.cache", {recursive: true});
  const path = `bench/.cache/patients-${rows}.csv`;
  if (existsSync(path)) return path;
  const partial = `${path}.partial`;
  const out = createWriteStream(partial);
  for (const chunk of generatePatientsCsv({rows, seed: 7, chunkRows: 4096})) if (!out.write(chunk)) await once(out, "drain");
  out.end();
  await once(out, "finish");
  renameSync(partial, path);
  return path;
}

/** The generated table's quasi-identifiers and their built-in hierarchies, as the benchmarks use them. */
export const generatedQuasiIdentifiers: [name: string, hierarchy: string][] = [
  ["birth_date", "date"],
  ["sex", "flat"],
  ["race", "flat"],
  ["ethnicity", "flat"],
  ["zip", "zip"],
  ["admission_date", "date"],
  ["age", "age:5"],
  ["diagnosis_code", "icd10"]
];
