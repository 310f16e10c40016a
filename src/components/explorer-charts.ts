import * as Plot from "@observablehq/plot";
import type {FrontierPoint} from "../lib/lattice-search.js";
import type {WhatIfResult} from "../lib/what-if.js";

/** Kept records by the size of their equivalence class (log-scaled sizes), k drawn as a rule. */
export function classSizeChart(result: WhatIfResult, {width = 640, k, document}: {width?: number; k?: number; document?: Document} = {}) {
  const data = result.classSizeHistogram;
  return Plot.plot({
    document,
    width,
    height: 220,
    x: {type: "log", label: "Equivalence class size →", grid: true},
    y: {label: "↑ Records", grid: true},
    marks: [
      Plot.rectY(data, {x1: (d) => d.size * 0.9, x2: (d) => d.size * 1.1, y: "records", fill: (d) => (k && d.size < k ? "#ff725c" : "#4269d0"), title: (d) => `${d.classes} classes of size ${d.size}: ${d.records} records`}),
      k ? Plot.ruleX([k], {stroke: "currentColor", strokeDasharray: "4,3"}) : null,
      Plot.ruleY([0])
    ]
  });
}

/** Share of kept records by prosecutor risk (1 / class size), with the expert's threshold. */
export function riskDistributionChart(result: WhatIfResult, {width = 640, threshold = 0.2, document}: {width?: number; threshold?: number; document?: Document} = {}) {
  const kept = result.classSizeHistogram.reduce((s, d) => s + d.records, 0) || 1;
  const data = result.classSizeHistogram.map((d) => ({risk: 1 / d.size, share: d.records / kept, records: d.records}));
  return Plot.plot({
    document,
    width,
    height: 220,
    x: {domain: [0, 1], label: "Prosecutor risk per record (1 / class size) →", grid: true},
    y: {label: "↑ Share of records", percent: true, grid: true},
    marks: [
      Plot.rectY(data, {x1: (d) => Math.max(0, d.risk - 0.006), x2: (d) => Math.min(1, d.risk + 0.006), y: "share", fill: (d) => (d.risk > threshold ? "#ff725c" : "#4269d0"), title: (d) => `risk ${d.risk.toFixed(3)}: ${d.records} records`}),
      Plot.ruleX([threshold], {stroke: "currentColor", strokeDasharray: "4,3"}),
      Plot.text([threshold], {x: (d) => d, frameAnchor: "top", dx: 4, textAnchor: "start", text: (d) => `threshold ${d}`}),
      Plot.ruleY([0])
    ]
  });
}

/** The risk-vs-information-loss frontier of the lattice, with the current node marked. */
export function frontierChart(points: FrontierPoint[], current: {risk: number; metricValue: number} | null, {width = 640, metric = "loss", document}: {width?: number; metric?: string; document?: Document} = {}) {
  const sorted = [...points].sort((a, b) => a.metricValue - b.metricValue);
  return Plot.plot({
    document,
    width,
    height: 300,
    x: {label: `Information loss (${metric}) →`, grid: true},
    y: {label: "↑ Average prosecutor risk", grid: true},
    color: {legend: true, domain: ["frontier", "current"], range: ["#4269d0", "#ff725c"]},
    marks: [
      Plot.line(sorted, {x: "metricValue", y: "risk", stroke: () => "frontier", curve: "step-after"}),
      Plot.dot(sorted, {x: "metricValue", y: "risk", fill: () => "frontier", r: 3, title: (d) => `${Object.entries(d.levels).map(([k, v]) => `${k}=${v}`).join(", ")}\nrisk ${d.risk.toFixed(4)}, loss ${d.metricValue.toFixed(4)}`}),
      current ? Plot.dot([current], {x: "metricValue", y: "risk", fill: () => "current", r: 7, stroke: "white"}) : null
    ]
  });
}
