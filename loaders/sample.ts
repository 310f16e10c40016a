import {readFileSync} from "node:fs";

export const samplePath = new URL("../data/sample-patients.csv", import.meta.url);

export function readSampleCsv(): Buffer {
  try {
    return readFileSync(samplePath);
  } catch {
    throw new Error(`sample data missing: ${samplePath.pathname}; run \`npx tsx scripts/generate-sample.ts\``);
  }
}
