import {parseFlags, UsageError} from "../args.js";
import {openNativeDuckDB} from "../duckdb-native.js";
import {resolveHierarchy} from "../hierarchy-files.js";
import {loadCsvFile} from "../read-csv.js";
import type {QuasiIdentifier} from "../../src/lib/hierarchies.js";
import {measureMlUtility} from "../../src/lib/ml-utility.js";
import type {Command} from "./command.js";

const FLAGS = ["input", "delimiter", "target", "positive", "features", "qi", "levels", "sensitive", "k", "max-risk", "suppression", "seed", "test-fraction"];

export const mlUtilityCommand: Command = {
  summary: "Train the same model on original and de-identified data; compare AUC",
  usage: `Usage: deid-workbench ml-utility --input FILE [--delimiter C] --target NAME [--positive VALUE]
                                [--features NAME,...] --qi NAME=HIERARCHY ... --levels NAME=LEVEL,...
                                [--k K] [--max-risk R] [--suppression FRACTION] [--seed S]
                                [--test-fraction F] [--json]

Generalizes the quasi-identifiers to the given levels (suppressing, all QIs "*", the records of
classes smaller than K when they fit the suppression limit, as the risk and search commands), then
trains the same seeded logistic regression on the original and on the de-identified records with the
same train/test split, and reports AUC and accuracy on the held-out records for both and their ratio
(docs/semantics.md, "ML utility").

  --input FILE              CSV file (required)
  --delimiter C             field delimiter (default: sniffed)
  --target NAME             the column to predict (required)
  --positive VALUE          the target value counted positive (default: the rarer of two values)
  --features NAME,...       feature columns (default: every column but the target)
  --qi NAME=HIERARCHY       a quasi-identifier and its hierarchy (ARX CSV or built-in); repeatable
  --levels NAME=LEVEL,...   generalization level per quasi-identifier (required for each)
  --k K, --max-risk R       privacy model deciding suppression (optional)
  --suppression FRACTION    suppression limit (default 0)
  --seed S                  seed of the split and the training (default 1)
  --test-fraction F         share of records held out (default 0.3)
  --json                    print one JSON object`,
  async run(argv) {
    const flags = parseFlags(argv, {switches: ["json"], known: FLAGS});
    const input = flags.require("input");
    const target = flags.require("target");
    const quasiIdentifiers: QuasiIdentifier[] = flags.all("qi").map((spec) => {
      const eq = spec.indexOf("=");
      if (eq <= 0) throw new UsageError(`--qi expects NAME=HIERARCHY, got ${JSON.stringify(spec)}`);
      try {
        return {name: spec.slice(0, eq), hierarchy: resolveHierarchy(spec.slice(eq + 1))};
      } catch (error) {
        throw new UsageError(`quasi-identifier "${spec.slice(0, eq)}": ${(error as Error).message}`);
      }
    });
    const levels: Record<string, number> = {};
    for (const part of flags.all("levels").flatMap((s) => s.split(",")).filter(Boolean)) {
      const [name, level] = part.split("=");
      if (!name || !Number.isInteger(Number(level))) throw new UsageError(`--levels expects NAME=LEVEL,..., got ${JSON.stringify(part)}`);
      levels[name] = Number(level);
    }
    for (const q of quasiIdentifiers) if (levels[q.name] === undefined) throw new UsageError(`no level for quasi-identifier "${q.name}": add it to --levels`);
    const k = flags.number("k");
    const maxRisk = flags.number("max-risk");
    const suppression = flags.number("suppression") ?? 0;
    const features = flags.string("features")?.split(",").filter(Boolean);
    const conn = await openNativeDuckDB();
    try {
      await loadCsvFile(conn, input, "dataset", {delimiter: flags.string("delimiter")?.replace("\\t", "\t"), allText: true});
      const t0 = performance.now();
      const result = await measureMlUtility(conn, {
        table: "dataset",
        target,
        positive: flags.string("positive"),
        features,
        quasiIdentifiers,
        levels,
        model: k !== undefined || maxRisk !== undefined ? {k, maxProsecutorRisk: maxRisk, suppressionLimit: suppression} : undefined,
        seed: flags.number("seed") ?? 1,
        testFraction: flags.number("test-fraction")
      });
      const seconds = (performance.now() - t0) / 1000;
      if (flags.boolean("json")) process.stdout.write(JSON.stringify({input, levels, ...result, seconds}, null, 2) + "\n");
      else {
        const f = (x: number) => x.toFixed(4);
        process.stdout.write(
          [
            `ML utility of ${input}: logistic regression predicting ${target} = ${JSON.stringify(result.positive)} (seed ${result.seed}; ${result.trainRecords} train / ${result.testRecords} test records)`,
            `  original       AUC ${f(result.original.auc)}  accuracy ${f(result.original.accuracy)}`,
            `  de-identified  AUC ${f(result.deidentified.auc)}  accuracy ${f(result.deidentified.accuracy)}  (${result.suppressedRecords} records suppressed)`,
            `  ratio          AUC ${f(result.aucRatio)}  accuracy ${f(result.accuracyRatio)}`,
            ""
          ].join("\n")
        );
      }
      return 0;
    } finally {
      conn.close();
    }
  }
};
