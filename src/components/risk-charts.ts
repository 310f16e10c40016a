import * as Plot from "@observablehq/plot";
import type {UniquenessDrivers} from "../lib/risk.js";

export type ClassSizeHistogram = {size: number; classes: number}[];

/**
 * Per-record prosecutor risk (1 / class size) as a distribution: one bar per distinct risk value with
 * the number of records that carry it, largest risk first.
 */
export function prosecutorRiskDistribution(histogram: ClassSizeHistogram): {size: number; risk: number; records: number}[] {
  return histogram.map((h) => ({size: h.size, risk: 1 / h.size, records: h.size * h.classes})).sort((a, b) => b.risk - a.risk);
}

/** Class sizes grouped for display: sizes 1..maxExact each, then everything larger in one bucket. */
export function classSizeBuckets(histogram: ClassSizeHistogram, maxExact = 20): {bucket: string; order: number; classes: number; records: number}[] {
  const buckets = new Map<number, {bucket: string; order: number; classes: number; records: number}>();
  for (const h of histogram) {
    const order = Math.min(h.size, maxExact + 1);
    const b = buckets.get(order) ?? {bucket: order > maxExact ? `>${maxExact}` : String(order), order, classes: 0, records: 0};
    b.classes += h.classes;
    b.records += h.classes * h.size;
    buckets.set(order, b);
  }
  return [...buckets.values()].sort((a, b) => a.order - b.order);
}

/** Number of equivalence classes by size (sizes above 20 pooled), with k marked. */
export function classSizeChart(histogram: ClassSizeHistogram, {width = 640, k}: {width?: number; k?: number} = {}) {
  const data = classSizeBuckets(histogram);
  const domain = data.map((d) => d.bucket);
  return Plot.plot({
    width,
    height: 240,
    marginLeft: 50,
    x: {domain, label: "Class size (records sharing the same generalized quasi-identifiers) →", tickRotate: data.length > 30 ? -45 : 0},
    y: {label: "↑ Classes", grid: true},
    color: {domain: ["below k", "k or more"], range: ["#ff725c", "#4269d0"], legend: k !== undefined},
    marks: [
      Plot.barY(data, {x: "bucket", y: "classes", fill: (d) => (k !== undefined && d.order < k ? "below k" : "k or more"), title: (d) => `size ${d.bucket}: ${d.classes} classes, ${d.records} records`}),
      Plot.ruleY([0])
    ]
  });
}

/** Records by prosecutor risk, with the threshold drawn; bars above it are red. */
export function prosecutorRiskChart(histogram: ClassSizeHistogram, {width = 640, threshold}: {width?: number; threshold: number}) {
  const data = prosecutorRiskDistribution(histogram);
  return Plot.plot({
    width,
    height: 240,
    marginLeft: 50,
    x: {domain: [0, 1], label: "Prosecutor risk of a record (1 / class size) →", tickFormat: ".0%"},
    y: {label: "↑ Records", grid: true},
    color: {domain: ["above threshold", "at or below"], range: ["#ff725c", "#4269d0"], legend: true},
    marks: [
      Plot.rect(data, {
        // Each bar ends at its risk value, so a bar at 100% stays whole inside the frame.
        x1: (d) => Math.max(0, d.risk - 0.01),
        x2: (d) => d.risk,
        y1: 0,
        y2: "records",
        fill: (d) => (d.risk > threshold ? "above threshold" : "at or below"),
        title: (d) => `risk ${(100 * d.risk).toFixed(1)}% (classes of ${d.size}): ${d.records} records`
      }),
      Plot.ruleX([threshold], {stroke: "#222", strokeDasharray: "4,3", strokeWidth: 1.5}),
      Plot.text([threshold], {x: (t) => t, frameAnchor: "top", dx: 4, textAnchor: "start", text: (t) => `threshold ${(100 * t).toFixed(1)}%`}),
      Plot.ruleY([0])
    ]
  });
}

/** A count short enough for a heatmap cell: 950, 9,500 -> "9.5k", 99,804 -> "100k", 1,234,567 -> "1.2M" (tooltips keep the exact value). */
export function compactCount(n: number): string {
  if (n < 1000) return String(n);
  if (n < 1e6) return `${n < 1e4 ? (n / 1e3).toFixed(1).replace(/\.0$/, "") : Math.round(n / 1e3)}k`;
  return `${n < 1e7 ? (n / 1e6).toFixed(1).replace(/\.0$/, "") : Math.round(n / 1e6)}M`;
}

export interface DriverCell {
  a: string;
  b: string;
  uniqueRecords: number;
}

/**
 * Records unique on each quasi-identifier alone (diagonal) and on each pair (both halves of the
 * matrix), for a heatmap.
 */
export function driverMatrix(drivers: UniquenessDrivers): DriverCell[] {
  const cells: DriverCell[] = [];
  for (const d of drivers.single) cells.push({a: d.quasiIdentifiers[0], b: d.quasiIdentifiers[0], uniqueRecords: d.uniqueRecords});
  for (const d of drivers.pairs) {
    const [a, b] = d.quasiIdentifiers;
    cells.push({a, b, uniqueRecords: d.uniqueRecords}, {a: b, b: a, uniqueRecords: d.uniqueRecords});
  }
  return cells;
}

/** Heatmap: records unique on each quasi-identifier (diagonal) and pair of them. */
export function uniquenessDriversChart(drivers: UniquenessDrivers, {width = 640}: {width?: number} = {}) {
  const names = drivers.single.map((d) => d.quasiIdentifiers[0]);
  const cells = driverMatrix(drivers);
  const side = Math.min(width - 170, 60 * names.length + 10);
  return Plot.plot({
    width: side + 170,
    height: side + 100,
    marginLeft: 150,
    marginBottom: 90,
    padding: 0.05,
    x: {domain: names, label: null, tickRotate: -35},
    y: {domain: names, label: null},
    // Every cell prints its count, so no colour ramp legend (which would also need a canvas).
    color: {type: "sqrt", scheme: "oranges"},
    marks: [
      Plot.cell(cells, {x: "a", y: "b", fill: "uniqueRecords", title: (d) => (d.a === d.b ? `${d.a} alone` : `${d.a} + ${d.b}`) + `: ${d.uniqueRecords} unique records`}),
      Plot.text(cells, {x: "a", y: "b", text: (d) => compactCount(d.uniqueRecords), fill: (d) => (d.uniqueRecords > 0.6 * Math.max(1, ...cells.map((c) => c.uniqueRecords)) ? "white" : "black"), fontSize: 11})
    ]
  });
}

/** Bars: how many records become unique when each quasi-identifier is added to all the others. */
export function uniquenessAddedChart(drivers: UniquenessDrivers, {width = 640}: {width?: number} = {}) {
  const data = [...drivers.withoutEach].sort((a, b) => b.uniqueRecordsAdded - a.uniqueRecordsAdded || a.quasiIdentifier.localeCompare(b.quasiIdentifier));
  return Plot.plot({
    width,
    height: 26 * data.length + 50,
    marginLeft: 150,
    x: {label: "Records that become unique when this quasi-identifier is added to all the others →", grid: true},
    y: {domain: data.map((d) => d.quasiIdentifier), label: null},
    marks: [
      Plot.barX(data, {x: "uniqueRecordsAdded", y: "quasiIdentifier", fill: "#ff725c", title: (d) => `${d.quasiIdentifier}: unique without it ${d.uniqueRecordsWithout}, adds ${d.uniqueRecordsAdded}`}),
      Plot.text(data, {x: "uniqueRecordsAdded", y: "quasiIdentifier", text: (d) => String(d.uniqueRecordsAdded), dx: 4, textAnchor: "start"}),
      Plot.ruleX([0])
    ]
  });
}
