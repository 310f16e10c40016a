/**
 * ML utility: does a model trained on the de-identified data predict as well as one trained on the
 * original? The same seeded logistic regression, the same train/test split (by record), once per
 * version; report AUC and accuracy for both and their ratios. Definitions: docs/semantics.md,
 * "ML utility".
 */
import {bottomClasses, computeClassCounts, rollUpClasses, type QuasiIdentifierInput} from "./class-counts.js";
import {PrivacyEvaluator, type SearchPrivacyModel} from "./lattice-search.js";
import {quoteIdentifier, quoteLiteral, type SqlConnection} from "./sql.js";

export type MlRow = Record<string, string | null>;

export interface LogisticOptions {
  seed?: number;
  epochs?: number;
  learningRate?: number;
  /** L2 penalty per weight (not on the intercept). */
  l2?: number;
  batchSize?: number;
}

/** A row as sparse (feature index, value) pairs. */
export interface SparseRow {
  index: Int32Array;
  value: Float64Array;
}

export interface LogisticModel {
  weights: Float64Array;
  bias: number;
}

/** Deterministic PRNG (mulberry32): the same seed gives the same split and the same training. */
export function seededRandom(seed: number): () => number {
  let s = seed | 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * L2-regularised logistic regression by mini-batch gradient descent with Adam (Kingma & Ba 2015),
 * rows visited in a seeded order.
 */
export function trainLogisticRegression(rows: SparseRow[], labels: ArrayLike<number>, dimensions: number, options: LogisticOptions = {}): LogisticModel {
  const {seed = 1, epochs = 40, learningRate = 0.05, l2 = 1e-4, batchSize = 128} = options;
  const random = seededRandom(seed);
  const w = new Float64Array(dimensions);
  let b = 0;
  const m = new Float64Array(dimensions + 1);
  const v = new Float64Array(dimensions + 1);
  const grad = new Float64Array(dimensions + 1);
  const beta1 = 0.9;
  const beta2 = 0.999;
  let step = 0;
  const order = Int32Array.from(rows.keys());
  for (let epoch = 0; epoch < epochs; ++epoch) {
    for (let i = order.length - 1; i > 0; --i) {
      const j = Math.floor(random() * (i + 1));
      const t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    for (let start = 0; start < order.length; start += batchSize) {
      const end = Math.min(order.length, start + batchSize);
      grad.fill(0);
      for (let p = start; p < end; ++p) {
        const r = rows[order[p]];
        let z = b;
        for (let k = 0; k < r.index.length; ++k) z += w[r.index[k]] * r.value[k];
        const err = sigmoid(z) - labels[order[p]];
        for (let k = 0; k < r.index.length; ++k) grad[r.index[k]] += err * r.value[k];
        grad[dimensions] += err;
      }
      const n = end - start;
      step++;
      const c1 = 1 - beta1 ** step;
      const c2 = 1 - beta2 ** step;
      for (let d = 0; d <= dimensions; ++d) {
        const g = grad[d] / n + (d < dimensions ? l2 * w[d] : 0);
        if (g === 0 && m[d] === 0) continue;
        m[d] = beta1 * m[d] + (1 - beta1) * g;
        v[d] = beta2 * v[d] + (1 - beta2) * g * g;
        const delta = (learningRate * (m[d] / c1)) / (Math.sqrt(v[d] / c2) + 1e-8);
        if (d < dimensions) w[d] -= delta;
        else b -= delta;
      }
    }
  }
  return {weights: w, bias: b};
}

export function predictProbability(model: LogisticModel, row: SparseRow): number {
  let z = model.bias;
  for (let k = 0; k < row.index.length; ++k) z += model.weights[row.index[k]] * row.value[k];
  return sigmoid(z);
}

function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

/** Area under the ROC curve by the Mann-Whitney U statistic, ties counted one half (Hanley & McNeil 1982). */
export function areaUnderRoc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const idx = Array.from({length: scores.length}, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && scores[idx[j + 1]] === scores[idx[i]]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; ++k) if (labels[idx[k]] === 1) {
      positives++;
      rankSum += rank;
    }
    i = j + 1;
  }
  const negatives = idx.length - positives;
  if (positives === 0 || negatives === 0) return NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/**
 * Encode feature columns: a column whose non-missing training values are all numbers becomes one
 * standardised number (missing: 0 = the mean, plus a missing indicator); any other column one-hot
 * over its most frequent training categories (at most `maxCategories`; the rest share "other").
 */
export function encodeFeatures(rows: MlRow[], features: string[], train: ArrayLike<number>, maxCategories = 50): {encoded: SparseRow[]; dimensions: number; names: string[]} {
  const names: string[] = [];
  const encoders: ((row: MlRow, idx: number[], val: number[]) => void)[] = [];
  for (const f of features) {
    const values: (string | null)[] = [];
    for (let i = 0; i < train.length; ++i) values.push(rows[train[i]][f] ?? null);
    const present = values.filter((v): v is string => v !== null && v.trim() !== "");
    const numeric = present.length > 0 && present.every((v) => Number.isFinite(Number(v)));
    if (numeric) {
      const xs = present.map(Number);
      const mean = xs.reduce((a, x) => a + x, 0) / xs.length;
      const sd = Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / xs.length) || 1;
      const at = names.length;
      names.push(f, `${f}: missing`);
      encoders.push((row, idx, val) => {
        const raw = row[f];
        const x = raw === null || raw === undefined || raw.trim() === "" ? NaN : Number(raw);
        if (Number.isFinite(x)) {
          idx.push(at);
          val.push((x - mean) / sd);
        } else {
          idx.push(at + 1);
          val.push(1);
        }
      });
    } else {
      const freq = new Map<string, number>();
      for (const v of values) freq.set(v ?? "\u0000missing", (freq.get(v ?? "\u0000missing") ?? 0) + 1);
      const kept = [...freq.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, maxCategories).map(([v]) => v);
      const at = new Map(kept.map((v, i) => [v, names.length + i]));
      for (const v of kept) names.push(`${f}=${v === "\u0000missing" ? "(missing)" : v}`);
      const other = names.length;
      names.push(`${f}=(other)`);
      encoders.push((row, idx, val) => {
        const key = row[f] ?? "\u0000missing";
        idx.push(at.get(key) ?? other);
        val.push(1);
      });
    }
  }
  const encoded = rows.map((row) => {
    const idx: number[] = [];
    const val: number[] = [];
    for (const e of encoders) e(row, idx, val);
    return {index: Int32Array.from(idx), value: Float64Array.from(val)};
  });
  return {encoded, dimensions: names.length, names};
}

export interface ModelScore {
  auc: number;
  accuracy: number;
}

export interface MlUtilityResult {
  target: string;
  positive: string;
  features: string[];
  seed: number;
  trainRecords: number;
  testRecords: number;
  original: ModelScore;
  deidentified: ModelScore;
  /** deidentified.auc / original.auc. */
  aucRatio: number;
  accuracyRatio: number;
  /** Records whose quasi-identifiers were suppressed (kept, all QIs "*"). */
  suppressedRecords: number;
}

export interface MlCompareOptions {
  target: string;
  features: string[];
  /** The target value counted as positive (default: the rarer of exactly two values). */
  positive?: string;
  seed?: number;
  /** Share of records held out for testing (default 0.3). */
  testFraction?: number;
  training?: LogisticOptions;
}

/**
 * Train on the original and on the de-identified rows (same order, same records) with the same
 * seed and the same split; score each on its own held-out records.
 */
export function compareModelUtility(original: MlRow[], deidentified: MlRow[], options: MlCompareOptions): Omit<MlUtilityResult, "suppressedRecords"> {
  if (original.length !== deidentified.length) throw new Error("original and de-identified data must hold the same records in the same order");
  const {target, features} = options;
  const seed = options.seed ?? 1;
  const testFraction = options.testFraction ?? 0.3;
  if (!(testFraction > 0 && testFraction < 1)) throw new Error(`test fraction must be between 0 and 1, got ${testFraction}`);
  if (features.includes(target)) throw new Error(`the target "${target}" cannot also be a feature`);
  const counts = new Map<string, number>();
  for (const r of original) {
    const y = r[target];
    if (y === undefined) throw new Error(`target column "${target}" not found`);
    if (y !== null) counts.set(y, (counts.get(y) ?? 0) + 1);
  }
  let positive = options.positive;
  if (positive === undefined) {
    if (counts.size !== 2) throw new Error(`target "${target}" has ${counts.size} distinct values; name the positive class`);
    const [[a, na], [b, nb]] = [...counts.entries()];
    positive = na < nb || (na === nb && a > b) ? a : b;
  } else if (!counts.has(positive)) throw new Error(`target "${target}" never takes the positive value ${JSON.stringify(positive)}`);
  const labels = original.map((r) => (r[target] === positive ? 1 : 0));
  const random = seededRandom(seed ^ 0x5eed);
  const order = Array.from(original.keys());
  for (let i = order.length - 1; i > 0; --i) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const testSize = Math.max(1, Math.round(order.length * testFraction));
  const test = order.slice(0, testSize).sort((a, b) => a - b);
  const train = order.slice(testSize).sort((a, b) => a - b);
  if (train.length === 0) throw new Error("too few records to train");
  const score = (rows: MlRow[]): ModelScore => {
    const {encoded, dimensions} = encodeFeatures(rows, features, train);
    const model = trainLogisticRegression(train.map((i) => encoded[i]), train.map((i) => labels[i]), dimensions, {seed, ...options.training});
    const p = test.map((i) => predictProbability(model, encoded[i]));
    const y = test.map((i) => labels[i]);
    const correct = p.reduce((a, pi, i) => a + ((pi >= 0.5 ? 1 : 0) === y[i] ? 1 : 0), 0);
    return {auc: areaUnderRoc(p, y), accuracy: correct / test.length};
  };
  const o = score(original);
  const d = score(deidentified);
  return {target, positive, features, seed, trainRecords: train.length, testRecords: test.length, original: o, deidentified: d, aucRatio: d.auc / o.auc, accuracyRatio: d.accuracy / o.accuracy};
}

export interface MlUtilityOptions extends Omit<MlCompareOptions, "features"> {
  table: string;
  /** Feature columns (default: every column but the target). */
  features?: string[];
  quasiIdentifiers: QuasiIdentifierInput[];
  levels: Record<string, number>;
  sensitive?: string[];
  /** Privacy model whose violating classes are suppressed (within the limit), as in the search. */
  model?: SearchPrivacyModel;
}

/**
 * ML utility of one transformation of `table`: generalize the quasi-identifiers to `levels`,
 * suppress (all QIs "*") the records of violating classes when they fit the suppression limit,
 * then compare models on original and de-identified rows.
 */
export async function measureMlUtility(conn: SqlConnection, options: MlUtilityOptions): Promise<MlUtilityResult> {
  const columns = await columnNames(conn, options.table);
  if (columns.length === 0) throw new Error(`table ${options.table} does not exist`);
  const features = options.features ?? columns.filter((c) => c !== options.target);
  const wanted = [...new Set([...features, options.target, ...options.quasiIdentifiers.map((q) => q.name)])];
  for (const c of wanted) if (!columns.includes(c)) throw new Error(`column "${c}" is not in table ${options.table}`);
  const raw = await conn.query(`SELECT ${wanted.map((c, i) => `CAST(${quoteIdentifier(c)} AS VARCHAR) AS c${i}`).join(", ")} FROM ${quoteIdentifier(options.table)} ORDER BY ALL`);
  const original: MlRow[] = raw.map((r) => Object.fromEntries(wanted.map((c, i) => [c, r[`c${i}`] as string | null])));
  const qis = options.quasiIdentifiers;
  const levelList = qis.map((q) => {
    const l = options.levels[q.name];
    if (l === undefined || !Number.isInteger(l) || l < 0 || l >= q.hierarchy.height) throw new Error(`level for quasi-identifier "${q.name}" must be an integer 0..${q.hierarchy.height - 1}, got ${l}`);
    return l;
  });
  // Which classes are suppressed: the same rule as the search and the risk engine.
  const suppressedKeys = new Set<string>();
  if (options.model) {
    const counts = await computeClassCounts(conn, {table: options.table, quasiIdentifiers: qis, sensitive: options.sensitive});
    const {node: bottom, joint} = bottomClasses(counts);
    const node = levelList.some((l) => l > 0) ? rollUpClasses(counts, bottom, levelList) : bottom;
    const privacy = new PrivacyEvaluator(counts, options.model, joint);
    const violates = new Uint8Array(node.classes);
    const {violating} = privacy.evaluate(node, violates);
    if (violating > 0 && violating <= privacy.limitRecords) {
      for (let i = 0; i < node.cells; ++i) {
        const c = node.classOf ? node.classOf[i] : i;
        if (!violates[c]) continue;
        suppressedKeys.add(JSON.stringify(qis.map((_, j) => counts.quasiIdentifiers[j].labels[levelList[j]][node.codes[i * qis.length + j]])));
      }
    }
  }
  const memo = qis.map(() => new Map<string | null, string | null>());
  let suppressedRecords = 0;
  const deidentified = original.map((row) => {
    const labels = qis.map((q, j) => {
      const v = row[q.name];
      let g = memo[j].get(v);
      if (g === undefined) {
        g = levelList[j] === 0 ? v : q.hierarchy.generalize(v)[levelList[j]];
        memo[j].set(v, g);
      }
      return g;
    });
    const out: MlRow = {...row};
    const suppressed = suppressedKeys.size > 0 && suppressedKeys.has(JSON.stringify(labels));
    if (suppressed) suppressedRecords++;
    qis.forEach((q, j) => (out[q.name] = suppressed ? "*" : labels[j]));
    return out;
  });
  return {...compareModelUtility(original, deidentified, {...options, features}), suppressedRecords};
}

async function columnNames(conn: SqlConnection, table: string): Promise<string[]> {
  const rows = await conn.query(`SELECT column_name AS c FROM information_schema.columns WHERE table_name = ${quoteLiteral(table)} ORDER BY ordinal_position`);
  return rows.map((r) => String(r.c));
}
