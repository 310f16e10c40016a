/**
 * Regenerates the bundled sample, data/sample-patients.csv: 2,000 synthetic patients, seed 1
 * (the same bytes as `deid-workbench generate --rows 2000 --seed 1`). See data/SOURCE.md.
 *   npx tsx scripts/generate-sample.ts
 */
import {fileURLToPath} from "node:url";
import {writeGeneratedPatients} from "../loaders/commands/generate.js";

export const SAMPLE_ROWS = 2000;
export const SAMPLE_SEED = 1;

const out = fileURLToPath(new URL("../data/sample-patients.csv", import.meta.url));
await writeGeneratedPatients({rows: SAMPLE_ROWS, seed: SAMPLE_SEED, out});
console.log(`wrote ${out}: ${SAMPLE_ROWS} rows, seed ${SAMPLE_SEED}`);
