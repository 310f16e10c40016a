/**
 * Re-identification risk of one transformation, as SQL over the generalized frequency table.
 * Every figure is defined, with its source, in docs/semantics.md ("Risk measures"); the conventions
 * follow ARX (Prasser et al.), notably: statistics over the records that remain after suppression.
 */
import {dropEvaluation, dropFrequencyTable, evaluateTransformation, prepareFrequencyTable, type EvaluatedTransformation, type FrequencyTable} from "./equivalence-classes.js";
import type {QuasiIdentifier} from "./hierarchies.js";
import type {LDiversityModel, TClosenessModel} from "./privacy-models.js";
import {quoteIdentifier as qi, type SqlConnection} from "./sql.js";

export {equivalenceClasses, prepareFrequencyTable, dropFrequencyTable} from "./equivalence-classes.js";

/** Where the sample comes from, for journalist risk and population uniqueness. */
export interface PopulationModel {
  /** Sample size / population size (0 < f <= 1). */
  samplingFraction?: number;
  /** Size of the population the sample was drawn from. */
  populationSize?: number;
  /** A table holding the population (a superset of the sample) with the same quasi-identifier columns. */
  table?: string;
}

export interface RiskOptions {
  table: string;
  quasiIdentifiers: QuasiIdentifier[];
  /** Generalization level per quasi-identifier (0 = original). */
  levels: Record<string, number>;
  sensitive?: string[];
  k?: number;
  /** Fraction of all records that may be suppressed (default 0). */
  suppressionLimit?: number;
  /** Prosecutor-risk threshold for `recordsAtRisk` (default 0.2). */
  threshold?: number;
  lDiversity?: LDiversityModel;
  tCloseness?: TClosenessModel;
  population?: PopulationModel;
  /** Suppress violating classes even beyond the limit, as ARX's output view does (default false). */
  suppressAlways?: boolean;
  /** Compute uniqueness drivers per quasi-identifier and pair (default true). */
  drivers?: boolean;
  /** Reuse an encoded frequency table (from prepareFrequencyTable) across many transformations. */
  prepared?: FrequencyTable;
}

export interface SensitiveAttributeRisk {
  attribute: string;
  /** Smallest number of distinct values in a class. */
  distinctL: number;
  /** Smallest exp(entropy) over classes (entropy with natural log). */
  entropyL: number;
  /** The l used for the recursive figure. */
  recursiveL: number;
  /** Largest r1 / (r_l + ... + r_m) over classes: (c,l)-diversity holds for every c greater than this; null when some class has fewer than l values. */
  recursiveC: number | null;
  /** Largest equal-distance EMD between a class and the whole table. */
  tClosenessEqual: number;
  /** Largest ordered-distance EMD; null when not computed (too many classes x values and not requested). */
  tClosenessOrdered: number | null;
  valueOrder: "numeric" | "text";
  domainSize: number;
}

export interface RiskDriver {
  quasiIdentifiers: string[];
  /** Records unique when only these quasi-identifiers are known (at the chosen levels). */
  uniqueRecords: number;
}

export interface UniquenessDrivers {
  /** Records unique on all quasi-identifiers (after suppression). */
  uniqueRecords: number;
  single: RiskDriver[];
  pairs: RiskDriver[];
  /** For each quasi-identifier: records unique on all the others, and how many more become unique when it is added. */
  withoutEach: {quasiIdentifier: string; uniqueRecordsWithout: number; uniqueRecordsAdded: number}[];
}

export interface RiskSummary {
  records: number;
  suppressed: number;
  classes: number;
  minClassSize: number;
  avgClassSize: number;
  maxClassSize: number;
  maxProsecutorRisk: number;
  avgProsecutorRisk: number;
  threshold: number;
  recordsAtRisk: number;
  /** recordsAtRisk at the usual thresholds, for the risk chart. */
  recordsAtRiskByThreshold: Record<string, number>;
  /** Records in classes of size 1 (after suppression). */
  uniqueRecords: number;
  marketerRisk: number;
  levels: Record<string, number>;
  /** Whether the privacy model holds with at most the allowed suppression; null without a privacy model. */
  anonymous: boolean | null;
  k: number | null;
  suppressionLimit: number;
  /** Records in classes that violate the privacy model, before the suppression decision. */
  violatingRecords: number;
  sensitive: SensitiveAttributeRisk[];
  journalist: JournalistRisk | null;
  populationUniqueness: PopulationUniqueness | null;
  drivers: UniquenessDrivers | null;
  classSizeHistogram: {size: number; classes: number}[];
  note: string;
}

export interface JournalistRisk {
  /** "population table" (class sizes counted in the table) or "sampling fraction" (F = f / pi, an approximation). */
  basis: "population table" | "sampling fraction";
  populationSize: number;
  /** k-map: smallest population class size among the sample's classes. */
  kMap: number;
  maxRisk: number;
  avgRisk: number;
  recordsAtRisk: number;
  /** Marketer risk against the population: sum over classes of f/F, divided by records. */
  marketerRisk: number;
}

export interface PopulationUniqueness {
  estimator: "Zayatz (1991)";
  samplingFraction: number;
  populationSize: number;
  /** Estimated number of population uniques. */
  populationUniques: number;
  /** populationUniques / populationSize. */
  fraction: number;
  /** Estimated share of sample records that are population uniques (ARX's "risk" for this model). */
  sampleShare: number;
}

export const DEFAULT_THRESHOLD = 0.2;
export const STANDARD_THRESHOLDS = [0.2, 0.1, 0.09, 0.05, 0.033, 0.01];

/** Compute the full risk summary of one transformation. */
export async function computeRiskSummary(conn: SqlConnection, options: RiskOptions): Promise<RiskSummary> {
  const threshold = options.threshold ?? DEFAULT_THRESHOLD;
  if (!(threshold >= 0 && threshold <= 1)) throw new Error(`risk threshold must be between 0 and 1, got ${threshold}`);
  const freq = options.prepared ?? (await prepareFrequencyTable(conn, {...options, populationTable: options.population?.table}));
  try {
    for (const q of freq.hierarchies) if (options.levels[q.column] === undefined) throw new Error(`no level given for quasi-identifier "${q.column}"`);
    const evaluation = await evaluateTransformation(conn, freq, options.levels, options);
    try {
      return await summarize(conn, evaluation, options, threshold);
    } finally {
      await dropEvaluation(conn, evaluation);
    }
  } finally {
    if (!options.prepared) await dropFrequencyTable(conn, freq);
  }
}

async function summarize(conn: SqlConnection, ev: EvaluatedTransformation, options: RiskOptions, threshold: number): Promise<RiskSummary> {
  const histogramRows = await conn.query(`SELECT size::BIGINT AS size, count(*)::BIGINT AS classes FROM ${qi(ev.classes)} WHERE kept GROUP BY size ORDER BY size`);
  const histogram = histogramRows.map((r) => ({size: Number(r.size), classes: Number(r.classes)}));
  const classes = histogram.reduce((a, h) => a + h.classes, 0);
  const remaining = histogram.reduce((a, h) => a + h.size * h.classes, 0);
  const atRisk = (t: number) => (remaining === 0 ? 0 : histogram.filter((h) => 1 / h.size > t).reduce((a, h) => a + h.size * h.classes, 0) / remaining);
  const minClassSize = histogram.length ? histogram[0].size : 0;
  const maxClassSize = histogram.length ? histogram[histogram.length - 1].size : 0;

  const sensitive: SensitiveAttributeRisk[] = [];
  const recursiveL = Math.max(1, Math.floor(options.lDiversity?.l ?? 2));
  for (const [j, domain] of ev.freq.domains.entries()) {
    const [r] = await conn.query(
      `SELECT min(distinct_l${j})::INTEGER AS distinct_l, min(entropy${j}) AS entropy, max(CASE WHEN tail${j} > 0 THEN r1_${j} / tail${j} END) AS c, bool_or(tail${j} = 0) AS impossible,
              max(t_equal${j}) AS t_equal, max(t_ordered${j}) AS t_ordered FROM ${qi(ev.classes)} WHERE kept`
    );
    sensitive.push({
      attribute: domain.column,
      distinctL: Number(r.distinct_l ?? 0),
      entropyL: r.entropy === null ? 0 : Math.exp(Number(r.entropy)),
      recursiveL,
      recursiveC: r.impossible ? null : r.c === null ? null : Number(r.c),
      tClosenessEqual: clamp01(Number(r.t_equal ?? 0)),
      tClosenessOrdered: ev.orderedDistance ? clamp01(Number(r.t_ordered ?? 0)) : null,
      valueOrder: domain.order,
      domainSize: domain.size
    });
  }

  const journalist = await journalistRisk(conn, ev, options.population, threshold, remaining, histogram);
  const populationUniqueness = zayatzEstimate(histogram, remaining, populationSizeOf(ev, options.population));
  const drivers = options.drivers === false ? null : await uniquenessDrivers(conn, ev);

  const byThreshold: Record<string, number> = {};
  for (const t of [...new Set([...STANDARD_THRESHOLDS, threshold])].sort((a, b) => b - a)) byThreshold[String(t)] = atRisk(t);
  return {
    records: ev.records,
    suppressed: ev.suppressed,
    classes,
    minClassSize,
    avgClassSize: classes === 0 ? 0 : remaining / classes,
    maxClassSize,
    maxProsecutorRisk: minClassSize === 0 ? 0 : 1 / minClassSize,
    avgProsecutorRisk: remaining === 0 ? 0 : classes / remaining,
    threshold,
    recordsAtRisk: atRisk(threshold),
    recordsAtRiskByThreshold: byThreshold,
    uniqueRecords: histogram.find((h) => h.size === 1)?.classes ?? 0,
    marketerRisk: remaining === 0 ? 0 : classes / remaining,
    levels: {...ev.levels},
    anonymous: ev.anonymous,
    k: options.k ?? null,
    suppressionLimit: ev.suppressionLimit,
    violatingRecords: ev.violatingRecords,
    sensitive,
    journalist,
    populationUniqueness,
    drivers,
    classSizeHistogram: histogram,
    note:
      ev.suppressed > 0
        ? `${ev.suppressed} record(s) in classes violating the privacy model were suppressed; class statistics and risks are over the ${remaining} remaining records (ARX convention).`
        : "No records suppressed; class statistics and risks are over all records."
  };
}

function clamp01(x: number): number {
  return Math.min(1, Math.max(0, Math.abs(x) < 1e-15 ? 0 : x));
}

function populationSizeOf(ev: EvaluatedTransformation, population: PopulationModel | undefined): number | null {
  if (!population) return null;
  if (ev.freq.population) return ev.freq.population.records;
  if (population.populationSize !== undefined) {
    if (!(population.populationSize >= ev.records)) throw new Error(`population size ${population.populationSize} is smaller than the ${ev.records} records of the sample`);
    return population.populationSize;
  }
  if (population.samplingFraction !== undefined) {
    const f = population.samplingFraction;
    if (!(f > 0 && f <= 1)) throw new Error(`sampling fraction must be in (0, 1], got ${f}`);
    return ev.records / f;
  }
  return null;
}

async function journalistRisk(conn: SqlConnection, ev: EvaluatedTransformation, population: PopulationModel | undefined, threshold: number, remaining: number, histogram: {size: number; classes: number}[]): Promise<JournalistRisk | null> {
  if (!population || remaining === 0) return null;
  let pairs: {f: number; F: number; classes: number}[];
  let basis: JournalistRisk["basis"];
  let populationSize: number;
  if (ev.freq.population) {
    basis = "population table";
    populationSize = ev.freq.population.records;
    const g = ev.freq.hierarchies.map((_, i) => `g${i}`);
    const selects = ev.freq.hierarchies.map((m, i) => {
      const level = ev.levels[m.column];
      return level === 0 ? `p.q${i} AS g${i}` : `h${i}.id${level} AS g${i}`;
    });
    const joins = ev.freq.hierarchies.map((m, i) => (ev.levels[m.column] === 0 ? "" : `JOIN ${qi(m.table)} h${i} ON p.q${i} = h${i}.id0`)).join(" ");
    // A class absent from the population table counts its sample records as its population (the sample is part of it).
    const rows = await conn.query(`WITH pc AS (SELECT ${selects.join(", ")}, sum(p.cnt) AS F FROM ${qi(ev.freq.population.table)} p ${joins} GROUP BY ALL)
      SELECT c.size::BIGINT AS f, greatest(coalesce(pc.F, 0), c.size)::BIGINT AS F, count(*)::BIGINT AS classes
      FROM ${qi(ev.classes)} c LEFT JOIN pc ON ${g.map((x) => `pc.${x} = c.${x}`).join(" AND ")} WHERE c.kept GROUP BY ALL`);
    pairs = rows.map((r) => ({f: Number(r.f), F: Number(r.F), classes: Number(r.classes)}));
  } else {
    const size = populationSizeOf(ev, population);
    if (size === null) return null;
    basis = "sampling fraction";
    populationSize = size;
    const pi = ev.records / size;
    pairs = histogram.map((h) => ({f: h.size, F: h.size / pi, classes: h.classes}));
  }
  let atRisk = 0;
  let minF = Infinity;
  let sumF = 0;
  let sumRatio = 0;
  let classes = 0;
  for (const {f, F, classes: c} of pairs) {
    if (1 / F > threshold) atRisk += f * c;
    minF = Math.min(minF, F);
    sumF += F * c;
    sumRatio += (f / F) * c;
    classes += c;
  }
  return {
    basis,
    populationSize,
    kMap: minF,
    maxRisk: 1 / minF,
    avgRisk: Math.max(classes / sumF, sumRatio / remaining),
    recordsAtRisk: atRisk / remaining,
    marketerRisk: sumRatio / remaining
  };
}

/**
 * Zayatz (1991) as used by Dankar et al. (2012) and ARX: the share of sample uniques that are population
 * uniques is estimated from the sample's class-size distribution with hypergeometric sampling
 * probabilities P(one of a size-i class drawn | N, n) (docs/semantics.md).
 */
export function zayatzEstimate(histogram: {size: number; classes: number}[], sampleSize: number, populationSize: number | null): PopulationUniqueness | null {
  if (populationSize === null || sampleSize === 0) return null;
  const N = Math.floor(populationSize);
  const n = sampleSize;
  const pi = n / populationSize;
  const K = histogram.reduce((a, h) => a + h.classes, 0);
  const f1 = histogram.find((h) => h.size === 1)?.classes ?? 0;
  let populationUniques = 0;
  if (f1 > 0) {
    let denominator = 0;
    for (const h of histogram) denominator += (h.classes / K) * hypergeometricOne(N, h.size, n);
    const conditional = ((f1 / K) * hypergeometricOne(N, 1, n)) / denominator;
    populationUniques = (f1 * conditional) / pi;
    if (!Number.isFinite(populationUniques)) populationUniques = 0;
  }
  return {
    estimator: "Zayatz (1991)",
    samplingFraction: pi,
    populationSize: populationSize,
    populationUniques,
    fraction: populationUniques / populationSize,
    sampleShare: (populationUniques * pi) / n
  };
}

/**
 * P(X = 1) for X ~ Hypergeometric(population N, successes i, draws n) = i * C(N-i, n-1) / C(N, n)
 * = (i n / N) * prod_{j=0}^{i-2} (N-n-j) / (N-1-j), summed in logs.
 */
export function hypergeometricOne(N: number, i: number, n: number): number {
  if (i < 1 || n < 1 || i > N || n > N) return 0;
  let log = Math.log(i) + Math.log(n) - Math.log(N);
  for (let j = 0; j <= i - 2; ++j) {
    const num = N - n - j;
    if (num <= 0) return 0;
    log += Math.log(num) - Math.log(N - 1 - j);
  }
  return Math.exp(log);
}

/** Records unique on each quasi-identifier alone, on each pair, and on all but one (over the records kept). */
async function uniquenessDrivers(conn: SqlConnection, ev: EvaluatedTransformation): Promise<UniquenessDrivers> {
  const names = ev.freq.hierarchies.map((h) => h.column);
  const n = names.length;
  const sets: number[][] = [];
  for (let i = 0; i < n; ++i) sets.push([i]);
  for (let i = 0; i < n; ++i) for (let j = i + 1; j < n; ++j) sets.push([i, j]);
  for (let i = 0; i < n; ++i) sets.push([...Array(n).keys()].filter((x) => x !== i));
  const all = [...Array(n).keys()];
  sets.push(all);
  const g = all.map((i) => `g${i}`);
  // The kept classes once (each class is one row with its size), then one GROUP BY per set; a UNION ALL
  // over a CTE was re-planned per branch and far slower in DuckDB-WASM.
  const kept = `${ev.classes}_kept`;
  await conn.exec(`CREATE OR REPLACE TEMP TABLE ${qi(kept)} AS SELECT ${g.join(", ")}, size AS cnt FROM ${qi(ev.classes)} WHERE kept`);
  const uniques = new Map<number, number>();
  try {
    for (const [id, set] of sets.entries()) {
      const [r] = await conn.query(`SELECT coalesce(sum(size) FILTER (WHERE size = 1), 0)::BIGINT AS uniques FROM (SELECT sum(cnt) AS size FROM ${qi(kept)} ${set.length ? `GROUP BY ${set.map((i) => `g${i}`).join(", ")}` : ""})`);
      uniques.set(id, Number(r.uniques));
    }
  } finally {
    await conn.exec(`DROP TABLE IF EXISTS ${qi(kept)}`);
  }
  const allUniques = uniques.get(sets.length - 1) ?? 0;
  const driver = (id: number): RiskDriver => ({quasiIdentifiers: sets[id].map((i) => names[i]), uniqueRecords: uniques.get(id) ?? 0});
  const pairCount = (n * (n - 1)) / 2;
  return {
    uniqueRecords: allUniques,
    single: all.map((i) => driver(i)),
    pairs: Array.from({length: pairCount}, (_, p) => driver(n + p)),
    withoutEach: all.map((i) => {
      const without = uniques.get(n + pairCount + i) ?? 0;
      return {quasiIdentifier: names[i], uniqueRecordsWithout: without, uniqueRecordsAdded: allUniques - without};
    })
  };
}
