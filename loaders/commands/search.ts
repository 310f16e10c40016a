import {parseFlags, UsageError} from "../args.js";
import {openNativeDuckDB} from "../duckdb-native.js";
import {resolveHierarchy} from "../hierarchy-files.js";
import {loadCsvFile} from "../read-csv.js";
import {bottomClasses, computeClassCounts, rollUpClasses} from "../../src/lib/class-counts.js";
import type {QuasiIdentifier} from "../../src/lib/hierarchies.js";
import {minSizeForRisk, PrivacyEvaluator, searchLattice, type SearchPrivacyModel} from "../../src/lib/lattice-search.js";
import type {LDiversityModel, TClosenessModel} from "../../src/lib/privacy-models.js";
import {computeRiskSummary, DEFAULT_THRESHOLD} from "../../src/lib/risk.js";
import {measureUtility, prepareUtilityTables, UTILITY_METRICS, type UtilityMetric} from "../../src/lib/utility.js";
import type {Command} from "./command.js";

const FLAGS = ["input", "delimiter", "qi", "sensitive", "k", "l", "t", "max-risk", "suppression", "metric", "threshold", "weights"];
const SWITCHES = ["json", "exhaustive", "frontier"];

export const searchCommand: Command = {
  summary: "Find the generalization with the least information loss that meets a privacy model",
  usage: `Usage: deid-workbench search --input FILE [--delimiter C] --qi NAME=HIERARCHY ... [--sensitive NAME ...]
                            [--k K] [--l ATTR:VARIANT:L[:C]] [--t ATTR:T[:DISTANCE]] [--max-risk R]
                            [--suppression FRACTION] [--metric precision|loss|discernibility|entropy]
                            [--threshold T] [--weights NAME=W,...] [--exhaustive] [--frontier] [--json]

Searches the lattice of generalization levels (one level per quasi-identifier) for the transformation
that satisfies the privacy model with the least information loss. Records are counted once per
combination of original values (one SQL GROUP BY in native DuckDB); every transformation is then
computed by rolling those counts up the hierarchies, with monotonicity pruning and lower bounds on
the metric (docs/semantics.md, "Optimal search"). Ties: lower metric, then lower sum of levels, then
lexicographically smaller levels. Suppression follows ARX and the risk command: records in violating
classes are suppressed when they are at most floor(FRACTION x records).

  --input FILE              CSV file (required)
  --delimiter C             field delimiter (default: sniffed; '\\t' for tab)
  --qi NAME=HIERARCHY       a quasi-identifier and its hierarchy; repeat for each. HIERARCHY is an ARX
                            hierarchy CSV or a built-in (age[:W], interval:..., date, year, zip[:LIST],
                            icd10, mask:N, flat), as for the risk command
  --sensitive NAME          a sensitive attribute (repeatable); --l and --t add theirs
  --k K                     k-anonymity: classes smaller than K violate the model
  --l ATTR:VARIANT:L[:C]    l-diversity of sensitive attribute ATTR; VARIANT distinct, entropy
                            (exp(H) >= L, natural log) or recursive (needs C: r1 < C (r_L + ... + r_m));
                            repeatable, one per attribute
  --t ATTR:T[:DISTANCE]     t-closeness of ATTR (EMD <= T); DISTANCE equal (default) or ordered
  --max-risk R              largest prosecutor risk 1/class size a kept record may have (same as
                            k = the least n with 1/n <= R)
  --suppression FRACTION    suppression limit, a fraction of all records, 0-1 (default 0)
  --metric M                information loss to minimise: precision (default; mean level/(height-1)
                            over QI cells, suppressed cells 1), loss (Iyengar), discernibility, entropy
                            (non-uniform entropy)
  --threshold T             prosecutor-risk threshold for recordsAtRisk (default ${DEFAULT_THRESHOLD})
  --weights NAME=W,...      importance weights for the weighted loss in the utility report (default 1)
  --exhaustive              evaluate every node (slow; the reference the pruned search is tested against)
  --frontier                also list the transformations not dominated on (average risk, metric)
  --json                    print one JSON object: levels, metric, metricValue, measurements (the keys of
                            risk --json), utility, nodesEvaluated, nodesTotal, seconds (search time),
                            countSeconds (the GROUP BY), frontier
Exit status 3 when no transformation satisfies the model (even all QIs at the top level).`,
  async run(argv) {
    const flags = parseFlags(argv, {switches: SWITCHES, known: FLAGS});
    const input = flags.require("input");
    const quasiIdentifiers: QuasiIdentifier[] = flags.all("qi").map((spec) => {
      const eq = spec.indexOf("=");
      if (eq <= 0 || eq === spec.length - 1) throw new UsageError(`--qi expects NAME=HIERARCHY, got ${JSON.stringify(spec)}`);
      const name = spec.slice(0, eq);
      try {
        return {name, hierarchy: resolveHierarchy(spec.slice(eq + 1))};
      } catch (error) {
        throw new UsageError(`quasi-identifier "${name}": ${(error as Error).message}`);
      }
    });
    if (quasiIdentifiers.length === 0) throw new UsageError("no quasi-identifiers: give --qi NAME=HIERARCHY");
    const sensitive = flags.all("sensitive").flatMap((s) => s.split(",")).filter(Boolean);
    const addSensitive = (name: string) => {
      if (!sensitive.includes(name)) sensitive.push(name);
    };
    const positive = (flag: string) => {
      const v = flags.number(flag);
      if (v !== undefined && !(v > 0)) throw new UsageError(`--${flag} must be positive, got ${v}`);
      return v;
    };
    const k = positive("k");
    if (k !== undefined && !Number.isInteger(k)) throw new UsageError(`--k must be a positive integer, got ${k}`);
    const maxRisk = positive("max-risk");
    if (maxRisk !== undefined && maxRisk > 1) throw new UsageError(`--max-risk must be in (0, 1], got ${maxRisk}`);
    const suppression = flags.number("suppression") ?? 0;
    if (!(suppression >= 0 && suppression <= 1)) throw new UsageError(`--suppression must be a fraction between 0 and 1, got ${suppression}`);
    const threshold = flags.number("threshold") ?? DEFAULT_THRESHOLD;
    const metric = (flags.string("metric") ?? "precision") as UtilityMetric;
    if (!UTILITY_METRICS.includes(metric)) throw new UsageError(`--metric must be one of ${UTILITY_METRICS.join(", ")}, got ${metric}`);
    const lDiversity = flags.all("l").map((spec) => {
      const [attribute, variant, l, c] = spec.split(":");
      if (!attribute || !["distinct", "entropy", "recursive"].includes(variant) || !(Number(l) >= 1)) throw new UsageError(`--l expects ATTR:distinct|entropy|recursive:L[:C], got ${JSON.stringify(spec)}`);
      if (variant === "recursive" && !(Number(c) > 0)) throw new UsageError(`--l ${spec}: recursive (c,l)-diversity needs C, e.g. ${attribute}:recursive:${l}:3`);
      addSensitive(attribute);
      return {attribute, variant: variant as LDiversityModel["variant"], l: Number(l), ...(c !== undefined ? {c: Number(c)} : {})};
    });
    const tCloseness = flags.all("t").map((spec) => {
      const [attribute, t, distance = "equal"] = spec.split(":");
      if (!attribute || !(Number(t) >= 0 && Number(t) <= 1) || !["equal", "ordered"].includes(distance)) throw new UsageError(`--t expects ATTR:T[:equal|ordered] with 0 <= T <= 1, got ${JSON.stringify(spec)}`);
      addSensitive(attribute);
      return {attribute, t: Number(t), distance: distance as TClosenessModel["distance"]};
    });
    const weights: Record<string, number> = {};
    for (const part of flags.all("weights").flatMap((w) => w.split(",")).filter(Boolean)) {
      const [name, w] = part.split("=");
      if (!name || !Number.isFinite(Number(w)) || Number(w) < 0) throw new UsageError(`--weights expects NAME=W with W >= 0, got ${JSON.stringify(part)}`);
      weights[name] = Number(w);
    }
    const model: SearchPrivacyModel = {k, maxProsecutorRisk: maxRisk, lDiversity, tCloseness, suppressionLimit: suppression};
    if (k === undefined && maxRisk === undefined && lDiversity.length === 0 && tCloseness.length === 0) {
      throw new UsageError("no privacy model: give --k, --l, --t or --max-risk (without one the original data is optimal)");
    }

    const conn = await openNativeDuckDB();
    try {
      const loaded = await loadCsvFile(conn, input, "dataset", {delimiter: flags.string("delimiter")?.replace("\\t", "\t"), allText: true});
      const t0 = performance.now();
      const counts = await computeClassCounts(conn, {table: "dataset", quasiIdentifiers, sensitive});
      const countSeconds = (performance.now() - t0) / 1000;
      const result = await searchLattice(counts, {model, metric, threshold, exhaustive: flags.boolean("exhaustive"), frontier: flags.boolean("frontier")});
      const optimum = result.optimum;
      let measurements: Record<string, unknown> | null = null;
      let utility = null;
      if (optimum) {
        // The SQL risk engine measures the optimum when it can express the model (one l and one t
        // model for all sensitive attributes); otherwise the search's own figures, which tests hold equal.
        const uniform = (list: object[]) => list.length === 0 || (list.length === sensitive.length && list.every((m) => JSON.stringify({...m, attribute: undefined}) === JSON.stringify({...list[0], attribute: undefined})));
        if (uniform(lDiversity) && uniform(tCloseness)) {
          const strip = <T extends {attribute?: string}>(m: T | undefined) => (m ? (({attribute: _a, ...rest}) => rest)(m) : undefined);
          const effectiveK = maxRisk !== undefined ? Math.max(k ?? 1, minSizeForRisk(maxRisk)) : k;
          measurements = {
            ...(await computeRiskSummary(conn, {
              table: "dataset",
              quasiIdentifiers,
              sensitive,
              levels: optimum.levels,
              k: effectiveK,
              suppressionLimit: suppression,
              threshold,
              lDiversity: strip(lDiversity[0]),
              tCloseness: strip(tCloseness[0]),
              drivers: false
            }))
          };
        } else measurements = {...optimum.measures};
        const {node: bottom, joint} = bottomClasses(counts);
        const node = optimum.levelList.some((l) => l > 0) ? rollUpClasses(counts, bottom, optimum.levelList) : bottom;
        const violates = new Uint8Array(node.classes);
        const privacy = new PrivacyEvaluator(counts, model, joint);
        const {violating} = privacy.evaluate(node, violates);
        const suppressed = violating > 0 && violating <= privacy.limitRecords ? violates : null;
        utility = measureUtility(counts, prepareUtilityTables(counts), node, suppressed, {k: privacy.minSize, weights, joint});
      }
      const out = {
        input,
        delimiter: loaded.delimiter,
        model,
        metric,
        levels: optimum?.levels ?? null,
        metricValue: optimum?.metricValue ?? null,
        measurements,
        utility,
        nodesEvaluated: result.nodesEvaluated,
        nodesTotal: result.nodesTotal,
        monotone: result.monotone,
        exhaustive: result.exhaustive,
        seconds: result.seconds,
        countSeconds,
        ...(result.frontier ? {frontier: result.frontier.map(({levels, risk, maxProsecutorRisk, metricValue, anonymous, suppressed}) => ({levels, risk, maxProsecutorRisk, metricValue, anonymous, suppressed})), frontierSeconds: result.frontierSeconds} : {})
      };
      if (flags.boolean("json")) {
        process.stdout.write(JSON.stringify(out, null, 2) + "\n");
        return optimum ? 0 : 3;
      }
      const lines: string[] = [];
      if (!optimum) lines.push(`No transformation of ${input} satisfies the privacy model, even with every quasi-identifier at its top level.`);
      else {
        const m = measurements as Record<string, number>;
        lines.push(
          `Optimum for ${input} (${metric} = ${fmt(optimum.metricValue)}):`,
          `  levels            ${Object.entries(optimum.levels).map(([n, l]) => `${n}=${l}`).join(", ")}`,
          `  records           ${m.records} (${m.suppressed} suppressed)`,
          `  classes           ${m.classes} (sizes ${m.minClassSize}..${m.maxClassSize}, mean ${fmt(m.avgClassSize)})`,
          `  prosecutor risk   max ${fmt(m.maxProsecutorRisk)}, mean ${fmt(m.avgProsecutorRisk)}; ${fmt(m.recordsAtRisk * 100)}% of records above ${threshold}`,
          `  utility           precision ${fmt(utility!.precision)}, loss ${fmt(utility!.loss)}, discernibility ${utility!.discernibility}, entropy ${fmt(utility!.entropy)} bits, avg class size ${fmt(utility!.averageClassSize)}, weighted loss ${fmt(utility!.weightedLoss)}`
        );
      }
      lines.push(`Searched ${result.nodesEvaluated} of ${result.nodesTotal} nodes in ${fmt(result.seconds)} s (+${fmt(countSeconds)} s counting)${result.exhaustive ? ", exhaustively" : ""}.`);
      if (result.frontier) {
        lines.push(`Frontier (average risk vs ${metric}), ${result.frontier.length} transformations:`);
        for (const p of result.frontier) lines.push(`  risk ${fmt(p.risk)}  ${metric} ${fmt(p.metricValue)}  ${p.anonymous === false ? "(not anonymous) " : ""}${Object.values(p.levels).join(",")}`);
      }
      process.stdout.write(lines.join("\n") + "\n");
      return optimum ? 0 : 3;
    } finally {
      conn.close();
    }
  }
};

function fmt(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(4);
}
