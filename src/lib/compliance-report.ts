/**
 * report.html: the self-contained static report the certifying expert reads, prints to PDF and signs.
 * No external resources (no scripts, fonts, images or links to fetch); plots are inline SVG.
 * Pure: the same arguments give the same text (numbers are formatted with toFixed/toPrecision,
 * which ECMAScript specifies exactly).
 */
import type {ApplyStatistics} from "./apply-transformations.js";
import type {RiskSummary} from "./risk.js";
import type {UtilityReport} from "./utility.js";
import {orderedLevels, SAFE_HARBOR_CATEGORIES, TOOL_NAME, TOOL_VERSION, type FieldSpec, type TransformConfig} from "./transform-config.js";

/**
 * SEAM for the risk and utility engines: the figures the report shows are passed in, computed by
 * whoever can (the CLI and the app call risk.ts / utility.ts / ml-utility.ts and hand the results here).
 * Any figure left null is printed as "not computed" with the reason, never invented.
 */
export interface ReportFigures {
  riskBefore?: RiskSummary | null;
  riskAfter?: RiskSummary | null;
  /** Utility of the published data relative to the original (utility.ts measureUtility); original = no loss. */
  utilityAfter?: UtilityReport | null;
  /** The explorer's frontier (lattice-search) with the chosen point. */
  frontier?: {points: {risk: number; loss: number; label?: string}[]; chosen?: {risk: number; loss: number}; riskLabel?: string; lossLabel?: string} | null;
  /** ML utility (ml-utility.ts): same model, seed and split on original and de-identified data. */
  mlUtility?: {metric: string; original: number; deidentified: number; model?: string} | null;
  /** Extra limitations to state (the standard ones are always listed). */
  limitations?: string[];
  /** Why a figure is missing, keyed by section ("utility", "frontier", "ml"). */
  notes?: Record<string, string>;
}

export interface ReportInput {
  config: TransformConfig;
  configHash: string;
  inputs: {name: string; sha256: string; table: string; records: number; columns: number}[];
  tables: {name: string; columns: string[]; records: number; files: {csv: string; parquet: string}}[];
  statistics: ApplyStatistics;
  figures: ReportFigures;
  fingerprints: Map<string, string>;
  exportTime: string;
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}
const e = escapeHtml;

function num(x: number | null | undefined, digits = 4): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return "–";
  if (Number.isInteger(x)) return String(x);
  return x.toFixed(digits);
}
function pct(x: number | null | undefined): string {
  return x === null || x === undefined || !Number.isFinite(x) ? "–" : `${(x * 100).toFixed(2)} %`;
}

export function describeTransform(field: FieldSpec, config: TransformConfig, level: number | undefined): string {
  const t = field.transform;
  let text: string;
  switch (t.action) {
    case "keep":
      text = "kept as is";
      break;
    case "remove":
      text = "removed (column not released)";
      break;
    case "redact":
      text = t.replacement === undefined || t.replacement === null ? "redacted (every value blank)" : `redacted (every value replaced by "${t.replacement}")`;
      break;
    case "mask":
      text = `masked with "${t.maskChar ?? "*"}", keeping ${t.keepPrefix ?? 0} leading and ${t.keepSuffix ?? 0} trailing characters`;
      break;
    case "pseudonymize":
      text = `keyed pseudonym (HMAC-SHA-256), domain "${t.domain ?? "default"}", tokens "${t.prefix ?? ""}" + ${t.length ?? 16} base32 characters`;
      break;
    case "date-shift":
      text = `shifted per patient by a keyed offset in ±[1, ${config.dateShift.maxDays}] days${field.type === "datetime" ? (config.dateShift.keepTimeOfDay ? ", time of day kept" : ", time of day dropped") : ""}`;
      break;
    case "generalize":
      text = `generalized with hierarchy "${field.hierarchy}" to level ${level ?? "?"}`;
      break;
    case "suppress":
      text = "suppressed (every cell \"*\")";
      break;
  }
  if ("topCodeAge" in t && t.topCodeAge) text += field.type === "date" || field.type === "datetime" ? `; birth dates implying age ≥ 90 on ${config.referenceDate} → "90+"` : `; ages over 89 → "90+"`;
  return text;
}

function levelOf(config: TransformConfig, table: string, field: FieldSpec): number | undefined {
  if (field.transform.action !== "generalize") return undefined;
  if (field.transform.level !== undefined) return field.transform.level;
  const modelTable = config.privacyModel.table ?? config.inputs[0].table;
  return table === modelTable ? config.levels[field.name] : undefined;
}

// ---------------------------------------------------------------------------------------------
// Inline SVG

function barChart(title: string, categories: string[], series: {name: string; values: number[]; color: string}[], {max = 1, format = pct}: {max?: number; format?: (x: number) => string} = {}): string {
  const width = 640;
  const rowHeight = 16 * series.length + 10;
  const left = 170;
  const height = 30 + categories.length * rowHeight + 24;
  const scale = (v: number) => (max > 0 ? ((width - left - 90) * Math.min(v, max)) / max : 0);
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${e(title)}">`, `<text x="0" y="14" font-weight="bold">${e(title)}</text>`];
  categories.forEach((c, i) => {
    const y0 = 30 + i * rowHeight;
    parts.push(`<text x="${left - 6}" y="${y0 + rowHeight / 2}" text-anchor="end" dominant-baseline="middle">${e(c)}</text>`);
    series.forEach((s, j) => {
      const y = y0 + j * 16;
      const w = scale(s.values[i]);
      parts.push(`<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="13" fill="${s.color}"/><text x="${(left + w + 4).toFixed(1)}" y="${y + 10}" font-size="10">${e(format(s.values[i]))}</text>`);
    });
  });
  const ly = height - 8;
  series.forEach((s, j) => parts.push(`<rect x="${left + j * 130}" y="${ly - 9}" width="10" height="10" fill="${s.color}"/><text x="${left + j * 130 + 14}" y="${ly}" font-size="11">${e(s.name)}</text>`));
  parts.push("</svg>");
  return parts.join("");
}

function scatterPlot(frontier: NonNullable<ReportFigures["frontier"]>): string {
  const width = 640;
  const height = 320;
  const m = {l: 60, r: 20, t: 20, b: 40};
  const xs = frontier.points.map((p) => p.loss).concat(frontier.chosen ? [frontier.chosen.loss] : []);
  const ys = frontier.points.map((p) => p.risk).concat(frontier.chosen ? [frontier.chosen.risk] : []);
  const xMax = Math.max(1e-9, ...xs);
  const yMax = Math.max(1e-9, ...ys);
  const sx = (x: number) => m.l + ((width - m.l - m.r) * x) / xMax;
  const sy = (y: number) => height - m.b - ((height - m.t - m.b) * y) / yMax;
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="frontier">`];
  parts.push(`<line x1="${m.l}" y1="${height - m.b}" x2="${width - m.r}" y2="${height - m.b}" stroke="#333"/><line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${height - m.b}" stroke="#333"/>`);
  parts.push(`<text x="${(width / 2).toFixed(0)}" y="${height - 8}" text-anchor="middle">${e(frontier.lossLabel ?? "information loss")} (max ${num(xMax)})</text>`);
  parts.push(`<text x="14" y="${(height / 2).toFixed(0)}" transform="rotate(-90 14 ${(height / 2).toFixed(0)})" text-anchor="middle">${e(frontier.riskLabel ?? "risk")} (max ${num(yMax)})</text>`);
  const sorted = [...frontier.points].sort((a, b) => a.loss - b.loss || a.risk - b.risk);
  if (sorted.length > 1) parts.push(`<polyline fill="none" stroke="#888" points="${sorted.map((p) => `${sx(p.loss).toFixed(1)},${sy(p.risk).toFixed(1)}`).join(" ")}"/>`);
  for (const p of sorted) parts.push(`<circle cx="${sx(p.loss).toFixed(1)}" cy="${sy(p.risk).toFixed(1)}" r="3.5" fill="#4a78b5"><title>${e(p.label ?? "")}</title></circle>`);
  if (frontier.chosen) parts.push(`<circle cx="${sx(frontier.chosen.loss).toFixed(1)}" cy="${sy(frontier.chosen.risk).toFixed(1)}" r="7" fill="none" stroke="#c0392b" stroke-width="2.5"/><text x="${(sx(frontier.chosen.loss) + 10).toFixed(1)}" y="${(sy(frontier.chosen.risk) - 8).toFixed(1)}" fill="#c0392b">chosen</text>`);
  parts.push("</svg>");
  return parts.join("");
}

// ---------------------------------------------------------------------------------------------

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;color:#111;max-width:980px;margin:2em auto;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.2em;border-bottom:1px solid #999;margin-top:1.8em;padding-bottom:.2em}
table{border-collapse:collapse;width:100%;margin:.6em 0}th,td{border:1px solid #bbb;padding:3px 6px;text-align:left;vertical-align:top}th{background:#eee}
td.n{text-align:right;font-variant-numeric:tabular-nums}code,.mono{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.9em;word-break:break-all}
.meta{color:#444}.warn{color:#8a4b00}.ok{color:#1d6b2f}svg{max-width:100%;height:auto;font-family:inherit;font-size:12px}
.sig td{height:2.6em}.sig th{width:28%}
@page{size:letter;margin:18mm}
@media print{body{margin:0;max-width:none;font-size:11px}h2{break-after:avoid}table,svg,.keep{break-inside:avoid}section{break-inside:auto}.sigsec{break-before:page}a{color:inherit;text-decoration:none}}
`;

const STANDARD_LIMITATIONS = [
  "Risk figures measure re-identification risk from the released quasi-identifiers under the prosecutor, journalist and marketer attacker models; they do not cover attacks on fields marked as features, sensitive or target values, nor linkage with data the expert did not consider.",
  "Class statistics are over records that were not suppressed (ARX convention); suppressed records keep their other fields.",
  "Free text, images and other unstructured content are only handled if the data dictionary lists them; fields not listed make the run fail rather than being released.",
  "Pseudonym tokens and date offsets are keyed: anyone holding the key (or passphrase) can re-link tokens to identifiers and undo date shifts. The key must be kept separate from the released data (45 CFR 164.514(c)).",
  "Date shifting keeps intervals within a patient but moves seasonality and day-of-week patterns; ages derived from shifted dates may differ by up to the maximum shift.",
  "Ages over 89 are computed at the pinned reference date; other dates of very old patients (for example admission dates together with a released birth year) may still imply ages over 89 unless removed or generalized."
];

export function renderComplianceReport(input: ReportInput): string {
  const {config, figures, statistics} = input;
  const modelTable = config.privacyModel.table ?? config.inputs[0].table;
  const out: string[] = [];
  out.push(`<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>De-identification report</title><style>${STYLE}</style></head><body>`);
  out.push(`<h1>De-identification report (HIPAA Expert Determination)</h1>`);
  out.push(`<p class="meta">Generated ${e(input.exportTime)} by ${TOOL_NAME} ${TOOL_VERSION}. Config hash <code>${e(input.configHash)}</code>. Reference date for ages: ${e(config.referenceDate)}.</p>`);

  // dataset summary
  out.push(`<section><h2>1. Dataset</h2><table><tr><th>Input file</th><th>Table</th><th>Records</th><th>Columns</th><th>SHA-256</th></tr>`);
  for (const f of input.inputs) out.push(`<tr><td>${e(f.name)}</td><td>${e(f.table)}</td><td class="n">${f.records}</td><td class="n">${f.columns}</td><td class="mono">${e(f.sha256)}</td></tr>`);
  out.push(`</table><table><tr><th>Released file</th><th>Records</th><th>SHA-256</th></tr>`);
  for (const t of input.tables) {
    for (const file of [t.files.csv, t.files.parquet]) out.push(`<tr><td>${e(file)}</td><td class="n">${t.records}</td><td class="mono">${e(input.fingerprints.get(file) ?? "")}</td></tr>`);
  }
  out.push(`</table><p>Output rows are sorted by their released values, so row order carries no information about the input order.</p></section>`);

  // fields
  out.push(`<section><h2>2. Fields and what was done to them</h2>`);
  for (const spec of config.inputs) {
    out.push(`<h3>${e(spec.table)} <span class="meta">(${e(spec.file)}${spec.patientField ? `; patient field: ${e(spec.patientField)}` : ""})</span></h3><table><tr><th>Field</th><th>Role</th><th>Type</th><th>Safe Harbor category</th><th>Transformation</th></tr>`);
    for (const f of spec.fields) {
      out.push(`<tr><td><code>${e(f.name)}</code></td><td>${e(f.role)}</td><td>${e(f.type)}</td><td>${e(f.phiCategory ?? "–")}</td><td>${e(describeTransform(f, config, levelOf(config, spec.table, f)))}</td></tr>`);
    }
    out.push(`</table>`);
  }
  const counts: string[] = [];
  counts.push(`records suppressed by the privacy model: ${statistics.suppressedRecords} (of ${statistics.violatingRecords} violating)`);
  for (const [k, v] of Object.entries(statistics.topCoded)) counts.push(`${k}: ${v} value(s) top-coded to "90+"`);
  for (const [k, v] of Object.entries(statistics.datesWithoutPatient)) counts.push(`${k}: ${v} date(s) blanked because the record had no patient id`);
  for (const [k, v] of Object.entries(statistics.tokensByDomain)) counts.push(`pseudonym domain "${k}": ${v} distinct token(s), no collisions`);
  if (statistics.patientsShifted) counts.push(`${statistics.patientsShifted} patient(s) with a date offset`);
  out.push(`<ul>${counts.map((c) => `<li>${e(c)}</li>`).join("")}</ul>`);
  const keys = config.keys;
  out.push(`<p>Keys: ${keys ? `${keys.derivation.source === "passphrase" ? `passphrase, PBKDF2-HMAC-SHA256 with ${keys.derivation.iterations} iterations` : "random 256-bit key file"}; HKDF-SHA-256 subkeys per purpose. Fingerprints (HMAC of a fixed label; not the key): pseudonym <code>${e(keys.fingerprints.pseudonym ?? "–")}</code>, date-shift <code>${e(keys.fingerprints["date-shift"] ?? "–")}</code>.` : "no key used (no pseudonyms or date shifts)."}</p>`);
  out.push(`<p>Restricted ZIP3 list: <code>${e(config.restrictedZip3.name)}</code> (${config.restrictedZip3.codes.length} codes mapped to 000).</p></section>`);

  // privacy model and risk
  const pm = config.privacyModel;
  const model = [pm.k !== undefined ? `k = ${pm.k}` : null, pm.lDiversity ? `${pm.lDiversity.variant ?? "distinct"} l-diversity, l = ${pm.lDiversity.l}${pm.lDiversity.c !== undefined ? `, c = ${pm.lDiversity.c}` : ""}` : null, pm.tCloseness ? `t-closeness (${pm.tCloseness.distance ?? "equal"} distance), t = ${pm.tCloseness.t}` : null].filter(Boolean);
  out.push(`<section><h2>3. Privacy model and re-identification risk</h2><p>Table <code>${e(modelTable)}</code>; model: ${e(model.join("; ") || "none")}; suppression limit ${pct(pm.suppressionLimit)}; risk threshold ${num(pm.riskThreshold)}. Generalization levels: ${e(orderedLevels(config).map(([k, v]) => `${k} = ${v}`).join(", ") || "–")}.</p>`);
  const before = figures.riskBefore ?? null;
  const after = figures.riskAfter ?? null;
  if (before || after) {
    const rows: [string, (r: RiskSummary) => string][] = [
      ["Records", (r) => num(r.records)],
      ["Suppressed records", (r) => num(r.suppressed)],
      ["Equivalence classes", (r) => num(r.classes)],
      ["Smallest class (k)", (r) => num(r.minClassSize)],
      ["Average class size", (r) => num(r.avgClassSize, 2)],
      ["Unique records", (r) => num(r.uniqueRecords)],
      ["Maximum prosecutor risk", (r) => num(r.maxProsecutorRisk)],
      ["Average prosecutor risk", (r) => num(r.avgProsecutorRisk)],
      [`Records above risk threshold ${num(pm.riskThreshold)}`, (r) => pct(r.recordsAtRisk)],
      ["Marketer risk", (r) => num(r.marketerRisk)],
      ["Journalist risk (max / avg)", (r) => (r.journalist ? `${num(r.journalist.maxRisk)} / ${num(r.journalist.avgRisk)}` : "not computed (no population table or sampling fraction)")]
    ];
    out.push(`<table class="keep"><tr><th>Figure</th><th>Before (original values)</th><th>After (released values)</th></tr>`);
    for (const [label, f] of rows) out.push(`<tr><td>${e(label)}</td><td class="n">${before ? e(f(before)) : "–"}</td><td class="n">${after ? e(f(after)) : "–"}</td></tr>`);
    const sens = after?.sensitive ?? before?.sensitive ?? [];
    for (const s of sens) {
      const b = before?.sensitive.find((x) => x.attribute === s.attribute);
      const a = after?.sensitive.find((x) => x.attribute === s.attribute);
      out.push(`<tr><td>${e(s.attribute)}: distinct l / entropy l / t (equal distance)</td><td class="n">${b ? `${b.distinctL} / ${num(b.entropyL, 2)} / ${num(b.tClosenessEqual)}` : "–"}</td><td class="n">${a ? `${a.distinctL} / ${num(a.entropyL, 2)} / ${num(a.tClosenessEqual)}` : "–"}</td></tr>`);
    }
    out.push(`</table>`);
    const thresholds = Object.keys((after ?? before)!.recordsAtRiskByThreshold);
    out.push(
      `<div class="keep">${barChart(
        "Share of records whose prosecutor risk exceeds each threshold",
        thresholds.map((t) => `risk > ${t}`),
        [
          ...(before ? [{name: "before", values: thresholds.map((t) => before.recordsAtRiskByThreshold[t] ?? 0), color: "#c98b8b"}] : []),
          ...(after ? [{name: "after", values: thresholds.map((t) => after.recordsAtRiskByThreshold[t] ?? 0), color: "#4a78b5"}] : [])
        ]
      )}</div>`
    );
    if (after?.note) out.push(`<p class="meta">${e(after.note)}</p>`);
  } else {
    out.push(`<p class="warn">Risk figures not computed: the privacy-model table has no released quasi-identifiers.</p>`);
  }
  out.push(`</section>`);

  // utility
  out.push(`<section><h2>4. Utility</h2>`);
  const u = figures.utilityAfter;
  if (u) {
    out.push(`<table class="keep"><tr><th>Metric</th><th>Original</th><th>Released</th></tr>
<tr><td>Precision loss (generalization intensity)</td><td class="n">0</td><td class="n">${num(u.precision)}</td></tr>
<tr><td>Iyengar loss metric</td><td class="n">0</td><td class="n">${num(u.loss)}</td></tr>
<tr><td>Importance-weighted loss</td><td class="n">0</td><td class="n">${num(u.weightedLoss)}</td></tr>
<tr><td>Discernibility</td><td class="n">–</td><td class="n">${num(u.discernibility)}</td></tr>
<tr><td>Non-uniform entropy (normalized)</td><td class="n">0</td><td class="n">${num(u.entropyNormalized)}</td></tr></table>`);
    out.push(`<table class="keep"><tr><th>Attribute</th><th>Level</th><th>Loss</th><th>Jensen–Shannon drift</th><th>Mean before → after</th><th>Variance before → after</th></tr>`);
    for (const a of u.attributes) {
      out.push(`<tr><td>${e(a.name)}</td><td class="n">${a.level ?? "–"}</td><td class="n">${num(a.loss)}</td><td class="n">${num(a.jensenShannon)}</td><td class="n">${a.meanOriginal === null ? "–" : `${num(a.meanOriginal, 2)} → ${num(a.meanDeidentified, 2)}`}</td><td class="n">${a.varianceOriginal === null ? "–" : `${num(a.varianceOriginal, 2)} → ${num(a.varianceDeidentified, 2)}`}</td></tr>`);
    }
    out.push(`</table><div class="keep">${barChart("Per-attribute distribution drift (Jensen–Shannon divergence, 0–1)", u.attributes.map((a) => a.name), [{name: "drift", values: u.attributes.map((a) => a.jensenShannon), color: "#4a78b5"}], {format: (x) => x.toFixed(4)})}</div>`);
  } else {
    out.push(`<p class="warn">Information loss and drift not computed${figures.notes?.utility ? `: ${e(figures.notes.utility)}` : "."}</p>`);
  }
  const ml = figures.mlUtility;
  if (ml) {
    out.push(`<p>ML utility (${e(ml.model ?? "model")}, ${e(ml.metric)}): original ${num(ml.original)}, de-identified ${num(ml.deidentified)}, ratio ${num(ml.original ? ml.deidentified / ml.original : null)}.</p>`);
  } else {
    out.push(`<p class="warn">ML utility not computed${figures.notes?.ml ? `: ${e(figures.notes.ml)}` : "."}</p>`);
  }
  out.push(`</section>`);

  // frontier
  out.push(`<section><h2>5. Risk–utility frontier</h2>`);
  if (figures.frontier && figures.frontier.points.length) out.push(`<div class="keep">${scatterPlot(figures.frontier)}</div>`);
  else out.push(`<p class="warn">Frontier not included${figures.notes?.frontier ? `: ${e(figures.notes.frontier)}` : " (no search was run for this package)."}</p>`);
  out.push(`</section>`);

  // Safe Harbor checklist
  out.push(`<section><h2>6. Safe Harbor identifier checklist (45 CFR 164.514(b)(2)(i))</h2><p class="meta">For reference: Expert Determination does not require removing every category, but each present category's handling must be justified.</p><table><tr><th>#</th><th>Category</th><th>Present in fields</th><th>Handled how</th></tr>`);
  SAFE_HARBOR_CATEGORIES.forEach((cat, i) => {
    const hits = config.inputs.flatMap((spec) => spec.fields.filter((f) => f.phiCategory === cat.id).map((f) => ({spec, f})));
    const present = hits.length ? hits.map(({spec, f}) => `${spec.table}.${f.name}`).join(", ") : "none tagged in the data dictionary";
    const how = hits.length ? hits.map(({spec, f}) => `${f.name}: ${describeTransform(f, config, levelOf(config, spec.table, f))}`).join("; ") : "–";
    out.push(`<tr><td class="n">${String.fromCharCode(65 + i)}</td><td>${e(cat.label)}</td><td>${e(present)}</td><td>${e(how)}</td></tr>`);
  });
  out.push(`</table></section>`);

  // limitations
  out.push(`<section><h2>7. Limitations</h2><ul>${[...STANDARD_LIMITATIONS, ...(figures.limitations ?? [])].map((l) => `<li>${e(l)}</li>`).join("")}</ul></section>`);

  // signature
  out.push(`<section class="sigsec"><h2>8. Expert determination</h2><p>I have applied generally accepted statistical and scientific principles and methods for rendering information not individually identifiable, and determined that the risk is very small that the information could be used, alone or in combination with other reasonably available information, by an anticipated recipient to identify an individual who is a subject of the information (45 CFR 164.514(b)(1)).</p>
<table class="sig"><tr><th>Expert name</th><td></td></tr><tr><th>Qualifications</th><td></td></tr><tr><th>Organization</th><td></td></tr><tr><th>Anticipated recipient(s) and conditions</th><td></td></tr><tr><th>Determination valid until</th><td></td></tr><tr><th>Signature</th><td></td></tr><tr><th>Date</th><td></td></tr></table>
<p class="meta">This report covers the package whose files are listed with their SHA-256 fingerprints in section 1 and in SHA256SUMS.</p></section>`);
  out.push(`</body></html>\n`);
  return out.join("\n");
}
