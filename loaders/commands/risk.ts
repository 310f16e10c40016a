import {existsSync, readFileSync} from "node:fs";
import {dirname, resolve} from "node:path";
import {parseFlags, UsageError, type Flags} from "../args.js";
import {openNativeDuckDB} from "../duckdb-native.js";
import {resolveHierarchy} from "../hierarchy-files.js";
import {loadCsvFile} from "../read-csv.js";
import {fieldsWithRole, validateDataDictionary, type DataDictionary} from "../../src/lib/data-dictionary.js";
import {dropEvaluation, dropFrequencyTable, evaluateTransformation, listEquivalenceClasses, prepareFrequencyTable} from "../../src/lib/equivalence-classes.js";
import type {QuasiIdentifier} from "../../src/lib/hierarchies.js";
import type {LDiversityModel, TClosenessModel} from "../../src/lib/privacy-models.js";
import {computeRiskSummary, DEFAULT_THRESHOLD, type PopulationModel, type RiskOptions, type RiskSummary} from "../../src/lib/risk.js";
import type {Command} from "./command.js";

const FLAGS = ["input", "delimiter", "qi", "sensitive", "levels", "k", "suppression", "threshold", "l", "l-variant", "c", "t", "t-distance", "sampling-fraction", "population-size", "population", "classes", "config"];
const SWITCHES = ["json", "no-drivers", "suppress-always"];

export const riskCommand: Command = {
  summary: "Re-identification risk of one generalization: classes, k, l, t, prosecutor/journalist/marketer risk",
  usage: `Usage: deid-workbench risk --input FILE [--delimiter C] --qi NAME=HIERARCHY ... [--sensitive NAME ...]
                          --levels NAME=LEVEL,... [--k K] [--suppression FRACTION] [--threshold T] [--json]
       deid-workbench risk --config FILE [any flag above to override it]

Generalizes each quasi-identifier to the given level, forms the equivalence classes (records with
equal generalized values) and measures re-identification risk with SQL in native DuckDB. Every
figure is defined in docs/semantics.md; conventions follow ARX. When a privacy model is given
(--k, --l, --t), records in violating classes are suppressed if they are at most
floor(FRACTION x records); otherwise nothing is suppressed and "anonymous" is false. Statistics and
risks are computed over the records that remain (ARX convention). Without a model nothing is suppressed.
All values are compared as text; empty fields are missing values, their own value.

  --input FILE              CSV file (required unless the config names it)
  --delimiter C             field delimiter (default: sniffed; '\\t' for tab)
  --qi NAME=HIERARCHY       a quasi-identifier and its hierarchy; repeat for each. HIERARCHY is an ARX
                            hierarchy CSV (';'-separated, no header, column i = level i) or a built-in:
                            age[:W] (W = 1, 5, 10, 20: bands doubling to 20 years, 90+ top-coded),
                            interval:W1,W2,...[:top=T], date (day>month>quarter>year>decade), year,
                            zip[:hhs-2000|hrsa-2020] (5>4>3 digits, restricted ZIP3 -> 000; default
                            list: union of both), icd10 (code>category>block>chapter), mask:N, flat
  --sensitive NAME          a sensitive attribute for l-diversity and t-closeness; repeatable
  --levels NAME=LEVEL,...   generalization level per quasi-identifier (0 = original); repeatable
  --k K                     k-anonymity: classes smaller than K violate the model
  --suppression FRACTION    suppression limit, a fraction of all records, 0-1 (default 0)
  --threshold T             prosecutor-risk threshold for recordsAtRisk (default ${DEFAULT_THRESHOLD})
  --l L                     l-diversity for every sensitive attribute
  --l-variant V             distinct (default), entropy (exp(H) >= L, natural log) or recursive
  --c C                     c of recursive (c,l)-diversity: r1 < C (r_l + ... + r_m)
  --t T                     t-closeness for every sensitive attribute (EMD <= T)
  --t-distance D            equal (default; half the L1 distance) or ordered (Li et al. 2007)
  --sampling-fraction F     the data is a sample of F of the population: journalist risk with F = f/F
                            and the Zayatz (1991) population-uniqueness estimate
  --population-size N       the population size instead of a sampling fraction
  --population FILE         a CSV of the population (same quasi-identifier columns, same delimiter):
                            journalist risk and k-map with class sizes counted in it
  --suppress-always         suppress violating classes even beyond the limit ("anonymous" stays false),
                            as ARX's output view does for a non-anonymous transformation
  --classes N               also list the N smallest equivalence classes
  --no-drivers              skip the uniqueness drivers (per quasi-identifier and pair)
  --json                    print one JSON object (keys: records, suppressed, classes, minClassSize,
                            avgClassSize, maxClassSize, maxProsecutorRisk, avgProsecutorRisk,
                            recordsAtRisk, marketerRisk, levels, anonymous, sensitive, journalist,
                            populationUniqueness, drivers, ...)
  --config FILE             JSON: {"input", "delimiter", "dictionary" (a data dictionary object or the
                            path of one), "levels", "k", "suppression", "threshold", "lDiversity",
                            "tCloseness", "population"}; quasi-identifiers and sensitive attributes
                            come from the dictionary's roles. Paths are relative to the config file.`,
  async run(argv) {
    const flags = parseFlags(argv, {switches: SWITCHES, known: FLAGS});
    const settings = await readSettings(flags);
    const conn = await openNativeDuckDB();
    try {
      const loaded = await loadCsvFile(conn, settings.input, "dataset", {delimiter: settings.delimiter, allText: true});
      if (settings.populationFile) await loadCsvFile(conn, settings.populationFile, "population", {delimiter: loaded.delimiter, allText: true});
      const options: RiskOptions = {
        table: "dataset",
        quasiIdentifiers: settings.quasiIdentifiers,
        levels: settings.levels,
        sensitive: settings.sensitive,
        k: settings.k,
        suppressionLimit: settings.suppression,
        threshold: settings.threshold,
        lDiversity: settings.lDiversity,
        tCloseness: settings.tCloseness,
        population: settings.populationFile ? {table: "population"} : settings.population,
        drivers: !flags.boolean("no-drivers"),
        suppressAlways: flags.boolean("suppress-always")
      };
      const freq = await prepareFrequencyTable(conn, {...options, populationTable: options.population?.table});
      const summary = await computeRiskSummary(conn, {...options, prepared: freq});
      let smallest: Awaited<ReturnType<typeof listEquivalenceClasses>> | undefined;
      const classCount = flags.number("classes");
      if (classCount !== undefined) {
        const evaluation = await evaluateTransformation(conn, freq, settings.levels, options);
        smallest = await listEquivalenceClasses(conn, evaluation, {limit: classCount});
        await dropEvaluation(conn, evaluation);
      }
      await dropFrequencyTable(conn, freq);
      const hierarchies = Object.fromEntries(settings.quasiIdentifiers.map((q) => [q.name, {hierarchy: q.hierarchy.name, height: q.hierarchy.height, ...(q.hierarchy.source ? {source: q.hierarchy.source} : {})}]));
      if (flags.boolean("json")) process.stdout.write(JSON.stringify({input: settings.input, ...summary, hierarchies, ...(smallest ? {smallestClasses: smallest} : {})}, null, 2) + "\n");
      else process.stdout.write(formatSummary(summary, settings.input, smallest));
      return 0;
    } finally {
      conn.close();
    }
  }
};

interface RiskSettings {
  input: string;
  delimiter?: string;
  quasiIdentifiers: QuasiIdentifier[];
  sensitive: string[];
  levels: Record<string, number>;
  k?: number;
  suppression?: number;
  threshold?: number;
  lDiversity?: LDiversityModel;
  tCloseness?: TClosenessModel;
  population?: PopulationModel;
  populationFile?: string;
}

interface RiskConfigFile {
  input?: string;
  delimiter?: string;
  dictionary?: DataDictionary | string;
  levels?: Record<string, number>;
  k?: number;
  suppression?: number;
  threshold?: number;
  lDiversity?: LDiversityModel;
  tCloseness?: TClosenessModel;
  population?: PopulationModel & {file?: string};
}

const CONFIG_KEYS = ["input", "delimiter", "dictionary", "levels", "k", "suppression", "threshold", "lDiversity", "tCloseness", "population", "$schema"];

async function readSettings(flags: Flags): Promise<RiskSettings> {
  let config: RiskConfigFile = {};
  let baseDir = process.cwd();
  const configPath = flags.string("config");
  if (configPath) {
    const path = resolve(configPath);
    if (!existsSync(path)) throw new UsageError(`--config ${configPath}: file not found`);
    try {
      config = JSON.parse(readFileSync(path, "utf8"));
    } catch (error) {
      throw new Error(`${configPath}: not valid JSON (${(error as Error).message})`);
    }
    if (!config || typeof config !== "object" || Array.isArray(config)) throw new Error(`${configPath}: must be a JSON object`);
    for (const key of Object.keys(config)) if (!CONFIG_KEYS.includes(key)) throw new Error(`${configPath}: unknown key "${key}" (known: ${CONFIG_KEYS.filter((k) => k !== "$schema").join(", ")})`);
    baseDir = dirname(path);
  }
  const inputFlag = flags.string("input");
  const input = inputFlag ?? (config.input ? resolve(baseDir, config.input) : undefined);
  if (!input) throw new UsageError("missing required flag --input (or \"input\" in --config)");

  let quasiIdentifiers: QuasiIdentifier[] = [];
  let sensitive: string[] = [];
  if (config.dictionary !== undefined) {
    let doc: unknown = config.dictionary;
    let dictDir = baseDir;
    if (typeof doc === "string") {
      const dictPath = resolve(baseDir, doc);
      if (!existsSync(dictPath)) throw new Error(`${configPath}: dictionary file ${dictPath} not found`);
      doc = JSON.parse(readFileSync(dictPath, "utf8"));
      dictDir = dirname(dictPath);
    }
    const dictionary = validateDataDictionary(doc);
    quasiIdentifiers = fieldsWithRole(dictionary, "quasi-identifier").map((f) => ({name: f.name, hierarchy: hierarchyFor(f.name, f.hierarchy!, dictDir)}));
    sensitive = fieldsWithRole(dictionary, "sensitive").map((f) => f.name);
  }
  if (flags.has("qi")) {
    quasiIdentifiers = flags.all("qi").map((spec) => {
      const eq = spec.indexOf("=");
      if (eq <= 0 || eq === spec.length - 1) throw new UsageError(`--qi expects NAME=HIERARCHY, got ${JSON.stringify(spec)}`);
      return {name: spec.slice(0, eq), hierarchy: hierarchyFor(spec.slice(0, eq), spec.slice(eq + 1), process.cwd())};
    });
  }
  if (flags.has("sensitive")) sensitive = flags.all("sensitive").flatMap((s) => s.split(",")).filter(Boolean);
  if (quasiIdentifiers.length === 0) throw new UsageError("no quasi-identifiers: give --qi NAME=HIERARCHY (or a dictionary with quasi-identifier fields in --config)");

  const levels: Record<string, number> = {...(config.levels ?? {})};
  for (const spec of flags.all("levels")) {
    for (const part of spec.split(",").filter(Boolean)) {
      const eq = part.indexOf("=");
      const level = Number(part.slice(eq + 1));
      if (eq <= 0 || !Number.isInteger(level)) throw new UsageError(`--levels expects NAME=LEVEL,..., got ${JSON.stringify(part)}`);
      levels[part.slice(0, eq)] = level;
    }
  }
  for (const name of Object.keys(levels)) if (!quasiIdentifiers.some((q) => q.name === name)) throw new UsageError(`--levels names "${name}", which is not a quasi-identifier (${quasiIdentifiers.map((q) => q.name).join(", ")})`);
  for (const q of quasiIdentifiers) if (levels[q.name] === undefined) throw new UsageError(`no level for quasi-identifier "${q.name}": add it to --levels`);

  const number = (flag: string, fallback: number | undefined) => (flags.has(flag) ? flags.number(flag) : fallback);
  const k = number("k", config.k);
  const suppression = number("suppression", config.suppression);
  const threshold = number("threshold", config.threshold);
  if (suppression !== undefined && !(suppression >= 0 && suppression <= 1)) throw new UsageError(`--suppression must be a fraction between 0 and 1, got ${suppression}`);
  if (threshold !== undefined && !(threshold >= 0 && threshold <= 1)) throw new UsageError(`--threshold must be between 0 and 1, got ${threshold}`);
  if (k !== undefined && !(Number.isInteger(k) && k >= 1)) throw new UsageError(`--k must be a positive integer, got ${k}`);

  let lDiversity = config.lDiversity;
  if (flags.has("l")) {
    const variant = (flags.string("l-variant") ?? "distinct") as LDiversityModel["variant"];
    if (!["distinct", "entropy", "recursive"].includes(variant!)) throw new UsageError(`--l-variant must be distinct, entropy or recursive, got ${variant}`);
    lDiversity = {l: flags.number("l")!, variant, ...(flags.has("c") ? {c: flags.number("c")} : {})};
    if (variant === "recursive" && !flags.has("c")) throw new UsageError("--l-variant recursive needs --c");
  }
  let tCloseness = config.tCloseness;
  if (flags.has("t")) {
    const distance = (flags.string("t-distance") ?? "equal") as TClosenessModel["distance"];
    if (!["equal", "ordered"].includes(distance!)) throw new UsageError(`--t-distance must be equal or ordered, got ${distance}`);
    tCloseness = {t: flags.number("t")!, distance};
  }
  if ((lDiversity || tCloseness) && sensitive.length === 0) throw new UsageError("l-diversity and t-closeness need at least one --sensitive attribute");

  let population: PopulationModel | undefined;
  let populationFile: string | undefined;
  if (config.population) {
    const {file, ...rest} = config.population;
    if (file) populationFile = resolve(baseDir, file);
    else population = rest;
  }
  if (flags.has("sampling-fraction")) population = {samplingFraction: flags.number("sampling-fraction")};
  if (flags.has("population-size")) population = {populationSize: flags.number("population-size")};
  if (flags.has("population")) populationFile = flags.require("population");
  if (population?.samplingFraction !== undefined && !(population.samplingFraction > 0 && population.samplingFraction <= 1)) throw new UsageError(`--sampling-fraction must be in (0, 1], got ${population.samplingFraction}`);

  return {
    input,
    delimiter: flags.string("delimiter")?.replace("\\t", "\t") ?? config.delimiter,
    quasiIdentifiers,
    sensitive,
    levels,
    k,
    suppression,
    threshold,
    lDiversity,
    tCloseness,
    population,
    populationFile
  };
}

function hierarchyFor(name: string, spec: string, baseDir: string) {
  try {
    return resolveHierarchy(spec, baseDir);
  } catch (error) {
    throw new UsageError(`quasi-identifier "${name}": ${(error as Error).message}`);
  }
}

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
const num = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(4));

function formatSummary(s: RiskSummary, input: string, smallest?: Awaited<ReturnType<typeof listEquivalenceClasses>>): string {
  const lines = [
    `Risk of ${input} at levels ${Object.entries(s.levels).map(([k, v]) => `${k}=${v}`).join(", ")}`,
    "",
    `records                ${s.records}`,
    `suppressed             ${s.suppressed}${s.k !== null || s.anonymous !== null ? ` (limit ${pct(s.suppressionLimit)}; ${s.violatingRecords} records violate the model)` : ""}`,
    `anonymous              ${s.anonymous === null ? "n/a (no privacy model)" : s.anonymous ? "yes" : "no"}`,
    `equivalence classes    ${s.classes} (size min ${s.minClassSize}, mean ${num(s.avgClassSize)}, max ${s.maxClassSize})`,
    `unique records         ${s.uniqueRecords}`,
    `prosecutor risk        max ${num(s.maxProsecutorRisk)}, average ${num(s.avgProsecutorRisk)}`,
    `records at risk        ${pct(s.recordsAtRisk)} above threshold ${s.threshold}`,
    `marketer risk          ${num(s.marketerRisk)}`
  ];
  for (const a of s.sensitive) {
    lines.push(`sensitive ${a.attribute}: distinct-l ${a.distinctL}, entropy-l ${num(a.entropyL)}, recursive (c,${a.recursiveL}) needs c > ${a.recursiveC === null ? "∞ (a class has fewer values)" : num(a.recursiveC)}, t equal ${num(a.tClosenessEqual)}, t ordered ${a.tClosenessOrdered === null ? "n/a" : num(a.tClosenessOrdered)}`);
  }
  if (s.journalist) lines.push(`journalist risk        max ${num(s.journalist.maxRisk)}, average ${num(s.journalist.avgRisk)}, at risk ${pct(s.journalist.recordsAtRisk)}, k-map ${num(s.journalist.kMap)} (${s.journalist.basis}, population ${Math.round(s.journalist.populationSize)})`);
  if (s.populationUniqueness) lines.push(`population uniques      ${num(s.populationUniqueness.populationUniques)} (${pct(s.populationUniqueness.fraction)} of the population; ${s.populationUniqueness.estimator})`);
  if (s.drivers) {
    lines.push("", "uniqueness drivers (records unique on ...)");
    for (const d of s.drivers.withoutEach) lines.push(`  ${d.quasiIdentifier.padEnd(22)} alone ${String(s.drivers.single.find((x) => x.quasiIdentifiers[0] === d.quasiIdentifier)?.uniqueRecords ?? 0).padStart(7)}   adds ${d.uniqueRecordsAdded} unique records to the others`);
    const topPairs = [...s.drivers.pairs].sort((a, b) => b.uniqueRecords - a.uniqueRecords).slice(0, 5).filter((p) => p.uniqueRecords > 0);
    for (const p of topPairs) lines.push(`  pair ${p.quasiIdentifiers.join(" + ")}: ${p.uniqueRecords}`);
  }
  if (smallest) {
    lines.push("", "smallest equivalence classes");
    for (const c of smallest) lines.push(`  ${String(c.size).padStart(6)}  ${Object.values(c.labels).map((v) => v ?? "(missing)").join(" | ")}${c.suppressed ? "  [suppressed]" : ""}`);
  }
  lines.push("", s.note, "");
  return lines.join("\n");
}
