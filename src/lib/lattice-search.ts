/**
 * Optimal generalization search: the lattice node that satisfies the privacy model with the least
 * information loss, found from the class counts (one GROUP BY) by rolling counts up the lattice.
 * Semantics, monotonicity and tie-breaking: docs/semantics.md, "Optimal search".
 */
import {bottomClasses, canRollUp, createRollUpScratch, rollUpClasses, rollUpClassSizes, type ClassCounts, type NodeClasses, type SensitiveJoint} from "./class-counts.js";
import {Lattice} from "./lattice.js";
import type {RiskSummary} from "./risk.js";
import {MODEL_EPSILON, type LDiversityModel, type TClosenessModel} from "./privacy-models.js";
import {metricLowerBound, metricValue, precisionValue, prepareUtilityTables, type UtilityMetric, type UtilityTables} from "./utility.js";

export interface SearchPrivacyModel {
  k?: number;
  /** Largest prosecutor risk (1 / class size) a kept record may have: classes smaller than 1/r violate. */
  maxProsecutorRisk?: number;
  /** Applied to every sensitive attribute, or only to `attribute` when given. */
  lDiversity?: (LDiversityModel & {attribute?: string})[];
  tCloseness?: (TClosenessModel & {attribute?: string})[];
  /** Fraction of all records that may be suppressed (default 0). */
  suppressionLimit?: number;
}

/** The risk figures of a node: the same keys, types and meaning as `risk --json` (RiskSummary). */
export type NodeMeasures = Pick<
  RiskSummary,
  "records" | "suppressed" | "classes" | "minClassSize" | "avgClassSize" | "maxClassSize" | "maxProsecutorRisk" | "avgProsecutorRisk" | "threshold" | "recordsAtRisk" | "uniqueRecords" | "marketerRisk" | "levels" | "anonymous" | "k" | "suppressionLimit" | "violatingRecords"
>;

export interface NodeResult {
  levels: Record<string, number>;
  levelList: number[];
  metric: UtilityMetric;
  metricValue: number;
  measures: NodeMeasures;
}

export interface FrontierPoint {
  levels: Record<string, number>;
  levelList: number[];
  /** Average prosecutor risk after suppression (= classes / remaining records). */
  risk: number;
  maxProsecutorRisk: number;
  metricValue: number;
  anonymous: boolean | null;
  suppressed: number;
}

export interface SearchProgress {
  /** Nodes settled (evaluated, pruned or skipped) so far. */
  processed: number;
  evaluated: number;
  total: number;
  bestValue: number | null;
}

export interface SearchOptions {
  model: SearchPrivacyModel;
  metric?: UtilityMetric;
  /** Evaluate every node (the reference the pruned search is tested against). */
  exhaustive?: boolean;
  /** Prosecutor-risk threshold for recordsAtRisk (default 0.2, as `risk`). */
  threshold?: number;
  /** Also compute the risk/loss frontier over the whole lattice (an exhaustive pass; reported separately). */
  frontier?: boolean;
  signal?: AbortSignal;
  onProgress?: (progress: SearchProgress) => void;
}

export interface SearchResult {
  optimum: NodeResult | null;
  metric: UtilityMetric;
  nodesTotal: number;
  nodesEvaluated: number;
  /** Whether the model was treated as monotone (pruning by predictive tagging in both directions). */
  monotone: boolean;
  exhaustive: boolean;
  seconds: number;
  frontier: FrontierPoint[] | null;
  frontierSeconds: number | null;
}

const DEFAULT_THRESHOLD = 0.2;

/** Equal metric values (relative 1e-9): ties are then broken by level sum, then levels. */
export function sameValue(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}

/**
 * Deterministic order of candidates: lower metric value, then lower sum of levels, then
 * lexicographically smaller levels (= smaller node index, first QI most significant).
 */
function better(value: number, sum: number, index: number, bestValue: number, bestSum: number, bestIndex: number): boolean {
  if (!sameValue(value, bestValue)) return value < bestValue;
  if (sum !== bestSum) return sum < bestSum;
  return index < bestIndex;
}

/** The smallest class size that keeps prosecutor risk 1/size at or below r. */
export function minSizeForRisk(r: number): number {
  if (!(r > 0 && r <= 1)) throw new Error(`maximum prosecutor risk must be in (0, 1], got ${r}`);
  let n = Math.max(1, Math.ceil(1 / r) - 1);
  while (1 / n > r) n++;
  return n;
}

interface SensitiveCheck {
  attribute: number;
  l?: LDiversityModel;
  t?: TClosenessModel;
  /** Global share per value code. */
  share: Float64Array;
  /** Value codes in the domain order used by the ordered distance. */
  order: Int32Array;
}

/** Class-level evaluation of a privacy model, shared by the search and the tests. */
export class PrivacyEvaluator {
  readonly minSize: number;
  readonly hasModel: boolean;
  readonly limitRecords: number;
  /** Whether "anonymous" is monotone along the lattice under this model and suppression limit. */
  readonly monotone: boolean;
  private readonly checks: SensitiveCheck[];
  get hasSensitiveChecks(): boolean {
    return this.checks.length > 0;
  }
  private readonly joint: SensitiveJoint | null;

  constructor(readonly counts: ClassCounts, readonly model: SearchPrivacyModel, joint: SensitiveJoint | null) {
    const limit = model.suppressionLimit ?? 0;
    if (!(limit >= 0 && limit <= 1)) throw new Error(`suppression limit must be a fraction between 0 and 1, got ${limit}`);
    if (model.k !== undefined && (!Number.isInteger(model.k) || model.k < 1)) throw new Error(`k must be a positive integer, got ${model.k}`);
    this.minSize = Math.max(model.k ?? 1, model.maxProsecutorRisk !== undefined ? minSizeForRisk(model.maxProsecutorRisk) : 1);
    this.limitRecords = Math.floor(limit * counts.records);
    this.joint = joint;
    const names = counts.sensitive.map((s) => s.name);
    const checks: SensitiveCheck[] = counts.sensitive.map((attr, t) => ({attribute: t, share: attr.frequency.map((f) => f / counts.records), order: domainOrder(attr.values)}));
    for (const l of model.lDiversity ?? []) {
      validateL(l);
      for (const c of targets(l.attribute, names, "l-diversity")) {
        if (checks[c].l) throw new Error(`two l-diversity models for sensitive attribute "${names[c]}"`);
        checks[c].l = l;
      }
    }
    for (const t of model.tCloseness ?? []) {
      if (!(t.t >= 0 && t.t <= 1)) throw new Error(`t-closeness: t must be between 0 and 1, got ${t.t}`);
      for (const c of targets(t.attribute, names, "t-closeness")) {
        if (checks[c].t) throw new Error(`two t-closeness models for sensitive attribute "${names[c]}"`);
        checks[c].t = t;
      }
    }
    this.checks = checks.filter((c) => c.l || c.t);
    this.hasModel = model.k !== undefined || model.maxProsecutorRisk !== undefined || this.checks.length > 0;
    // Class size and distinct-l are monotone with suppression (merging classes never creates a
    // violating record); entropy-l, recursive (c,l) and t-closeness only without suppression
    // (Machanavajjhala et al. 2007; Li et al. 2007; ARX documents the same).
    const onlyDistinct = this.checks.every((c) => !c.t && (!c.l || (c.l.variant ?? "distinct") === "distinct"));
    this.monotone = this.limitRecords === 0 || onlyDistinct;
  }

  /**
   * Mark violating classes; returns the violating records and the violating records of the
   * monotone part of the model (class size and distinct-l), a necessary condition used for pruning.
   */
  evaluate(node: NodeClasses, violates: Uint8Array): {violating: number; violatingMonotone: number} {
    const sizes = node.classSizes;
    const minSize = this.minSize;
    let violatingMonotone = 0;
    for (let c = 0; c < node.classes; ++c) {
      const v = sizes[c] < minSize ? 1 : 0;
      violates[c] = v;
      if (v) violatingMonotone += sizes[c];
    }
    if (this.checks.length === 0) return {violating: violatingMonotone, violatingMonotone};
    const mono = new Uint8Array(node.classes);
    this.checkSensitive(node, violates, mono);
    let violating = 0;
    violatingMonotone = 0;
    for (let c = 0; c < node.classes; ++c) {
      if (violates[c]) violating += sizes[c];
      if (mono[c] || sizes[c] < minSize) violatingMonotone += sizes[c];
    }
    return {violating, violatingMonotone};
  }

  private checkSensitive(node: NodeClasses, violates: Uint8Array, monotoneViolates: Uint8Array): void {
    const s = this.counts.sensitive.length;
    const classes = node.classes;
    // Cells grouped by class (counting sort).
    const start = new Int32Array(classes + 1);
    for (let i = 0; i < node.cells; ++i) start[node.classOf![i] + 1]++;
    for (let c = 0; c < classes; ++c) start[c + 1] += start[c];
    const order = new Int32Array(node.cells);
    const fill = start.slice(0, classes);
    for (let i = 0; i < node.cells; ++i) order[fill[node.classOf![i]]++] = i;
    for (const check of this.checks) {
      const m = check.share.length;
      const hist = new Float64Array(m);
      const touched: number[] = [];
      for (let c = 0; c < classes; ++c) {
        touched.length = 0;
        for (let p = start[c]; p < start[c + 1]; ++p) {
          const cell = order[p];
          const v = this.joint!.codes[node.sensitive![cell] * s + check.attribute];
          if (hist[v] === 0) touched.push(v);
          hist[v] += node.counts[cell];
        }
        const n = node.classSizes[c];
        let bad = false;
        if (check.l) {
          const variant = check.l.variant ?? "distinct";
          if (variant === "distinct") {
            if (touched.length < check.l.l) {
              bad = true;
              monotoneViolates[c] = 1;
            }
          } else if (variant === "entropy") {
            let h = 0;
            for (const v of touched) h -= (hist[v] / n) * Math.log(hist[v] / n);
            if (h < Math.log(check.l.l) - MODEL_EPSILON) bad = true;
          } else {
            const sorted = touched.map((v) => hist[v]).sort((a, b) => b - a);
            const l = Math.max(1, Math.floor(check.l.l));
            let tail = 0;
            for (let i = l - 1; i < sorted.length; ++i) tail += sorted[i];
            if (!(sorted[0] < check.l.c! * tail)) bad = true;
          }
        }
        if (!bad && check.t) {
          let d: number;
          if ((check.t.distance ?? "equal") === "equal") {
            // Half the L1 distance, written as in the SQL: 0.5 * (1 + sum over present values of (|p - q| - q)).
            let sum = 0;
            for (const v of touched) sum += Math.abs(hist[v] / n - check.share[v]) - check.share[v];
            d = 0.5 * (1 + sum);
          } else {
            let cum = 0;
            let sum = 0;
            for (let r = 0; r < m; ++r) {
              const v = check.order[r];
              cum += hist[v] / n - check.share[v];
              sum += Math.abs(cum);
            }
            d = m > 1 ? sum / (m - 1) : 0;
          }
          if (d > check.t.t + MODEL_EPSILON) bad = true;
        }
        if (bad) violates[c] = 1;
        for (const v of touched) hist[v] = 0;
      }
    }
  }
}

function validateL(l: LDiversityModel): void {
  if (!(l.l >= 1)) throw new Error(`l-diversity: l must be at least 1, got ${l.l}`);
  const variant = l.variant ?? "distinct";
  if (!["distinct", "entropy", "recursive"].includes(variant)) throw new Error(`unknown l-diversity variant ${JSON.stringify(l.variant)}`);
  if (variant !== "entropy" && !Number.isInteger(l.l)) throw new Error(`${variant} l-diversity: l must be an integer, got ${l.l}`);
  if (variant === "recursive" && !(typeof l.c === "number" && l.c > 0)) throw new Error("recursive (c,l)-diversity needs c > 0");
}

function targets(attribute: string | undefined, names: string[], what: string): number[] {
  if (names.length === 0) throw new Error(`${what} needs a sensitive attribute`);
  if (attribute === undefined) return names.map((_, i) => i);
  const i = names.indexOf(attribute);
  if (i < 0) throw new Error(`${what}: "${attribute}" is not a sensitive attribute (sensitive: ${names.join(", ")})`);
  return [i];
}

/** Numeric order when every non-missing value is a number, else binary text order; missing last (as the SQL). */
function domainOrder(values: (string | null)[]): Int32Array {
  const idx = values.map((_, i) => i);
  const nums = values.map((v) => (v === null ? null : toDouble(v)));
  const numeric = nums.every((x, i) => values[i] === null || x !== null);
  const text = (a: string, b: string) => {
    const ba = utf8(a);
    const bb = utf8(b);
    for (let i = 0; i < Math.min(ba.length, bb.length); ++i) if (ba[i] !== bb[i]) return ba[i] - bb[i];
    return ba.length - bb.length;
  };
  idx.sort((a, b) => {
    const va = values[a];
    const vb = values[b];
    if (va === null || vb === null) return va === vb ? 0 : va === null ? 1 : -1;
    if (numeric && nums[a] !== nums[b]) return nums[a]! < nums[b]! ? -1 : 1;
    return text(va, vb);
  });
  return Int32Array.from(idx);
}

const encoder = new TextEncoder();
function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}

function toDouble(v: string): number | null {
  const t = v.trim();
  if (t === "") return null;
  if (/^[+-]?(inf|infinity)$/i.test(t)) return t.startsWith("-") ? -Infinity : Infinity;
  if (/^[+-]?nan$/i.test(t)) return NaN;
  const x = Number(t);
  return Number.isNaN(x) || /^[+-]?0[xob]/i.test(t) ? null : x;
}

/** Risk figures of a node (the RiskSummary keys), from its classes and suppression decision. */
export function measureNode(
  counts: ClassCounts,
  node: NodeClasses,
  suppressedClass: Uint8Array | null,
  info: {anonymous: boolean | null; violatingRecords: number; k: number | null; suppressionLimit: number; threshold?: number}
): NodeMeasures {
  const threshold = info.threshold ?? DEFAULT_THRESHOLD;
  let classes = 0;
  let remaining = 0;
  let min = 0;
  let max = 0;
  let atRisk = 0;
  let unique = 0;
  for (let c = 0; c < node.classes; ++c) {
    if (suppressedClass && suppressedClass[c]) continue;
    const size = node.classSizes[c];
    classes++;
    remaining += size;
    if (min === 0 || size < min) min = size;
    if (size > max) max = size;
    if (1 / size > threshold) atRisk += size;
    if (size === 1) unique++;
  }
  const levels: Record<string, number> = {};
  counts.quasiIdentifiers.forEach((q, j) => (levels[q.name] = node.levels[j]));
  return {
    records: counts.records,
    suppressed: counts.records - remaining,
    classes,
    minClassSize: min,
    avgClassSize: classes === 0 ? 0 : remaining / classes,
    maxClassSize: max,
    maxProsecutorRisk: min === 0 ? 0 : 1 / min,
    avgProsecutorRisk: remaining === 0 ? 0 : classes / remaining,
    threshold,
    recordsAtRisk: remaining === 0 ? 0 : atRisk / remaining,
    uniqueRecords: unique,
    marketerRisk: remaining === 0 ? 0 : classes / remaining,
    levels,
    anonymous: info.anonymous,
    k: info.k,
    suppressionLimit: info.suppressionLimit,
    violatingRecords: info.violatingRecords
  };
}

interface Evaluation {
  node: NodeClasses;
  violates: Uint8Array;
  violating: number;
  violatingMonotone: number;
  anonymous: boolean | null;
  /** Suppressed classes (null: nothing suppressed). */
  suppressedClass: Uint8Array | null;
}

/**
 * Evaluates lattice nodes by rolling up the cells of the nearest already-computed specialization.
 * A computed node's cells stay cached while some unsettled node may still roll up from it.
 */
class NodeEvaluator {
  readonly bottom: NodeClasses;
  readonly joint: SensitiveJoint | null;
  readonly privacy: PrivacyEvaluator;
  private readonly cache = new Map<number, NodeClasses>();
  /** Best cached specialization to roll up from, per node (-1: the bottom). */
  private readonly source: Int32Array;
  private readonly refs: Int32Array;
  private readonly settled: Uint8Array;
  private readonly scratch = createRollUpScratch();
  evaluations = 0;

  /**
   * Classes may come in any order (rollUpClassSizes), for callers that only add up integer class
   * sizes; needs fixed-stride keys and no sensitive attributes.
   */
  anyOrder = false;

  constructor(readonly counts: ClassCounts, readonly lattice: Lattice, model: SearchPrivacyModel) {
    const b = bottomClasses(counts);
    this.bottom = b.node;
    this.joint = b.joint;
    this.privacy = new PrivacyEvaluator(counts, model, this.joint);
    this.source = new Int32Array(lattice.size).fill(-1);
    this.refs = new Int32Array(lattice.size);
    this.settled = new Uint8Array(lattice.size);
  }

  /** The classes of n, rolled up from the smallest cached specialization among n's source and `hints`. */
  classesOf(n: number, hints: number[] = []): NodeClasses {
    if (n === 0) return this.bottom;
    const cached = this.cache.get(n);
    if (cached) return cached;
    const levels = this.lattice.levels(n);
    let from = this.bottom;
    for (const h of [this.source[n], ...hints]) {
      const src = h >= 0 ? this.cache.get(h) : undefined;
      if (src && src.cells < from.cells && canRollUp(this.counts, src.levels, levels)) from = src;
    }
    if (from.cells > 4_000 && this.cache.size <= 512) {
      // A large source: any cached specialization with fewer cells is worth a scan of the cache.
      for (const src of this.cache.values()) if (src.cells < from.cells && canRollUp(this.counts, src.levels, levels)) from = src;
    }
    return (this.anyOrder ? rollUpClassSizes : rollUpClasses)(this.counts, from, levels, this.scratch);
  }

  /** Cells of the best known roll-up source of n. */
  sourceCells(n: number): number {
    const src = this.source[n] >= 0 ? this.cache.get(this.source[n]) : undefined;
    return src ? src.cells : this.bottom.cells;
  }

  /** The best known roll-up source of n (a cached specialization), or -1. */
  sourceOf(n: number): number {
    return this.source[n];
  }

  evaluate(n: number, hints: number[] = []): Evaluation {
    const node = this.computeClasses(n, hints);
    const violates = new Uint8Array(node.classes);
    const {violating, violatingMonotone} = this.privacy.evaluate(node, violates);
    const anonymous = this.privacy.hasModel ? violating <= this.privacy.limitRecords : null;
    const suppressedClass = anonymous && violating > 0 ? violates : null;
    return {node, violates, violating, violatingMonotone, anonymous, suppressedClass};
  }

  /** The classes of n, kept for rolling up its generalizations (evaluate without the privacy model). */
  computeClasses(n: number, hints: number[] = []): NodeClasses {
    this.evaluations++;
    const node = this.classesOf(n, hints);
    if (n !== 0 && this.counts.treeShaped) this.cache.set(n, node);
    return node;
  }

  /** Settle n: pass the best roll-up source on to its direct generalizations, release n's own. */
  settle(n: number): void {
    const lattice = this.lattice;
    this.settled[n] = 1;
    const mine = this.cache.has(n) ? n : this.source[n];
    if (mine >= 0 && this.counts.treeShaped) {
      const cells = this.cache.get(mine)!.cells;
      for (const s of lattice.successors(n)) {
        if (this.settled[s]) continue;
        const cur = this.source[s];
        if (cur === mine) continue;
        if (cur >= 0 && this.cache.get(cur)!.cells <= cells) continue;
        if (cur >= 0) this.release(cur);
        this.source[s] = mine;
        this.refs[mine]++;
      }
    }
    if (this.source[n] >= 0) {
      const old = this.source[n];
      this.source[n] = -1;
      this.release(old);
    }
    if (this.cache.has(n) && this.refs[n] === 0) this.cache.delete(n);
  }

  private release(n: number): void {
    if (--this.refs[n] === 0 && this.settled[n]) this.cache.delete(n);
  }
}

function levelRecord(counts: ClassCounts, levels: readonly number[]): Record<string, number> {
  const out: Record<string, number> = {};
  counts.quasiIdentifiers.forEach((q, j) => (out[q.name] = levels[j]));
  return out;
}

interface PreparedLattice {
  lattice: Lattice;
  tables: UtilityTables;
  sums: Int32Array;
  bound: Float64Array;
  order: Int32Array;
}

// Per ClassCounts and metric: the lattice, the static bounds and the settle order, reused by
// repeated searches over the same counts (explorer sliders, benchmarks).
const preparedCache = new WeakMap<ClassCounts, Map<UtilityMetric, PreparedLattice>>();

function preparedFor(counts: ClassCounts, metric: UtilityMetric): PreparedLattice {
  let byMetric = preparedCache.get(counts);
  if (!byMetric) preparedCache.set(counts, (byMetric = new Map()));
  const hit = byMetric.get(metric);
  if (hit) return hit;
  const other = byMetric.values().next().value as PreparedLattice | undefined;
  const lattice = other?.lattice ?? new Lattice(counts.quasiIdentifiers.map((q) => q.height));
  const tables = other?.tables ?? prepareUtilityTables(counts);
  const size = lattice.size;
  const bound = new Float64Array(size);
  const sums = other?.sums ?? Int32Array.from({length: size}, (_, n) => lattice.levelSum(n));
  const levels = new Array<number>(lattice.dimensions);
  for (let n = 0; n < size; ++n) {
    for (let j = 0; j < lattice.dimensions; ++j) levels[j] = lattice.level(n, j);
    bound[n] = metricLowerBound(tables, levels, metric);
  }
  const order = Int32Array.from({length: size}, (_, i) => i);
  if (metric !== "discernibility") order.sort((a, b) => bound[a] - bound[b] || sums[a] - sums[b] || a - b);
  else order.sort((a, b) => sums[a] - sums[b] || a - b);
  const prepared = {lattice, tables, sums, bound, order};
  byMetric.set(metric, prepared);
  return prepared;
}

/**
 * Find the node that satisfies `model` with the least information loss.
 *
 * Pruned search (default): nodes are settled in the order of a lower bound of the metric (for
 * precision, loss and entropy the exact value without suppression, which is monotone along the
 * lattice), ties by level sum and index, so every node's specializations are settled before it.
 * A node is skipped when its bound exceeds the best value found (and the search stops there for
 * those three metrics, whose bound is static), or when a generalization of it is known to violate
 * the monotone part of the model (predictive tagging). Discernibility uses the bound of the
 * settled specializations (its value without suppression never decreases along the lattice).
 */
export async function searchLattice(counts: ClassCounts, options: SearchOptions): Promise<SearchResult> {
  const started = now();
  const metric = options.metric ?? "precision";
  const prepared = preparedFor(counts, metric);
  const {lattice, tables, sums} = prepared;
  const evaluator = new NodeEvaluator(counts, lattice, options.model);
  const privacy = evaluator.privacy;
  const exhaustive = options.exhaustive === true || !counts.treeShaped;
  const size = lattice.size;
  const staticBound = metric !== "discernibility";
  // The bound array is updated during the search (discernibility), so each search gets a copy.
  const bound = prepared.bound.slice();
  if (metric === "discernibility" && privacy.hasModel) {
    // Every kept class has at least minSize records, and each suppressed record costs |records|.
    const floor = counts.records * Math.min(privacy.minSize, Math.max(1, counts.records));
    for (let n = 0; n < size; ++n) bound[n] = Math.max(bound[n], floor);
  }
  const order = prepared.order;

  // Status of each node under a monotone predicate Q: the model itself when it is monotone, else
  // its monotone part (class size, distinct-l), a necessary condition. Q fails at n => fails below n;
  // Q holds at n => holds above n (predictive tagging, as ARX's Flash / OLA).
  const UNKNOWN = 0;
  const PASS = 1;
  const FAIL = 2;
  const status = new Uint8Array(size);
  const failsQ = (ev: Evaluation) => (privacy.monotone ? ev.violating : ev.violatingMonotone) > privacy.limitRecords;
  const exactWhenPassing = privacy.monotone && privacy.limitRecords === 0 && staticBound;
  const probed = new Map<number, Evaluation>();
  // With suppression: records violating the monotone part never increase upwards, so an evaluated
  // node's count bounds the suppressed records of every specialization from below; times the least
  // extra cost of suppressing a record there, it tightens the metric's bound.
  // (Discernibility: a record costs |records| suppressed and at least minSize kept, when only class
  // size is constrained.)
  const useSuppressionBound = !exhaustive && privacy.limitRecords > 0 && (metric !== "discernibility" || !privacy.hasSensitiveChecks);
  const suppressedAtLeast = useSuppressionBound ? new Int32Array(size) : null;
  const perSuppressed = !useSuppressionBound
    ? null
    : metric === "discernibility"
      ? new Float64Array(size).fill(Math.max(0, counts.records - privacy.minSize))
      : suppressionCostBound(tables, lattice, metric);
  const noteEvaluation = (n: number, ev: Evaluation) => {
    const u = ev.violatingMonotone;
    if (!suppressedAtLeast || u === 0 || u > privacy.limitRecords) return;
    lattice.forEachSpecialization(n, (m) => {
      if (suppressedAtLeast[m] < u) suppressedAtLeast[m] = u;
    });
  };
  const chain: number[] = [];
  const chainLevels = new Array<number>(lattice.dimensions);

  /**
   * Settle Q for n by a binary search on a chain from n to the top (levels raised round-robin),
   * then tag everything below the highest failing chain node and above the lowest passing one.
   */
  const probe = (n: number) => {
    chain.length = 0;
    chain.push(n);
    for (let j = 0; j < lattice.dimensions; ++j) chainLevels[j] = lattice.level(n, j);
    let cur = n;
    for (let j = 0, stuck = 0; stuck < lattice.dimensions; j = (j + 1) % lattice.dimensions) {
      if (chainLevels[j] + 1 < lattice.heights[j]) {
        chainLevels[j]++;
        cur += lattice.strides[j];
        chain.push(cur);
        stuck = 0;
      } else stuck++;
    }
    let lo = -1;
    let hi = chain.length;
    for (let i = 0; i < chain.length; ++i) {
      if (status[chain[i]] === FAIL) lo = i;
      else if (status[chain[i]] === PASS && hi === chain.length) hi = i;
    }
    const origin = evaluator.sourceOf(n);
    let lowEvaluated = -1;
    let first = true;
    while (hi - lo > 1) {
      // n itself first: it needs evaluating anyway if it passes; only a failure searches upwards.
      const mid = first && lo < 0 && evaluator.sourceCells(n) <= 50_000 ? 0 : (lo + hi) >> 1;
      first = false;
      const hints = lowEvaluated >= 0 ? [lowEvaluated, origin] : [origin];
      const ev = evaluator.evaluate(chain[mid], hints);
      noteEvaluation(chain[mid], ev);
      if (mid === 0) probed.set(n, ev);
      if (failsQ(ev)) {
        lo = mid;
        lowEvaluated = chain[mid];
      } else hi = mid;
    }
    if (lo >= 0) {
      // Extend the failing node greedily towards a maximal one: the larger its down-set, the
      // fewer probes later. Successors are rolled up from it (few cells); passing ones are tagged.
      let top = chain[lo];
      for (let steps = 0, moved = true; moved && steps < 4 * lattice.dimensions; ++steps) {
        moved = false;
        for (const s of lattice.successors(top)) {
          if (status[s] === PASS) continue;
          if (status[s] !== FAIL) {
            const ev = evaluator.evaluate(s, [top]);
            noteEvaluation(s, ev);
            if (!failsQ(ev)) {
              lattice.forEachGeneralization(s, (m) => (status[m] = PASS));
              continue;
            }
          }
          top = s;
          moved = true;
          break;
        }
      }
      lattice.forEachSpecialization(top, (m) => (status[m] = FAIL));
    }
    if (hi < chain.length) lattice.forEachGeneralization(chain[hi], (m) => (status[m] = PASS));
  };

  let best = -1;
  let bestValue = Infinity;
  let bestEval: Evaluation | null = null;
  let processed = 0;
  let lastYield = now();
  const reportEvery = 256;

  for (let p = 0; p < size; ++p) {
    const n = order[p];
    if (options.signal?.aborted) throw abortError(options.signal);
    if ((options.onProgress || options.signal) && (p & (reportEvery - 1)) === 0) {
      options.onProgress?.({processed, evaluated: evaluator.evaluations, total: size, bestValue: best >= 0 ? bestValue : null});
      if (now() - lastYield > 50) {
        await new Promise((r) => setTimeout(r, 0));
        lastYield = now();
        if (options.signal?.aborted) throw abortError(options.signal);
      }
    }
    processed++;
    let ev: Evaluation | undefined;
    if (!exhaustive) {
      if (best >= 0 && bound[n] > bestValue && !sameValue(bound[n], bestValue)) {
        if (staticBound) break;
        for (const s of lattice.successors(n)) bound[s] = Math.max(bound[s], bound[n]);
        evaluator.settle(n);
        continue;
      }
      if (status[n] !== FAIL && !probed.has(n) && suppressedAtLeast && best >= 0) {
        // Whether or not n is anonymous, it cannot beat the best: no need to know.
        const atLeast = bound[n] + suppressedAtLeast[n] * perSuppressed![n];
        if (atLeast > bestValue && !sameValue(atLeast, bestValue)) {
          evaluator.settle(n);
          continue;
        }
      }
      if (status[n] === UNKNOWN) probe(n);
      ev = probed.get(n);
      probed.delete(n);
      if (status[n] === FAIL) {
        if (!staticBound) for (const s of lattice.successors(n)) bound[s] = Math.max(bound[s], bound[n]);
        evaluator.settle(n);
        continue;
      }
      if (exactWhenPassing && !ev) {
        // Anonymous with nothing suppressed: the metric equals its bound, no counts needed.
        if (best < 0 || better(bound[n], sums[n], n, bestValue, sums[best], best)) {
          best = n;
          bestValue = bound[n];
          bestEval = null;
        }
        evaluator.settle(n);
        continue;
      }
    }
    if (!ev && suppressedAtLeast && best >= 0) {
      const atLeast = bound[n] + suppressedAtLeast[n] * perSuppressed![n];
      if (atLeast > bestValue && !sameValue(atLeast, bestValue)) {
        evaluator.settle(n);
        continue;
      }
    }
    if (!ev) {
      ev = evaluator.evaluate(n);
      noteEvaluation(n, ev);
    }
    if (!exhaustive) {
      if (!staticBound) {
        let dm = 0;
        for (let c = 0; c < ev.node.classes; ++c) dm += ev.node.classSizes[c] * ev.node.classSizes[c];
        for (const s of lattice.successors(n)) bound[s] = Math.max(bound[s], dm, bound[n]);
      }
    }
    if (ev.anonymous !== false) {
      const value = metricValue(tables, ev.node, ev.suppressedClass, metric);
      if (best < 0 || better(value, sums[n], n, bestValue, sums[best], best)) {
        best = n;
        bestValue = value;
        bestEval = ev;
      }
    }
    evaluator.settle(n);
  }
  if (best >= 0 && !bestEval) bestEval = evaluator.evaluate(best);
  options.onProgress?.({processed: size, evaluated: evaluator.evaluations, total: size, bestValue: best >= 0 ? bestValue : null});
  const seconds = (now() - started) / 1000;

  let optimum: NodeResult | null = null;
  if (best >= 0 && bestEval) {
    const levelList = lattice.levels(best);
    optimum = {
      levels: levelRecord(counts, levelList),
      levelList,
      metric,
      metricValue: bestValue,
      measures: measureNode(counts, bestEval.node, bestEval.suppressedClass, {
        anonymous: bestEval.anonymous,
        violatingRecords: bestEval.violating,
        k: options.model.k ?? null,
        suppressionLimit: options.model.suppressionLimit ?? 0,
        threshold: options.threshold
      })
    };
  }
  let frontier: FrontierPoint[] | null = null;
  let frontierSeconds: number | null = null;
  if (options.frontier) {
    const t0 = now();
    frontier = await computeFrontier(counts, {model: options.model, metric, signal: options.signal});
    frontierSeconds = (now() - t0) / 1000;
  }
  return {optimum, metric, nodesTotal: size, nodesEvaluated: evaluator.evaluations, monotone: privacy.monotone, exhaustive, seconds, frontier, frontierSeconds};
}

/** Per node, the least amount by which suppressing one more record raises the metric. */
function suppressionCostBound(tables: UtilityTables, lattice: Lattice, metric: UtilityMetric): Float64Array {
  const q = lattice.dimensions;
  const n = tables.records;
  const out = new Float64Array(lattice.size);
  if (n === 0) return out;
  // Per QI and level: the largest cost of a cell there (what a suppressed cell saves at most).
  const most = tables.levelShare.map((shares, j) =>
    Float64Array.from(shares, (share, l) => {
      if (metric === "precision") return share;
      const values = metric === "loss" ? tables.cellLoss[j][l] : tables.log2Frequency[j][l];
      let m = -Infinity;
      for (const v of values) m = Math.max(m, v);
      return m;
    })
  );
  for (let node = 0; node < lattice.size; ++node) {
    let c = 0;
    for (let j = 0; j < q; ++j) {
      const l = lattice.level(node, j);
      c += metric === "entropy" ? Math.log2(n) - most[j][l] : 1 - most[j][l];
    }
    out[node] = metric === "entropy" ? Math.max(0, c) : Math.max(0, c) / (n * q);
  }
  return out;
}

/**
 * The risk/information-loss frontier: every node, measured with the model's suppression, that no
 * other node beats on both average prosecutor risk and metric value (ties: the lower level sum).
 * Non-anonymous nodes are measured without suppression and flagged `anonymous: false`.
 */
export async function computeFrontier(counts: ClassCounts, options: {model: SearchPrivacyModel; metric?: UtilityMetric; signal?: AbortSignal; anonymousOnly?: boolean}): Promise<FrontierPoint[]> {
  const metric = options.metric ?? "precision";
  const lattice = new Lattice(counts.quasiIdentifiers.map((q) => q.height));
  const evaluator = new NodeEvaluator(counts, lattice, options.model);
  // Class size alone decides (no l-diversity or t-closeness, precision or discernibility): one pass
  // over the sizes gives the point (sizeOnlyPoint). Those figures add up integers, exact in any
  // order below 2^53 (discernibility: at most records^2), so the classes may come in any order.
  const sizeOnly = !evaluator.privacy.hasSensitiveChecks && (metric === "precision" || metric === "discernibility");
  evaluator.anyOrder = sizeOnly && (metric === "precision" || counts.records * counts.records <= Number.MAX_SAFE_INTEGER) && counts.sensitive.length === 0 && counts.strides !== null;
  const tables = prepareUtilityTables(counts);
  const order = Int32Array.from({length: lattice.size}, (_, i) => i);
  const sums = Int32Array.from(order, (n) => lattice.levelSum(n));
  order.sort((a, b) => sums[a] - sums[b] || a - b);
  const points: FrontierPoint[] = [];
  let lastYield = now();
  for (const n of order) {
    if (options.signal?.aborted) throw abortError(options.signal);
    if (now() - lastYield > 50 && options.signal) {
      await new Promise((r) => setTimeout(r, 0));
      lastYield = now();
    }
    if (sizeOnly) {
      const node = evaluator.computeClasses(n);
      evaluator.settle(n);
      const point = sizeOnlyPoint(counts, tables, evaluator.privacy, node, metric);
      if (options.anonymousOnly && point.anonymous === false) continue;
      const levelList = lattice.levels(n);
      points.push({levels: levelRecord(counts, levelList), levelList, ...point});
      continue;
    }
    const ev = evaluator.evaluate(n);
    evaluator.settle(n);
    if (options.anonymousOnly && ev.anonymous === false) continue;
    const m = measureNode(counts, ev.node, ev.suppressedClass, {anonymous: ev.anonymous, violatingRecords: ev.violating, k: null, suppressionLimit: 0});
    const levelList = lattice.levels(n);
    points.push({levels: levelRecord(counts, levelList), levelList, risk: m.avgProsecutorRisk, maxProsecutorRisk: m.maxProsecutorRisk, metricValue: metricValue(tables, ev.node, ev.suppressedClass, metric), anonymous: ev.anonymous, suppressed: m.suppressed});
  }
  return paretoFrontier(points, (p) => p.levelList.reduce((a, b) => a + b, 0));
}

/**
 * A frontier point from class sizes alone, when the model has no sensitive-attribute checks (a class
 * violates iff it has fewer than minSize records) and the metric is precision or discernibility: the
 * same figures as PrivacyEvaluator.evaluate, measureNode and metricValue, in one pass over the sizes
 * (sums in the same order, so the same numbers).
 */
function sizeOnlyPoint(counts: ClassCounts, tables: UtilityTables, privacy: PrivacyEvaluator, node: NodeClasses, metric: UtilityMetric): Omit<FrontierPoint, "levels" | "levelList"> {
  const sizes = node.classSizes;
  const total = node.classes;
  const minSize = privacy.minSize;
  const records = counts.records;
  let violating = 0;
  let violatingClasses = 0;
  let minAll = 0;
  let minKept = 0;
  let squares = 0;
  let squaresSuppressed = 0;
  for (let c = 0; c < total; ++c) {
    const size = sizes[c];
    if (minAll === 0 || size < minAll) minAll = size;
    squares += size * size;
    if (size < minSize) {
      violating += size;
      violatingClasses++;
      squaresSuppressed += size * records;
    } else {
      squaresSuppressed += size * size;
      if (minKept === 0 || size < minKept) minKept = size;
    }
  }
  const anonymous = privacy.hasModel ? violating <= privacy.limitRecords : null;
  const suppressing = anonymous === true && violating > 0;
  const suppressed = suppressing ? violating : 0;
  const classes = suppressing ? total - violatingClasses : total;
  const remaining = records - suppressed;
  const min = suppressing ? minKept : minAll;
  return {
    risk: remaining === 0 ? 0 : classes / remaining,
    maxProsecutorRisk: min === 0 ? 0 : 1 / min,
    metricValue: metric === "precision" ? precisionValue(tables, node.levels, suppressed) : suppressing ? squaresSuppressed : squares,
    anonymous,
    suppressed
  };
}

/** Points not dominated on (risk, metricValue), sorted by risk; of equal points, the lowest tie-break key. */
export function paretoFrontier<T extends {risk: number; metricValue: number}>(points: T[], tieKey: (p: T) => number = () => 0): T[] {
  const sorted = points.map((p, i) => ({p, i, key: tieKey(p)})).sort((a, b) => a.p.risk - b.p.risk || a.p.metricValue - b.p.metricValue || a.key - b.key || a.i - b.i);
  const out: T[] = [];
  let bestMetric = Infinity;
  for (const {p} of sorted) {
    if (p.metricValue < bestMetric && !(out.length && sameValue(p.metricValue, bestMetric))) {
      out.push(p);
      bestMetric = p.metricValue;
    }
  }
  return out;
}

function abortError(signal: AbortSignal): Error {
  const reason = signal.reason;
  if (reason instanceof Error) return reason;
  const e = new Error("search cancelled");
  e.name = "AbortError";
  return e;
}

function now(): number {
  return typeof performance !== "undefined" ? performance.now() : Date.now();
}

export {prepareUtilityTables, type UtilityTables};
