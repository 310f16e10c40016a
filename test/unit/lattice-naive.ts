/**
 * A deliberately naive reference for the search tests: every node, every record, Maps and loops,
 * definitions written straight from docs/semantics.md. No code shared with the engine.
 */
import type {GeneralizationHierarchy} from "../../src/lib/class-counts.js";

export interface NaiveModel {
  k?: number;
  maxProsecutorRisk?: number;
  l?: {variant: "distinct" | "entropy" | "recursive"; l: number; c?: number};
  t?: {t: number; distance: "equal" | "ordered"};
  suppressionLimit?: number;
}

export type NaiveMetric = "precision" | "loss" | "discernibility" | "entropy";

export interface NaiveNode {
  levels: number[];
  anonymous: boolean | null;
  suppressed: number;
  classes: number;
  value: number;
}

const EPS = 1e-12;

export function naiveLevelsList(heights: number[]): number[][] {
  let out: number[][] = [[]];
  for (const h of heights) out = out.flatMap((p) => Array.from({length: h}, (_, l) => [...p, l]));
  return out;
}

function numericOrder(values: (string | null)[]): (string | null)[] {
  const nonNull = values.filter((v): v is string => v !== null);
  const numeric = nonNull.every((v) => v.trim() !== "" && Number.isFinite(Number(v)));
  const sorted = [...nonNull].sort((a, b) => (numeric && Number(a) !== Number(b) ? Number(a) - Number(b) : Buffer.compare(Buffer.from(a), Buffer.from(b))));
  return values.includes(null) ? [...sorted, null] : sorted;
}

export function naiveEvaluate(
  rows: {qi: (string | null)[]; sensitive: (string | null)[]}[],
  hierarchies: GeneralizationHierarchy[],
  levels: number[],
  model: NaiveModel,
  metric: NaiveMetric
): NaiveNode {
  const n = rows.length;
  const q = hierarchies.length;
  const label = (j: number, v: string | null, l: number) => (l === 0 ? v : hierarchies[j].generalize(v)[l]);
  const classes = new Map<string, number[]>();
  rows.forEach((r, i) => {
    const key = JSON.stringify(r.qi.map((v, j) => label(j, v, levels[j])));
    if (!classes.has(key)) classes.set(key, []);
    classes.get(key)!.push(i);
  });
  const hasModel = model.k !== undefined || model.maxProsecutorRisk !== undefined || model.l !== undefined || model.t !== undefined;
  const sCount = rows[0]?.sensitive.length ?? 0;
  const global: Map<string | null, number>[] = [];
  const domains: (string | null)[][] = [];
  for (let s = 0; s < sCount; ++s) {
    const m = new Map<string | null, number>();
    for (const r of rows) m.set(r.sensitive[s], (m.get(r.sensitive[s]) ?? 0) + 1);
    global.push(m);
    domains.push(numericOrder([...m.keys()]));
  }
  const violatesClass = (members: number[]) => {
    const size = members.length;
    if (model.k !== undefined && size < model.k) return true;
    if (model.maxProsecutorRisk !== undefined && 1 / size > model.maxProsecutorRisk) return true;
    for (let s = 0; s < sCount; ++s) {
      const hist = new Map<string | null, number>();
      for (const i of members) hist.set(rows[i].sensitive[s], (hist.get(rows[i].sensitive[s]) ?? 0) + 1);
      if (model.l) {
        const counts = [...hist.values()].sort((a, b) => b - a);
        if (model.l.variant === "distinct" && counts.length < model.l.l) return true;
        if (model.l.variant === "entropy") {
          const h = -counts.reduce((a, c) => a + (c / size) * Math.log(c / size), 0);
          if (h < Math.log(model.l.l) - EPS) return true;
        }
        if (model.l.variant === "recursive") {
          const tail = counts.slice(model.l.l - 1).reduce((a, c) => a + c, 0);
          if (!(counts[0] < model.l.c! * tail)) return true;
        }
      }
      if (model.t) {
        let d = 0;
        if (model.t.distance === "equal") {
          for (const v of domains[s]) d += Math.abs((hist.get(v) ?? 0) / size - global[s].get(v)! / n);
          d /= 2;
        } else {
          let cum = 0;
          for (const v of domains[s]) {
            cum += (hist.get(v) ?? 0) / size - global[s].get(v)! / n;
            d += Math.abs(cum);
          }
          d = domains[s].length > 1 ? d / (domains[s].length - 1) : 0;
        }
        if (d > model.t.t + EPS) return true;
      }
    }
    return false;
  };
  let violating = 0;
  const bad = new Set<string>();
  for (const [key, members] of classes) {
    if (violatesClass(members)) {
      violating += members.length;
      bad.add(key);
    }
  }
  const fits = violating <= Math.floor((model.suppressionLimit ?? 0) * n);
  const anonymous = hasModel ? fits : null;
  const suppress = hasModel && fits;
  const suppressedRow = new Array<boolean>(n).fill(false);
  let keptClasses = 0;
  for (const [key, members] of classes) {
    if (suppress && bad.has(key)) for (const i of members) suppressedRow[i] = true;
    else keptClasses++;
  }
  const suppressed = suppressedRow.filter(Boolean).length;

  let value = 0;
  if (metric === "discernibility") {
    for (const [key, members] of classes) value += suppress && bad.has(key) ? members.length * n : members.length ** 2;
  } else {
    // Per-attribute facts: frequency of each label at each level, distinct originals under each label.
    for (let j = 0; j < q; ++j) {
      const h = hierarchies[j].height;
      const originals = [...new Set(rows.map((r) => r.qi[j]))];
      const freqOrig = new Map<string | null, number>();
      for (const r of rows) freqOrig.set(r.qi[j], (freqOrig.get(r.qi[j]) ?? 0) + 1);
      const l = levels[j];
      const freqLabel = new Map<string | null, number>();
      const leaves = new Map<string | null, number>();
      for (const v of originals) leaves.set(label(j, v, l), (leaves.get(label(j, v, l)) ?? 0) + 1);
      for (const r of rows) freqLabel.set(label(j, r.qi[j], l), (freqLabel.get(label(j, r.qi[j], l)) ?? 0) + 1);
      rows.forEach((r, i) => {
        const g = label(j, r.qi[j], l);
        if (metric === "precision") value += suppressedRow[i] ? 1 : l / (h - 1);
        else if (metric === "loss") value += suppressedRow[i] || l === h - 1 ? 1 : originals.length > 1 ? (leaves.get(g)! - 1) / (originals.length - 1) : 0;
        else value += -Math.log2(freqOrig.get(r.qi[j])! / (suppressedRow[i] ? n : freqLabel.get(g)!));
      });
    }
    if (metric !== "entropy") value /= n * q;
  }
  return {levels, anonymous, suppressed, classes: keptClasses, value};
}

/** The optimum by exhaustive naive evaluation: least value, then least level sum, then lexicographic levels. */
export function naiveOptimum(
  rows: {qi: (string | null)[]; sensitive: (string | null)[]}[],
  hierarchies: GeneralizationHierarchy[],
  model: NaiveModel,
  metric: NaiveMetric
): NaiveNode | null {
  let best: NaiveNode | null = null;
  const same = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
  const sum = (l: number[]) => l.reduce((a, b) => a + b, 0);
  for (const levels of naiveLevelsList(hierarchies.map((h) => h.height))) {
    const node = naiveEvaluate(rows, hierarchies, levels, model, metric);
    if (node.anonymous === false) continue;
    if (!best) best = node;
    else if (!same(node.value, best.value) ? node.value < best.value : sum(levels) !== sum(best.levels) ? sum(levels) < sum(best.levels) : levels.join() < best.levels.join()) best = node;
  }
  return best;
}
