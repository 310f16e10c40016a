import type {WhatIfResult} from "../lib/what-if.js";

const pct = (x: number) => `${(100 * x).toFixed(x > 0 && x < 0.001 ? 3 : 1)}%`;
const num = (x: number) => x.toLocaleString("en-US");
const fix = (x: number, d = 4) => (Number.isFinite(x) ? x.toFixed(d) : "–");

/** The headline risk and utility figures of one node, each with an id the tests read. */
export function explorerFigures(result: WhatIfResult): HTMLElement {
  const m = result.measures;
  const u = result.utility;
  const root = document.createElement("div");
  root.className = "explorer-figures grid grid-cols-4";
  const card = (id: string, title: string, value: string, note = "", raw?: number) =>
    `<div class="card"><h2>${title}</h2><span class="big" id="${id}"${raw !== undefined ? ` data-value="${raw}"` : ""}>${value}</span>${note ? `<div class="muted small">${note}</div>` : ""}</div>`;
  const status = m.anonymous === null ? "no privacy model" : m.anonymous ? "satisfies the privacy model" : `does not satisfy the model: ${num(m.violatingRecords)} records violate it`;
  root.innerHTML = [
    card("fig-k", "k (smallest class)", num(m.minClassSize), status, m.minClassSize),
    card("fig-suppressed", "Suppressed records", num(m.suppressed), `${pct(m.suppressed / Math.max(1, m.records))} of ${num(m.records)}`, m.suppressed),
    card("fig-max-risk", "Max prosecutor risk", fix(m.maxProsecutorRisk), `average ${fix(m.avgProsecutorRisk)}`, m.maxProsecutorRisk),
    card("fig-at-risk", `Records above ${m.threshold}`, pct(m.recordsAtRisk), `${num(m.uniqueRecords)} unique records`, m.recordsAtRisk),
    card("fig-classes", "Equivalence classes", num(m.classes), `mean size ${fix(m.avgClassSize, 1)}, max ${num(m.maxClassSize)}`, m.classes),
    card("fig-marketer", "Marketer risk", fix(m.marketerRisk), "expected share re-identified", m.marketerRisk),
    card("fig-loss", "Information loss", fix(u.loss), `precision ${fix(u.precision)}, weighted ${fix(u.weightedLoss)}`, u.loss),
    card("fig-entropy", "Non-uniform entropy", fix(u.entropyNormalized), `discernibility ${u.discernibility.toExponential(2)}`, u.entropyNormalized)
  ].join("");
  root.dataset.levels = JSON.stringify(result.levels);
  return root;
}
