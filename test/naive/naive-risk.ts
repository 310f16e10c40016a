/**
 * A deliberately naive re-implementation of the risk figures (maps and loops over rows, no SQL), used
 * only by tests to check the SQL engine. It follows docs/semantics.md literally and shares no code with
 * src/lib/equivalence-classes.ts or src/lib/risk.ts (only the Hierarchy objects).
 */
import type {Hierarchy} from "../../src/lib/hierarchies.js";

export type Row = Record<string, string | null>;

export interface NaiveOptions {
  quasiIdentifiers: {name: string; hierarchy: Hierarchy}[];
  levels: Record<string, number>;
  sensitive?: string[];
  k?: number;
  suppressionLimit?: number;
  threshold?: number;
  lDiversity?: {variant?: "distinct" | "entropy" | "recursive"; l: number; c?: number};
  tCloseness?: {t: number; distance?: "equal" | "ordered"};
  /** Population rows (superset) or a sampling fraction. */
  populationRows?: Row[];
  samplingFraction?: number;
  suppressAlways?: boolean;
}

interface NaiveClass {
  key: string;
  rows: Row[];
  violates: boolean;
}

function classKey(row: Row, options: NaiveOptions): string {
  return JSON.stringify(
    options.quasiIdentifiers.map(({name, hierarchy}) => {
      const level = options.levels[name];
      if (level === 0) return row[name];
      return hierarchy.generalize(row[name])[level];
    })
  );
}

function groupRows(rows: Row[], options: NaiveOptions): Map<string, Row[]> {
  const groups = new Map<string, Row[]>();
  for (const row of rows) {
    const key = classKey(row, options);
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(row);
  }
  return groups;
}

function counts(values: (string | null)[]): Map<string | null, number> {
  const m = new Map<string | null, number>();
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
  return m;
}

function isNumber(s: string): boolean {
  return s.trim() !== "" && !Number.isNaN(Number(s));
}

/** Domain of a sensitive attribute in order: numeric if every non-missing value is a number, else code-unit order; missing last. */
function orderedDomain(values: (string | null)[]): (string | null)[] {
  const distinct = [...new Set(values)];
  const present = distinct.filter((v): v is string => v !== null);
  const numeric = present.every(isNumber);
  present.sort((a, b) => (numeric ? Number(a) - Number(b) || (a < b ? -1 : a > b ? 1 : 0) : a < b ? -1 : a > b ? 1 : 0));
  return distinct.includes(null) ? [...present, null] : present;
}

function entropy(values: (string | null)[]): number {
  const n = values.length;
  let h = 0;
  for (const c of counts(values).values()) h -= (c / n) * Math.log(c / n);
  return h;
}

function recursiveParts(values: (string | null)[], l: number): {r1: number; tail: number} {
  const sorted = [...counts(values).values()].sort((a, b) => b - a);
  let tail = 0;
  for (let i = l - 1; i < sorted.length; ++i) tail += sorted[i];
  return {r1: sorted[0], tail};
}

function emdEqual(classValues: (string | null)[], global: Map<string | null, number>, n: number): number {
  const local = counts(classValues);
  let sum = 0;
  for (const [v, c] of global) sum += Math.abs((local.get(v) ?? 0) / classValues.length - c / n);
  return sum / 2;
}

function emdOrdered(classValues: (string | null)[], global: Map<string | null, number>, n: number, domain: (string | null)[]): number {
  if (domain.length < 2) return 0;
  const local = counts(classValues);
  let cumulative = 0;
  let sum = 0;
  for (const v of domain) {
    cumulative += (local.get(v) ?? 0) / classValues.length - (global.get(v) ?? 0) / n;
    sum += Math.abs(cumulative);
  }
  return sum / (domain.length - 1);
}

/** log(m!) by summing logs: slow but obviously right. */
function logFactorials(max: number): Float64Array {
  const table = new Float64Array(max + 1);
  for (let i = 1; i <= max; ++i) table[i] = table[i - 1] + Math.log(i);
  return table;
}

export function naiveRisk(rows: Row[], options: NaiveOptions) {
  const threshold = options.threshold ?? 0.2;
  const groups = groupRows(rows, options);
  const sensitive = options.sensitive ?? [];
  const globals = sensitive.map((s) => counts(rows.map((r) => r[s])));
  const domains = sensitive.map((s) => orderedDomain(rows.map((r) => r[s])));
  const l = options.lDiversity;
  const tailL = Math.max(1, Math.floor(l?.l ?? 2));

  const classes: NaiveClass[] = [];
  for (const [key, members] of groups) {
    let violates = options.k !== undefined && members.length < options.k;
    sensitive.forEach((s, j) => {
      const values = members.map((r) => r[s]);
      if (l) {
        const variant = l.variant ?? "distinct";
        if (variant === "distinct" && new Set(values).size < l.l) violates = true;
        if (variant === "entropy" && entropy(values) < Math.log(l.l) - 1e-12) violates = true;
        if (variant === "recursive") {
          const {r1, tail} = recursiveParts(values, l.l);
          if (!(r1 < l.c! * tail)) violates = true;
        }
      }
      if (options.tCloseness) {
        const d = options.tCloseness.distance === "ordered" ? emdOrdered(values, globals[j], rows.length, domains[j]) : emdEqual(values, globals[j], rows.length);
        if (d > options.tCloseness.t + 1e-12) violates = true;
      }
    });
    classes.push({key, rows: members, violates});
  }
  const modelSet = options.k !== undefined || l !== undefined || options.tCloseness !== undefined;
  let violatingRecords = 0;
  for (const c of classes) if (c.violates) violatingRecords += c.rows.length;
  const allowed = Math.floor((options.suppressionLimit ?? 0) * rows.length);
  const fits = violatingRecords <= allowed;
  const suppress = modelSet && (fits || options.suppressAlways === true);
  const kept = classes.filter((c) => !(suppress && c.violates));
  const remaining = kept.reduce((a, c) => a + c.rows.length, 0);

  let minSize = Infinity;
  let maxSize = 0;
  let atRisk = 0;
  let uniques = 0;
  for (const c of kept) {
    const size = c.rows.length;
    minSize = Math.min(minSize, size);
    maxSize = Math.max(maxSize, size);
    // Per record, as the definition reads: each record's risk is 1/size.
    for (let i = 0; i < size; ++i) if (1 / size > threshold) atRisk++;
    if (size === 1) uniques++;
  }

  const sensitiveStats = sensitive.map((s, j) => {
    let distinctL = Infinity;
    let entropyL = Infinity;
    let recursiveC: number | null = kept.length ? 0 : null;
    let tEqual = 0;
    let tOrdered = 0;
    for (const c of kept) {
      const values = c.rows.map((r) => r[s]);
      distinctL = Math.min(distinctL, new Set(values).size);
      entropyL = Math.min(entropyL, Math.exp(entropy(values)));
      const {r1, tail} = recursiveParts(values, tailL);
      if (tail === 0) recursiveC = null;
      else if (recursiveC !== null) recursiveC = Math.max(recursiveC, r1 / tail);
      tEqual = Math.max(tEqual, emdEqual(values, globals[j], rows.length));
      tOrdered = Math.max(tOrdered, emdOrdered(values, globals[j], rows.length, domains[j]));
    }
    return {attribute: s, distinctL, entropyL, recursiveC, tClosenessEqual: tEqual, tClosenessOrdered: tOrdered};
  });

  // Journalist risk: population class sizes counted in the population rows, or f / pi.
  let journalist: {kMap: number; maxRisk: number; avgRisk: number; recordsAtRisk: number; marketerRisk: number} | null = null;
  let populationSize: number | null = null;
  if ((options.populationRows || options.samplingFraction !== undefined) && remaining > 0) {
    const popGroups = options.populationRows ? groupRows(options.populationRows, options) : null;
    populationSize = options.populationRows ? options.populationRows.length : rows.length / options.samplingFraction!;
    let minF = Infinity;
    let sumF = 0;
    let sumRatio = 0;
    let jAtRisk = 0;
    for (const c of kept) {
      const f = c.rows.length;
      const F = popGroups ? Math.max(popGroups.get(c.key)?.length ?? 0, f) : f / (rows.length / populationSize);
      minF = Math.min(minF, F);
      sumF += F;
      sumRatio += f / F;
      for (const _ of c.rows) if (1 / F > threshold) jAtRisk++;
    }
    journalist = {kMap: minF, maxRisk: 1 / minF, avgRisk: Math.max(kept.length / sumF, sumRatio / remaining), recordsAtRisk: jAtRisk / remaining, marketerRisk: sumRatio / remaining};
  }

  // Zayatz (1991): P(F=1 | f=1) from hypergeometric probabilities via log-factorials.
  let populationUniques: number | null = null;
  if (populationSize !== null && remaining > 0) {
    const N = Math.floor(populationSize);
    const n = remaining;
    const lf = logFactorials(N);
    const logChoose = (a: number, b: number) => (b < 0 || b > a ? -Infinity : lf[a] - lf[b] - lf[a - b]);
    const pOne = (i: number) => Math.exp(Math.log(i) + logChoose(N - i, n - 1) - logChoose(N, n));
    const sizes = kept.map((c) => c.rows.length);
    const K = sizes.length;
    const f1 = sizes.filter((s) => s === 1).length;
    if (f1 === 0) populationUniques = 0;
    else {
      let denominator = 0;
      for (const s of sizes) denominator += pOne(s) / K;
      const conditional = ((f1 / K) * pOne(1)) / denominator;
      populationUniques = (f1 * conditional) / (n / populationSize);
    }
  }

  // Uniqueness drivers over the kept records.
  const keptRows = kept.flatMap((c) => c.rows);
  const names = options.quasiIdentifiers.map((q) => q.name);
  const uniqueOn = (subset: string[]) => {
    const sub: NaiveOptions = {...options, quasiIdentifiers: options.quasiIdentifiers.filter((q) => subset.includes(q.name))};
    let u = 0;
    for (const members of groupRows(keptRows, sub).values()) if (members.length === 1) u++;
    return u;
  };
  const pairs: {quasiIdentifiers: string[]; uniqueRecords: number}[] = [];
  for (let i = 0; i < names.length; ++i) for (let j = i + 1; j < names.length; ++j) pairs.push({quasiIdentifiers: [names[i], names[j]], uniqueRecords: uniqueOn([names[i], names[j]])});
  const allUniques = uniqueOn(names);

  return {
    records: rows.length,
    suppressed: suppress ? violatingRecords : 0,
    violatingRecords,
    anonymous: modelSet ? fits : null,
    classes: kept.length,
    minClassSize: kept.length ? minSize : 0,
    avgClassSize: kept.length ? remaining / kept.length : 0,
    maxClassSize: maxSize,
    maxProsecutorRisk: kept.length ? 1 / minSize : 0,
    avgProsecutorRisk: remaining ? kept.length / remaining : 0,
    recordsAtRisk: remaining ? atRisk / remaining : 0,
    uniqueRecords: uniques,
    marketerRisk: remaining ? kept.length / remaining : 0,
    sensitive: sensitiveStats,
    journalist,
    populationUniques,
    drivers: {
      uniqueRecords: allUniques,
      single: names.map((q) => ({quasiIdentifiers: [q], uniqueRecords: uniqueOn([q])})),
      pairs,
      withoutEach: names.map((q) => {
        const without = uniqueOn(names.filter((x) => x !== q));
        return {quasiIdentifier: q, uniqueRecordsWithout: without, uniqueRecordsAdded: allUniques - without};
      })
    },
    classSizes: kept.map((c) => c.rows.length).sort((a, b) => a - b)
  };
}
