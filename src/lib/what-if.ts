/**
 * The what-if explorer's engine: answers "what are risk and utility at these levels?" from the
 * class counts (one GROUP BY at the finest level, done once) by rolling the counts up in memory,
 * so a slider drag never rescans the records. Results are cached per lattice node and model.
 * Figures are those of `risk --json` (NodeMeasures) and of the utility report; see docs/semantics.md.
 */
import {bottomClasses, canRollUp, createRollUpScratch, rollUpClasses, type ClassCounts, type NodeClasses, type SensitiveJoint} from "./class-counts.js";
import {measureNode, PrivacyEvaluator, type NodeMeasures, type SearchPrivacyModel} from "./lattice-search.js";
import {measureUtility, metricValue, prepareUtilityTables, type UtilityMetric, type UtilityReport, type UtilityTables} from "./utility.js";

export interface WhatIfResult {
  levels: Record<string, number>;
  measures: NodeMeasures;
  utility: UtilityReport;
  /** The chosen metric's value (same definition as the search's). */
  metricValue: number;
  metric: UtilityMetric;
  /** Kept records by class size: one entry per distinct size, ascending. */
  classSizeHistogram: {size: number; classes: number; records: number}[];
}

export interface WhatIfSettings {
  model: SearchPrivacyModel;
  threshold?: number;
  metric?: UtilityMetric;
  weights?: Record<string, number>;
}

export class WhatIfExplorer {
  readonly bottom: NodeClasses;
  readonly joint: SensitiveJoint | null;
  readonly tables: UtilityTables;
  private readonly nodes = new Map<string, NodeClasses>();
  private readonly results = new Map<string, WhatIfResult>();
  private readonly scratch = createRollUpScratch();

  constructor(readonly counts: ClassCounts) {
    const b = bottomClasses(counts);
    this.bottom = b.node;
    this.joint = b.joint;
    this.tables = prepareUtilityTables(counts);
  }

  get quasiIdentifiers(): {name: string; height: number}[] {
    return this.counts.quasiIdentifiers.map((q) => ({name: q.name, height: q.height}));
  }

  levelList(levels: Record<string, number>): number[] {
    return this.counts.quasiIdentifiers.map((q) => {
      const level = levels[q.name] ?? 0;
      if (!Number.isInteger(level) || level < 0 || level >= q.height) throw new Error(`level ${level} for "${q.name}" is out of range 0..${q.height - 1}`);
      return level;
    });
  }

  /** The equivalence classes of a node, rolled up from the finest cached specialization. */
  classesAt(levelList: number[]): NodeClasses {
    const key = levelList.join(",");
    const cached = this.nodes.get(key);
    if (cached) return cached;
    let from = this.bottom;
    if (this.counts.treeShaped) {
      for (const node of this.nodes.values()) if (node.cells < from.cells && canRollUp(this.counts, node.levels, levelList)) from = node;
    }
    const node = levelList.every((l) => l === 0) ? this.bottom : rollUpClasses(this.counts, from, levelList, this.scratch);
    if (this.nodes.size > 256) this.nodes.delete(this.nodes.keys().next().value!);
    this.nodes.set(key, node);
    return node;
  }

  evaluate(levels: Record<string, number>, settings: WhatIfSettings): WhatIfResult {
    const levelList = this.levelList(levels);
    const metric = settings.metric ?? "loss";
    const key = JSON.stringify([levelList, settings.model, settings.threshold ?? null, metric, settings.weights ?? null]);
    const cached = this.results.get(key);
    if (cached) return cached;
    const node = this.classesAt(levelList);
    const privacy = new PrivacyEvaluator(this.counts, settings.model, this.joint);
    const violates = new Uint8Array(node.classes);
    const {violating} = privacy.evaluate(node, violates);
    const anonymous = privacy.hasModel ? violating <= privacy.limitRecords : null;
    const suppressedClass = anonymous && violating > 0 ? violates : null;
    const measures = measureNode(this.counts, node, suppressedClass, {
      anonymous,
      violatingRecords: privacy.hasModel ? violating : 0,
      k: settings.model.k ?? null,
      suppressionLimit: settings.model.suppressionLimit ?? 0,
      threshold: settings.threshold
    });
    const utility = measureUtility(this.counts, this.tables, node, suppressedClass, {k: settings.model.k, weights: settings.weights, joint: this.joint});
    const histogram = new Map<number, number>();
    for (let c = 0; c < node.classes; ++c) if (!suppressedClass?.[c]) histogram.set(node.classSizes[c], (histogram.get(node.classSizes[c]) ?? 0) + 1);
    const result: WhatIfResult = {
      levels: Object.fromEntries(this.counts.quasiIdentifiers.map((q, j) => [q.name, levelList[j]])),
      measures,
      utility,
      metric,
      metricValue: metricValue(this.tables, node, suppressedClass, metric),
      classSizeHistogram: [...histogram].sort((a, b) => a[0] - b[0]).map(([size, classes]) => ({size, classes, records: size * classes}))
    };
    if (this.results.size > 2048) this.results.delete(this.results.keys().next().value!);
    this.results.set(key, result);
    return result;
  }
}
