import * as Plot from "@observablehq/plot";
import type {TableProfile} from "../lib/profile.js";

/**
 * Distinct values per column as a share of rows: columns near 100% identify individuals on their
 * own (names, MRNs), mid-range ones are typical quasi-identifiers. Deterministic for snapshots.
 */
export function uniquenessChart(profile: TableProfile, {width = 640, document}: {width?: number; document?: Document} = {}) {
  const data = profile.columns.map((c) => ({column: c.name, share: profile.rows ? c.distinct / profile.rows : 0, missing: profile.rows ? c.missing / profile.rows : 0}));
  return Plot.plot({
    document,
    width,
    height: 24 * data.length + 50,
    marginLeft: 150,
    x: {domain: [0, 1], tickFormat: "%", label: "Distinct values as share of rows →", grid: true},
    y: {label: null, domain: data.map((d) => d.column)},
    color: {domain: ["distinct", "missing"], range: ["#4269d0", "#ff725c"], legend: true},
    marks: [
      Plot.barX(data, {x: "share", y: "column", fill: () => "distinct", title: (d) => `${d.column}: ${(100 * d.share).toFixed(1)}% distinct`}),
      Plot.tickX(data, {x: "missing", y: "column", stroke: () => "missing", strokeWidth: 3}),
      Plot.ruleX([0])
    ]
  });
}
