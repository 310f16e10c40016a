/**
 * Information-loss (utility) metrics of a transformation, computed from the class counts without
 * touching the records again. Definitions and sources: docs/semantics.md, "Utility metrics".
 */
import {bottomClasses, type ClassCounts, type NodeClasses, type SensitiveJoint} from "./class-counts.js";

export type UtilityMetric = "precision" | "loss" | "discernibility" | "entropy";
export const UTILITY_METRICS: readonly UtilityMetric[] = ["precision", "loss", "discernibility", "entropy"];

/** Per-QI, per-level tables every metric reads; built once per ClassCounts. */
export interface UtilityTables {
  records: number;
  dimensions: number;
  /** levelShare[j][l] = l / (height_j - 1). */
  levelShare: Float64Array[];
  /** cellLoss[j][l][code]: Iyengar's loss of one cell holding that generalized value. */
  cellLoss: Float64Array[][];
  /** lossTotal[j][l]: sum of cellLoss over all records at level l (no suppression). */
  lossTotal: Float64Array[];
  /** log2Frequency[j][l][code] = log2(records holding that generalized value). */
  log2Frequency: Float64Array[][];
  /** entropyTotal[j][l]: sum over records of log2 f(generalized value). */
  entropyTotal: Float64Array[];
  /** sum over records and QIs of -log2 f(original value): the constant part of non-uniform entropy. */
  entropyBase: number;
  /** Discernibility of the finest node without suppression: a lower bound for every node. */
  discernibilityFloor: number;
}

export function prepareUtilityTables(counts: ClassCounts): UtilityTables {
  const records = counts.records;
  const levelShare: Float64Array[] = [];
  const cellLoss: Float64Array[][] = [];
  const lossTotal: Float64Array[] = [];
  const log2Frequency: Float64Array[][] = [];
  const entropyTotal: Float64Array[] = [];
  let entropyBase = 0;
  for (const qi of counts.quasiIdentifiers) {
    const h = qi.height;
    levelShare.push(Float64Array.from({length: h}, (_, l) => (h > 1 ? l / (h - 1) : 0)));
    const allLeaves = qi.leaves[0].length;
    const losses: Float64Array[] = [];
    const logs: Float64Array[] = [];
    const lt = new Float64Array(h);
    const et = new Float64Array(h);
    for (let l = 0; l < h; ++l) {
      const leaves = qi.leaves[l];
      const freq = qi.frequency[l];
      const loss = new Float64Array(leaves.length);
      const lg = new Float64Array(leaves.length);
      for (let c = 0; c < leaves.length; ++c) {
        // Iyengar (2002): (|leaves under the value| - 1) / (|leaves of the attribute| - 1); the top level always costs 1.
        loss[c] = l === h - 1 ? 1 : allLeaves > 1 ? (leaves[c] - 1) / (allLeaves - 1) : 0;
        lg[c] = freq[c] > 0 ? Math.log2(freq[c]) : 0;
        lt[l] += freq[c] * loss[c];
        et[l] += freq[c] * lg[c];
      }
      losses.push(loss);
      logs.push(lg);
    }
    for (let c = 0; c < qi.frequency[0].length; ++c) if (qi.frequency[0][c] > 0) entropyBase -= qi.frequency[0][c] * Math.log2(qi.frequency[0][c]);
    cellLoss.push(losses);
    log2Frequency.push(logs);
    lossTotal.push(lt);
    entropyTotal.push(et);
  }
  let discernibilityFloor = 0;
  const q = counts.quasiIdentifiers.length;
  const finest = bottomClasses(counts).node;
  for (let c = 0; c < finest.classes; ++c) discernibilityFloor += finest.classSizes[c] * finest.classSizes[c];
  return {records, dimensions: q, levelShare, cellLoss, lossTotal, log2Frequency, entropyTotal, entropyBase, discernibilityFloor};
}

/**
 * A lower bound of `metric` at a node that needs no class counts; for precision, loss and
 * entropy it is the exact value when nothing is suppressed (suppressed cells cost at least as much
 * as any generalization), so it is also monotone along the lattice.
 */
export function metricLowerBound(tables: UtilityTables, levels: ArrayLike<number>, metric: UtilityMetric): number {
  const q = tables.dimensions;
  const n = tables.records;
  let sum = 0;
  switch (metric) {
    case "precision":
      for (let j = 0; j < q; ++j) sum += tables.levelShare[j][levels[j]];
      return n > 0 ? sum / q : 0;
    case "loss":
      for (let j = 0; j < q; ++j) sum += tables.lossTotal[j][levels[j]];
      return n > 0 ? sum / (n * q) : 0;
    case "entropy":
      for (let j = 0; j < q; ++j) sum += tables.entropyTotal[j][levels[j]];
      return tables.entropyBase + sum;
    case "discernibility":
      return tables.discernibilityFloor;
  }
}

/**
 * The value of `metric` for a node whose classes marked in `suppressedClass` are suppressed
 * (null: none). Suppressed records count as generalized to the top of every hierarchy.
 */
export function metricValue(tables: UtilityTables, node: NodeClasses, suppressedClass: Uint8Array | null, metric: UtilityMetric): number {
  const q = tables.dimensions;
  const n = tables.records;
  const levels = node.levels;
  if (metric === "discernibility") {
    // ARX / Bayardo & Agrawal (2005): sum of squared class sizes, plus |records| for each suppressed record.
    let dm = 0;
    for (let c = 0; c < node.classes; ++c) {
      const size = node.classSizes[c];
      dm += suppressedClass && suppressedClass[c] ? size * n : size * size;
    }
    return dm;
  }
  if (metric === "precision") return precisionValue(tables, levels, suppressedRecords(node, suppressedClass));
  // loss and entropy depend on each cell's generalized values.
  const codes = node.codes;
  let total = 0;
  let suppressed = 0;
  for (let i = 0; i < node.cells; ++i) {
    const cls = node.classOf ? node.classOf[i] : i;
    const count = node.counts[i];
    if (suppressedClass && suppressedClass[cls]) {
      suppressed += count;
      continue;
    }
    let cell = 0;
    if (metric === "loss") for (let j = 0; j < q; ++j) cell += tables.cellLoss[j][levels[j]][codes[i * q + j]];
    else for (let j = 0; j < q; ++j) cell += tables.log2Frequency[j][levels[j]][codes[i * q + j]];
    total += count * cell;
  }
  if (metric === "loss") return n > 0 ? (total + suppressed * q) / (n * q) : 0;
  // Gionis & Tassa (2009): sum over cells of -log2 P(original | generalized) = base + sum log2 f(generalized).
  return tables.entropyBase + total + (n > 0 ? suppressed * q * Math.log2(n) : 0);
}

/** Precision loss of a node with `suppressed` records suppressed: needs no class counts beyond that number. */
export function precisionValue(tables: UtilityTables, levels: ArrayLike<number>, suppressed: number): number {
  const q = tables.dimensions;
  const n = tables.records;
  let share = 0;
  for (let j = 0; j < q; ++j) share += tables.levelShare[j][levels[j]];
  return n > 0 ? ((n - suppressed) * share + suppressed * q) / (n * q) : 0;
}

function suppressedRecords(node: NodeClasses, suppressedClass: Uint8Array | null): number {
  if (!suppressedClass) return 0;
  let s = 0;
  for (let c = 0; c < node.classes; ++c) if (suppressedClass[c]) s += node.classSizes[c];
  return s;
}

export interface AttributeUtility {
  name: string;
  /** "quasi-identifier" or "sensitive" (sensitive attributes only change through suppression). */
  role: "quasi-identifier" | "sensitive";
  level: number | null;
  /** level / (height - 1), suppressed cells 1. */
  precision: number;
  /** Mean Iyengar loss of this attribute's cells, suppressed cells 1. */
  loss: number;
  /** Non-uniform entropy of this attribute's cells, bits. */
  entropy: number;
  /** Jensen-Shannon divergence (base 2, 0..1) between the original and the de-identified distribution. */
  jensenShannon: number;
  /** For numeric attributes: mean and variance before and after (null otherwise). */
  meanOriginal: number | null;
  meanDeidentified: number | null;
  varianceOriginal: number | null;
  varianceDeidentified: number | null;
  weight: number;
}

export interface UtilityReport {
  records: number;
  suppressed: number;
  precision: number;
  loss: number;
  discernibility: number;
  /** LeFevre et al. (2006) C_AVG: (kept records / kept classes) / k. */
  averageClassSize: number;
  /** Non-uniform entropy, bits (Gionis & Tassa 2009). */
  entropy: number;
  /** entropy / the entropy of suppressing every record (0..1). */
  entropyNormalized: number;
  /** Iyengar loss averaged over QIs with the importance weights (missing weights count 1). */
  weightedLoss: number;
  /** Precision averaged over QIs with the importance weights. */
  weightedPrecision: number;
  attributes: AttributeUtility[];
}

/**
 * Every utility figure for one node. `suppressedClass` marks the suppressed classes (as decided by
 * the privacy model); `k` normalises the average class size (default 1); `weights` are the data
 * dictionary's importance weights by field name.
 */
export function measureUtility(
  counts: ClassCounts,
  tables: UtilityTables,
  node: NodeClasses,
  suppressedClass: Uint8Array | null,
  options: {k?: number; weights?: Record<string, number>; joint?: SensitiveJoint | null} = {}
): UtilityReport {
  const q = counts.quasiIdentifiers.length;
  const n = counts.records;
  const levels = node.levels;
  const k = options.k ?? 1;
  const weights = options.weights ?? {};
  let suppressed = 0;
  let keptClasses = 0;
  for (let c = 0; c < node.classes; ++c) {
    if (suppressedClass && suppressedClass[c]) suppressed += node.classSizes[c];
    else keptClasses++;
  }
  const keptAt = (cell: number) => !(suppressedClass && suppressedClass[node.classOf ? node.classOf[cell] : cell]);
  const attributes: AttributeUtility[] = counts.quasiIdentifiers.map((qi, j) => {
    const level = levels[j];
    const labelsAtLevel = qi.labels[level].length;
    const mass = new Float64Array(labelsAtLevel);
    let loss = 0;
    let logs = 0;
    for (let i = 0; i < node.cells; ++i) {
      if (!keptAt(i)) continue;
      const code = node.codes[i * q + j];
      const count = node.counts[i];
      mass[code] += count;
      loss += count * tables.cellLoss[j][level][code];
      logs += count * tables.log2Frequency[j][level][code];
    }
    let base = 0;
    const f0 = qi.frequency[0];
    for (let c = 0; c < f0.length; ++c) if (f0[c] > 0) base -= f0[c] * Math.log2(f0[c]);
    // Reconstructed distribution over original values: each generalized value's records spread
    // evenly over the original values under it; suppressed records over all values.
    const leaves0 = f0.length;
    const recon = new Float64Array(leaves0);
    const toLevel = qi.toLevel[level];
    const leavesAt = qi.leaves[level];
    for (let c0 = 0; c0 < leaves0; ++c0) {
      const g = toLevel[c0];
      recon[c0] = mass[g] / leavesAt[g] + suppressed / leaves0;
    }
    const numeric = numericValues(qi.labels[0]);
    const moments = numeric ? momentsOf(numeric, f0, recon) : null;
    return {
      name: qi.name,
      role: "quasi-identifier",
      level,
      precision: n > 0 ? ((n - suppressed) * tables.levelShare[j][level] + suppressed) / n : 0,
      loss: n > 0 ? (loss + suppressed) / n : 0,
      entropy: base + logs + (n > 0 ? suppressed * Math.log2(n) : 0),
      jensenShannon: jensenShannon(f0, recon),
      ...(moments ?? {meanOriginal: null, meanDeidentified: null, varianceOriginal: null, varianceDeidentified: null}),
      weight: weights[qi.name] ?? 1
    };
  });
  if (counts.sensitive.length > 0 && node.sensitive && options.joint) {
    const s = counts.sensitive.length;
    counts.sensitive.forEach((attr, t) => {
      const kept = new Float64Array(attr.values.length);
      for (let i = 0; i < node.cells; ++i) if (keptAt(i)) kept[options.joint!.codes[node.sensitive![i] * s + t]] += node.counts[i];
      const numeric = numericValues(attr.values);
      const moments = numeric ? momentsOf(numeric, attr.frequency, kept) : null;
      attributes.push({
        name: attr.name,
        role: "sensitive",
        level: null,
        precision: 0,
        loss: 0,
        entropy: 0,
        jensenShannon: jensenShannon(attr.frequency, kept),
        ...(moments ?? {meanOriginal: null, meanDeidentified: null, varianceOriginal: null, varianceDeidentified: null}),
        weight: weights[attr.name] ?? 1
      });
    });
  }
  const qiAttributes = attributes.filter((a) => a.role === "quasi-identifier");
  const weightSum = qiAttributes.reduce((s, a) => s + a.weight, 0);
  const entropy = metricValue(tables, node, suppressedClass, "entropy");
  const entropyMax = tables.entropyBase + (n > 0 ? n * q * Math.log2(n) : 0);
  return {
    records: n,
    suppressed,
    precision: metricValue(tables, node, suppressedClass, "precision"),
    loss: metricValue(tables, node, suppressedClass, "loss"),
    discernibility: metricValue(tables, node, suppressedClass, "discernibility"),
    averageClassSize: keptClasses > 0 ? (n - suppressed) / keptClasses / k : 0,
    entropy,
    entropyNormalized: entropyMax > 0 ? entropy / entropyMax : 0,
    weightedLoss: weightSum > 0 ? qiAttributes.reduce((s, a) => s + a.weight * a.loss, 0) / weightSum : 0,
    weightedPrecision: weightSum > 0 ? qiAttributes.reduce((s, a) => s + a.weight * a.precision, 0) / weightSum : 0,
    attributes
  };
}

/** Numbers for every non-missing value, or null when some value is not a number. */
function numericValues(values: (string | null)[]): (number | null)[] | null {
  let seen = 0;
  const out = values.map((v) => {
    if (v === null || v.trim() === "") return null;
    const x = Number(v);
    if (!Number.isFinite(x)) return NaN;
    seen++;
    return x;
  });
  return seen > 0 && !out.some((x) => Number.isNaN(x)) ? out : null;
}

function momentsOf(values: (number | null)[], before: ArrayLike<number>, after: ArrayLike<number>) {
  const m = (weights: ArrayLike<number>) => {
    let w = 0;
    let s = 0;
    let s2 = 0;
    values.forEach((x, i) => {
      if (x === null) return;
      w += weights[i];
      s += weights[i] * x;
    });
    const mean = w > 0 ? s / w : NaN;
    values.forEach((x, i) => {
      if (x !== null) s2 += weights[i] * (x - mean) ** 2;
    });
    return {mean: w > 0 ? mean : null, variance: w > 0 ? s2 / w : null};
  };
  const a = m(before);
  const b = m(after);
  return {meanOriginal: a.mean, meanDeidentified: b.mean, varianceOriginal: a.variance, varianceDeidentified: b.variance};
}

/** Jensen-Shannon divergence, base 2 (Lin 1991), of two (unnormalised) frequency vectors. */
export function jensenShannon(p: ArrayLike<number>, q: ArrayLike<number>): number {
  let sp = 0;
  let sq = 0;
  for (let i = 0; i < p.length; ++i) {
    sp += p[i];
    sq += q[i];
  }
  if (sp <= 0 || sq <= 0) return sp === sq ? 0 : 1;
  let d = 0;
  for (let i = 0; i < p.length; ++i) {
    const a = p[i] / sp;
    const b = q[i] / sq;
    const m = (a + b) / 2;
    if (a > 0) d += 0.5 * a * Math.log2(a / m);
    if (b > 0) d += 0.5 * b * Math.log2(b / m);
  }
  return Math.min(1, Math.max(0, d));
}
