import {fieldsWithRole, type DataDictionary} from "../lib/data-dictionary.js";
import {dropEvaluation, dropFrequencyTable, evaluateTransformation, listEquivalenceClasses, prepareFrequencyTable, type EquivalenceClassRow, type FrequencyTable} from "../lib/equivalence-classes.js";
import type {QuasiIdentifier, ReferenceTables} from "../lib/hierarchies.js";
import {recordsOfClass} from "../lib/class-records.js";
import {computeRiskSummary, DEFAULT_THRESHOLD, type RiskSummary} from "../lib/risk.js";
import type {SqlConnection, SqlValue} from "../lib/sql.js";
import {levelNames} from "./dictionary-model.js";
import {resolveHierarchyInBrowser} from "./reference-client.js";

const escapeHtml = (s: string) => s.replace(/[&<>"]/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})[c]!);

/** The dictionary's quasi-identifiers and sensitive attributes, encoded once for every setting. */
export interface RiskModel {
  table: string;
  quasiIdentifiers: QuasiIdentifier[];
  sensitive: string[];
  freq: FrequencyTable;
  drop(): Promise<void>;
}

export async function openRiskModel(conn: SqlConnection, table: string, dictionary: DataDictionary, refs: ReferenceTables, arxFiles: Record<string, string>): Promise<RiskModel> {
  const qis = fieldsWithRole(dictionary, "quasi-identifier");
  if (qis.length === 0) throw new Error("The data dictionary has no quasi-identifier. Mark the columns an attacker could know (age, ZIP code, dates, sex, ...) as quasi-identifiers on the Dictionary page.");
  const quasiIdentifiers = qis.map((f) => {
    try {
      return {name: f.name, hierarchy: resolveHierarchyInBrowser(f.hierarchy!, refs, arxFiles)};
    } catch (error) {
      throw new Error(`quasi-identifier "${f.name}": ${(error as Error).message}`);
    }
  });
  const sensitive = fieldsWithRole(dictionary, "sensitive").map((f) => f.name);
  const freq = await prepareFrequencyTable(conn, {table, quasiIdentifiers, sensitive});
  return {table, quasiIdentifiers, sensitive, freq, drop: () => dropFrequencyTable(conn, freq)};
}

export interface RiskSettings {
  levels: Record<string, number>;
  k: number;
  /** Fraction of all records, 0..1. */
  suppressionLimit: number;
  threshold: number;
  /** Sample / population, for journalist risk; null when unknown. */
  samplingFraction: number | null;
}

/** Settings from the explorer's chosen configuration where present, else level 0, k = 5, no suppression. */
export function initialRiskSettings(model: Pick<RiskModel, "quasiIdentifiers">, chosen: {levels?: Record<string, number>; k?: number; suppressionLimit?: number; threshold?: number} | null): RiskSettings {
  const levels: Record<string, number> = {};
  for (const q of model.quasiIdentifiers) {
    const level = chosen?.levels?.[q.name];
    levels[q.name] = Number.isInteger(level) && level! >= 0 && level! < q.hierarchy.height ? level! : 0;
  }
  return {levels, k: chosen?.k ?? 5, suppressionLimit: chosen?.suppressionLimit ?? 0, threshold: chosen?.threshold ?? DEFAULT_THRESHOLD, samplingFraction: null};
}

/** Labelled, keyboard-usable inputs for levels, k, suppression limit, threshold and sampling fraction. */
export function riskSettingsForm(model: Pick<RiskModel, "quasiIdentifiers">, initial: RiskSettings, {fromExplorer = false}: {fromExplorer?: boolean} = {}): HTMLFormElement & {value: RiskSettings} {
  const form = document.createElement("form") as HTMLFormElement & {value: RiskSettings};
  form.className = "risk-settings";
  form.addEventListener("submit", (e) => e.preventDefault());
  const levelInputs = model.quasiIdentifiers
    .map((q, i) => {
      const names = levelNames(q.hierarchy);
      const options = names.map((n, level) => `<option value="${level}"${level === initial.levels[q.name] ? " selected" : ""}>${level}: ${escapeHtml(n)}</option>`).join("");
      return `<label>${escapeHtml(q.name)} <select name="level" data-qi="${escapeHtml(q.name)}" id="risk-level-${i}">${options}</select></label>`;
    })
    .join("");
  form.innerHTML = `
    <fieldset class="risk-levels"><legend>Generalization level per quasi-identifier</legend>${levelInputs}
      <p class="risk-levels-source">${fromExplorer ? "Levels of the configuration chosen on the Explorer." : "No configuration chosen on the Explorer yet: every quasi-identifier starts at level 0 (original values)."}</p></fieldset>
    <fieldset class="risk-model"><legend>Privacy model and risk threshold</legend>
      <label>k (smallest class allowed) <input name="k" type="number" min="1" step="1" value="${initial.k}" required></label>
      <label>Suppression limit (% of records) <input name="suppression" type="number" min="0" max="100" step="0.5" value="${+(initial.suppressionLimit * 100).toFixed(6)}"></label>
      <label>Risk threshold (%) <input name="threshold" type="number" min="0" max="100" step="0.1" value="${+(initial.threshold * 100).toFixed(6)}"></label>
      <label>Sampling fraction (optional, for journalist risk) <input name="sampling" type="number" min="0" max="1" step="0.01" placeholder="e.g. 0.05" value="${initial.samplingFraction ?? ""}"></label>
      <div class="risk-settings-error" role="alert"></div>
    </fieldset>`;
  let value = initial;
  const error = form.querySelector<HTMLElement>(".risk-settings-error")!;
  const read = (): RiskSettings | string => {
    const levels: Record<string, number> = {};
    for (const s of form.querySelectorAll<HTMLSelectElement>("select[name=level]")) levels[s.dataset.qi!] = Number(s.value);
    const get = (name: string) => (form.elements.namedItem(name) as HTMLInputElement).value.trim();
    const k = Number(get("k"));
    const suppression = Number(get("suppression") || "0") / 100;
    const threshold = Number(get("threshold")) / 100;
    const sampling = get("sampling") === "" ? null : Number(get("sampling"));
    if (!(Number.isInteger(k) && k >= 1)) return "k must be a whole number of at least 1.";
    if (!(suppression >= 0 && suppression <= 1)) return "The suppression limit must be between 0 and 100%.";
    if (get("threshold") === "" || !(threshold >= 0 && threshold <= 1)) return "The risk threshold must be between 0 and 100%.";
    if (sampling !== null && !(sampling > 0 && sampling <= 1)) return "The sampling fraction must be above 0 and at most 1 (leave it empty if unknown).";
    return {levels, k, suppressionLimit: suppression, threshold, samplingFraction: sampling};
  };
  const update = (event: Event) => {
    event.stopPropagation();
    const next = read();
    error.textContent = typeof next === "string" ? next : "";
    if (typeof next === "string") return;
    if (JSON.stringify(next) === JSON.stringify(value)) return;
    value = next;
    form.dispatchEvent(new Event("input", {bubbles: false}));
  };
  form.addEventListener("change", update);
  // Child inputs' own events must not reach view() (it would read .value before it changes); the form re-dispatches.
  form.addEventListener("input", (e) => {
    if (e.target === form) return;
    e.stopImmediatePropagation();
    update(e);
  });
  Object.defineProperty(form, "value", {get: () => value});
  return form;
}

export interface RiskEvaluation {
  settings: RiskSettings;
  summary: RiskSummary;
  /** The smallest classes, smallest first. */
  smallest: EquivalenceClassRow[];
}

/** Risk summary and smallest classes for one setting: the same calls as `deid-workbench risk --classes N`. */
export async function evaluateRisk(conn: SqlConnection, model: RiskModel, settings: RiskSettings, {classes = 25}: {classes?: number} = {}): Promise<RiskEvaluation> {
  const options = {
    table: model.table,
    quasiIdentifiers: model.quasiIdentifiers,
    levels: settings.levels,
    sensitive: model.sensitive,
    k: settings.k,
    suppressionLimit: settings.suppressionLimit,
    threshold: settings.threshold,
    population: settings.samplingFraction === null ? undefined : {samplingFraction: settings.samplingFraction}
  };
  const summary = await computeRiskSummary(conn, {...options, prepared: model.freq});
  // The class list needs sizes and the suppression decision only (k alone decides it here), not the t-closeness distances.
  const evaluation = await evaluateTransformation(conn, model.freq, settings.levels, {...options, orderedDistance: false});
  try {
    const smallest = await listEquivalenceClasses(conn, evaluation, {limit: classes});
    return {settings, summary, smallest};
  } finally {
    await dropEvaluation(conn, evaluation);
  }
}

const integer = (x: number) => x.toLocaleString("en-US");
const percent = (x: number) => `${(100 * x).toFixed(x > 0 && x < 0.001 ? 3 : 2)}%`;
const decimal = (x: number) => (Number.isInteger(x) ? integer(x) : x.toFixed(4));

/** An indeterminate progress bar with a label, for steps that can take more than a second. */
export function progressNotice(label: string): HTMLElement {
  const div = document.createElement("div");
  div.className = "progress-notice";
  div.setAttribute("role", "status");
  div.innerHTML = `<progress aria-label="${escapeHtml(label)}"></progress> <span>${escapeHtml(label)}</span>`;
  return div;
}

const DEFINITIONS: Record<string, string> = {
  "risk-k": "The smallest equivalence class over the records that remain: the k the data achieves.",
  "risk-suppressed": "Records in classes that violate k, removed because they fit the suppression limit (ARX convention: otherwise nothing is suppressed).",
  "risk-max-prosecutor": "1 / smallest class size: the chance an attacker who knows a person is in the data picks the right record.",
  "risk-records-at-risk": "Share of remaining records whose prosecutor risk (1 / class size) is strictly above the threshold.",
  "risk-marketer": "Classes / records: the expected share of records an attacker re-identifies by linking every record.",
  "risk-classes": "Groups of records with identical generalized quasi-identifiers.",
  "risk-journalist-max": "1 / smallest population class size (estimated as class size / sampling fraction).",
  "risk-population-uniques": "Zayatz (1991) estimate of the population uniques, from the sample's class sizes.",
  "risk-avg-prosecutor": "Mean of 1 / class size over the remaining records."
};

function card(id: string, title: string, value: number, text: string, note = "", tone = ""): string {
  return `<div class="card risk-card ${tone}" title="${escapeHtml(DEFINITIONS[id] ?? "")}"><h2>${title}</h2><span class="big" id="${id}" data-value="${value}">${text}</span>${note ? `<div class="risk-card-note">${note}</div>` : ""}</div>`;
}

/** The headline figures; every number carries its exact value in data-value (tests compare them to the CLI). */
export function riskFigures(summary: RiskSummary): HTMLElement {
  const root = document.createElement("div");
  root.className = "risk-figures";
  root.id = "risk-figures";
  root.dataset.anonymous = String(summary.anonymous);
  // The settings these figures are for, so a reader (or a test) can tell fresh figures from stale ones.
  root.dataset.levels = JSON.stringify(summary.levels);
  root.dataset.k = String(summary.k);
  root.dataset.threshold = String(summary.threshold);
  const s = summary;
  const status =
    s.anonymous === null
      ? ""
      : s.anonymous
        ? `<p class="risk-verdict ok" id="risk-verdict">${s.k}-anonymous with ${integer(s.suppressed)} suppressed record${s.suppressed === 1 ? "" : "s"} (limit ${percent(s.suppressionLimit)}).</p>`
        : `<p class="risk-verdict bad" id="risk-verdict">Not ${s.k}-anonymous: ${integer(s.violatingRecords)} records are in classes smaller than ${s.k}, more than the suppression limit of ${percent(s.suppressionLimit)} (${integer(Math.floor(s.suppressionLimit * s.records))} records) allows; nothing is suppressed. Generalize further or raise the limit.</p>`;
  const j = s.journalist;
  root.innerHTML = `${status}
    <div class="grid grid-cols-4">
      ${card("risk-k", "k (smallest class)", s.minClassSize, integer(s.minClassSize), `${integer(s.classes)} classes · mean ${decimal(s.avgClassSize)} · max ${integer(s.maxClassSize)}`, s.k !== null && s.minClassSize < s.k ? "bad" : "")}
      ${card("risk-suppressed", "Suppressed records", s.suppressed, integer(s.suppressed), `of ${integer(s.records)} · ${integer(s.violatingRecords)} violate k`)}
      ${card("risk-max-prosecutor", "Highest prosecutor risk", s.maxProsecutorRisk, percent(s.maxProsecutorRisk), `average ${percent(s.avgProsecutorRisk)}`, s.maxProsecutorRisk > s.threshold ? "bad" : "")}
      ${card("risk-records-at-risk", "Records above threshold", s.recordsAtRisk, percent(s.recordsAtRisk), `risk &gt; ${percent(s.threshold)} · ${integer(s.uniqueRecords)} unique records`, s.recordsAtRisk > 0 ? "bad" : "")}
      ${card("risk-marketer", "Marketer risk", s.marketerRisk, percent(s.marketerRisk), "expected share of records re-identified by linking all")}
      ${card("risk-classes", "Equivalence classes", s.classes, integer(s.classes), `over ${integer(s.records - s.suppressed)} remaining records`)}
      ${
        j
          ? card("risk-journalist-max", "Journalist risk (max)", j.maxRisk, percent(j.maxRisk), `average ${percent(j.avgRisk)} · at risk ${percent(j.recordsAtRisk)} · k-map ${decimal(j.kMap)} (${escapeHtml(j.basis)})`, j.maxRisk > s.threshold ? "bad" : "")
          : `<div class="card risk-card muted"><h2>Journalist risk</h2><span class="big" id="risk-journalist-max">n/a</span><div class="risk-card-note">Give the sampling fraction (sample size ÷ population size) to estimate it.</div></div>`
      }
      ${
        s.populationUniqueness
          ? card("risk-population-uniques", "Population uniques (est.)", s.populationUniqueness.populationUniques, decimal(s.populationUniqueness.populationUniques), `${percent(s.populationUniqueness.fraction)} of the population · ${escapeHtml(s.populationUniqueness.estimator)}`)
          : card("risk-avg-prosecutor", "Average prosecutor risk", s.avgProsecutorRisk, percent(s.avgProsecutorRisk), "mean of 1 / class size over records")
      }
    </div>
    <p class="risk-note">${escapeHtml(s.note)}</p>`;
  return root;
}

/** l-diversity and t-closeness per sensitive attribute (over the remaining classes). */
export function sensitiveTable(summary: RiskSummary): HTMLElement {
  if (summary.sensitive.length === 0) {
    const p = document.createElement("p");
    p.innerHTML = "<i>No sensitive attribute in the data dictionary: mark diagnoses, results and the like as <code>sensitive</code> to check l-diversity and t-closeness.</i>";
    return p;
  }
  const table = document.createElement("table");
  table.className = "sensitive-table";
  const cell = (field: string, value: number | null, text: string) => `<td class="num" data-field="${field}" data-value="${value ?? ""}">${text}</td>`;
  table.innerHTML = `<thead><tr><th>Attribute</th><th class="num">Values</th><th class="num" title="smallest number of distinct values in a class">Distinct l</th><th class="num" title="smallest exp(entropy) over classes">Entropy l</th><th class="num" title="(c,l)-diversity holds for every c above this">Recursive (c,l): c &gt;</th><th class="num" title="largest earth mover's distance, equal ground distance">t (equal)</th><th class="num" title="largest earth mover's distance, ordered distance">t (ordered)</th></tr></thead>
  <tbody>${summary.sensitive
    .map(
      (a) => `<tr data-attribute="${escapeHtml(a.attribute)}"><th scope="row"><code>${escapeHtml(a.attribute)}</code></th>${cell("domain", a.domainSize, integer(a.domainSize))}${cell("distinct-l", a.distinctL, integer(a.distinctL))}${cell("entropy-l", a.entropyL, a.entropyL.toFixed(3))}${cell("recursive-c", a.recursiveC, a.recursiveC === null ? `∞ <small>(a class has &lt; ${a.recursiveL} values)</small>` : a.recursiveC.toFixed(3))}${cell("t-equal", a.tClosenessEqual, a.tClosenessEqual.toFixed(4))}${cell("t-ordered", a.tClosenessOrdered, a.tClosenessOrdered === null ? "n/a" : a.tClosenessOrdered.toFixed(4))}</tr>`
    )
    .join("")}</tbody>`;
  const single = summary.sensitive.filter((a) => a.distinctL <= 1).map((a) => a.attribute);
  if (single.length === 0) return table;
  const root = document.createElement("div");
  const note = document.createElement("p");
  note.className = "sensitive-warning";
  note.textContent = `Attribute disclosure: in some class every record has the same ${single.join(", ")} value, so anyone known to be in that class is known to have it (distinct l = 1). Generalize further or require l-diversity.`;
  root.append(table, note);
  return root;
}

const showValue = (v: SqlValue) => (v === null ? `<span class="missing">(missing)</span>` : escapeHtml(String(v)));

/**
 * The smallest classes with a button per class; the button shows that class's records below the
 * table (fetched on demand).
 */
export function smallestClassesTable(conn: SqlConnection, model: RiskModel, evaluation: RiskEvaluation, {recordLimit = 50}: {recordLimit?: number} = {}): HTMLElement {
  const root = document.createElement("div");
  root.className = "smallest-classes";
  const names = model.quasiIdentifiers.map((q) => q.name);
  const rows = evaluation.smallest;
  const below = rows.filter((c) => c.violates).length;
  root.innerHTML = `<p class="classes-caption">The ${integer(rows.length)} smallest equivalence classes, smallest first (${integer(evaluation.summary.classes)} classes remain after suppression${below ? `; ${integer(below)} of those listed are below k${evaluation.summary.suppressed ? " and suppressed" : ""}` : ""}).</p>
  <div class="smallest-scroll"><table class="classes-table">
    <thead><tr><th class="num">Size</th><th class="num">Risk</th>${names.map((n) => `<th>${escapeHtml(n)}</th>`).join("")}<th>Status</th><th><span class="sr-only">Records</span></th></tr></thead>
    <tbody>${rows
      .map(
        (c, i) => `<tr data-class="${i}" data-size="${c.size}"><td class="num">${integer(c.size)}</td><td class="num">${percent(c.prosecutorRisk)}</td>${names.map((n) => `<td>${showValue(c.labels[n])}</td>`).join("")}<td>${c.suppressed ? "suppressed" : c.violates ? `<span class="bad">below k</span>` : ""}</td>
        <td><button type="button" name="show-records" data-class="${i}" aria-controls="class-records">Show ${c.size === 1 ? "record" : `${integer(c.size)} records`}</button></td></tr>`
      )
      .join("")}</tbody></table></div>
    <div class="class-records" id="class-records" aria-live="polite"></div>`;
  const target = root.querySelector<HTMLElement>(".class-records")!;
  root.addEventListener("click", async (event) => {
    const button = (event.target as HTMLElement).closest<HTMLButtonElement>("button[name=show-records]");
    if (!button) return;
    const index = Number(button.dataset.class);
    const cls = rows[index];
    for (const tr of root.querySelectorAll("tr.selected")) tr.classList.remove("selected");
    button.closest("tr")!.classList.add("selected");
    target.replaceChildren(progressNotice("Fetching the records…"));
    try {
      const result = await recordsOfClass(conn, model.freq, evaluation.settings.levels, cls.labels, {limit: recordLimit});
      const qiSet = new Set(names);
      target.dataset.class = String(index);
      target.dataset.total = String(result.total);
      target.innerHTML = `<h3>Records of the class ${names.map((n) => `${escapeHtml(n)} = ${showValue(cls.labels[n])}`).join(", ")}</h3>
        <p>${integer(result.total)} record${result.total === 1 ? "" : "s"}${result.total > result.rows.length ? `; the first ${result.rows.length} shown` : ""}. Quasi-identifier columns are highlighted; values are the originals, before generalization.</p>
        <div class="smallest-scroll"><table class="records-table"><thead><tr><th class="num">Row</th>${result.columns.map((c) => `<th class="${qiSet.has(c) ? "qi" : ""}">${escapeHtml(c)}</th>`).join("")}</tr></thead>
        <tbody>${result.rows.map((r) => `<tr><td class="num">${r.__record}</td>${result.columns.map((c) => `<td class="${qiSet.has(c) ? "qi" : ""}">${showValue(r[c])}</td>`).join("")}</tr>`).join("")}</tbody></table></div>`;
    } catch (error) {
      target.innerHTML = `<p class="bad">${escapeHtml((error as Error).message)}</p>`;
    }
  });
  return root;
}

/** Which dataset and dictionary the figures are about, with a link to review the dictionary. */
export function datasetLine(session: {name: string; rows: number; dictionaryIsProposal: boolean}): HTMLElement {
  const div = document.createElement("div");
  div.className = "dataset-line";
  div.innerHTML = `Dataset: <strong id="dataset-name">${escapeHtml(session.name)}</strong> · <span id="dataset-rows">${integer(session.rows)}</span> rows · data dictionary: ${
    session.dictionaryIsProposal ? `<a href="./dictionary">the proposal, not reviewed yet</a>` : `<a href="./dictionary">saved</a>`
  }`;
  return div;
}

export function uniqueRecordsHeadline(summary: RiskSummary): HTMLElement {
  const h = document.createElement("h3");
  h.id = "risk-unique-records";
  h.dataset.value = String(summary.uniqueRecords);
  h.textContent = `${integer(summary.uniqueRecords)} record${summary.uniqueRecords === 1 ? " is" : "s are"} unique on all quasi-identifiers`;
  return h;
}

/** Why the dashboard cannot be computed, with the way out. */
export function riskProblem(error: unknown): HTMLElement {
  const div = document.createElement("div");
  div.className = "risk-problem";
  div.setAttribute("role", "alert");
  div.innerHTML = `<p><strong>The risk cannot be computed with the current data dictionary.</strong></p><p>${escapeHtml(error instanceof Error ? error.message : String(error))}</p><p><a href="./dictionary">Review the data dictionary</a> (roles and hierarchies), then come back.</p>`;
  return div;
}

/** The `deid-workbench risk --config` file that reproduces the dashboard's figures (input resolved next to it). */
export function riskCliConfig(datasetName: string, dictionary: DataDictionary, settings: RiskSettings): object {
  return {input: datasetName, dictionary, levels: settings.levels, k: settings.k, suppression: settings.suppressionLimit, threshold: settings.threshold};
}

export function riskCliCommand(settings: RiskSettings, configFile = "risk-config.json"): string {
  return `node bin/deid-workbench.js risk --config ${configFile} --json --classes 25${settings.samplingFraction === null ? "" : ` --sampling-fraction ${settings.samplingFraction}`}`;
}

/** A collapsible block with the CLI command and config that print the same figures, and a download of the config. */
export function cliReproduction(datasetName: string, dictionary: DataDictionary, settings: RiskSettings): HTMLElement {
  const details = document.createElement("details");
  details.className = "cli-reproduction";
  const config = JSON.stringify(riskCliConfig(datasetName, dictionary, settings), null, 2) + "\n";
  details.innerHTML = `<summary>Reproduce these figures with the command line</summary>
    <p>Save the configuration next to <code>${escapeHtml(datasetName)}</code> and run:</p>
    <pre id="risk-cli-command">${escapeHtml(riskCliCommand(settings))}</pre>
    <button type="button" name="download-config">Download risk-config.json</button>
    <pre id="risk-cli-config">${escapeHtml(config)}</pre>`;
  details.querySelector("button")!.addEventListener("click", () => {
    const url = URL.createObjectURL(new Blob([config], {type: "application/json"}));
    const a = document.createElement("a");
    a.href = url;
    a.download = "risk-config.json";
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  });
  return details;
}
