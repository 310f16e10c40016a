import type {DataDictionary} from "../lib/data-dictionary.js";
import type {ExportChoices} from "../lib/export-config.js";
import {builtinHierarchy, type ReferenceTables} from "../lib/hierarchies.js";
import {deriveKeys, deriveKeysFromPassphrase, deriveKeysFromSecret, formatKeyFile, generateSecret, parseKeyFile, type RunKeys} from "../lib/keys.js";
import type {FieldSpec, TransformAction, TransformConfig} from "../lib/transform-config.js";
import type {ExportResult, ExportStep} from "../../workers/export.worker.js";
import {Comlink, type ExportClient} from "./export-client.js";
import type {ChosenConfiguration} from "./workspace-session.js";

export interface ExportPageOptions {
  client: ExportClient;
  /** The dataset exactly as the CLI would read it. */
  dataset: {name: string; delimiter: string; bytes: Uint8Array; rows: number; columns: string[]};
  dictionary: DataDictionary;
  dictionaryIsProposal: boolean;
  chosen: ChosenConfiguration | null;
  refs: ReferenceTables;
  arxFiles: Record<string, string>;
}

const STEPS: ExportStep[] = ["fingerprint input", "transform", "measure", "report", "zip"];
const MIN_PASSPHRASE = 12;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"})[c]!);
const fmtBytes = (n: number) => (n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KB` : `${(n / 1024 / 1024).toFixed(1)} MB`);
const todayUtc = () => new Date().toISOString().slice(0, 10);
const nowUtc = () => new Date().toISOString().replace(/\.\d{3}Z$/, "Z");

function describeAction(field: FieldSpec, config: TransformConfig, refs: ReferenceTables): string {
  const t = field.transform;
  const topCode = "topCodeAge" in t && t.topCodeAge ? "; ages over 89 → 90+" : "";
  switch (t.action) {
    case "keep":
      return `kept${topCode}`;
    case "remove":
      return "column removed";
    case "redact":
      return t.replacement == null ? "every value blanked" : `every value → "${t.replacement}"`;
    case "mask":
      return `masked with "${t.maskChar ?? "*"}"${t.keepPrefix ? `, first ${t.keepPrefix} kept` : ""}${t.keepSuffix ? `, last ${t.keepSuffix} kept` : ""}`;
    case "pseudonymize":
      return `keyed token ${t.prefix ?? ""}… (domain ${t.domain ?? "default"})`;
    case "date-shift":
      return `shifted per patient by ±1–${config.dateShift.maxDays} days${topCode}`;
    case "generalize": {
      const level = t.level ?? config.levels[field.name];
      const spec = field.hierarchy ? config.hierarchies[field.hierarchy] : undefined;
      let names: string[] | undefined;
      let height = spec?.kind === "table" ? spec.rows[0].length : undefined;
      if (spec?.kind === "builtin") {
        try {
          const h = builtinHierarchy(spec.spec, refs);
          names = h.levelNames;
          height = h.height;
        } catch {
          names = undefined;
        }
      }
      if (level === 0) return `original values${topCode}`;
      if (height !== undefined && level >= height - 1) return `every value "*"`;
      return `${names?.[level] ?? `level ${level}`}${topCode}`;
    }
    case "suppress":
      return `every value "*"`;
  }
}

function download(name: string, bytes: Uint8Array | string, type: string): string {
  return URL.createObjectURL(new Blob([bytes as BlobPart], {type}));
}

/**
 * The Export page: the configuration that will be applied (drafted from the dictionary and the
 * Explorer's levels, or an imported config.json), the key, and the one-click export with progress.
 */
export async function createExportPage(options: ExportPageOptions): Promise<HTMLElement> {
  const {client, dataset, refs} = options;
  const api = client.api;
  if (dataset.bytes.length === 0) {
    const box = document.createElement("div");
    box.className = "export-error";
    box.setAttribute("role", "alert");
    box.textContent = `The stored copy of ${dataset.name} is empty, so there is nothing to export. Load the file again on the Data page.`;
    return box;
  }
  const actionsByRole = await api.actionsByRole();
  // the worker keeps the bytes (transferred: a large file is not held twice)
  const sha256 = await api.setDataset(Comlink.transfer(dataset.bytes, [dataset.bytes.buffer as ArrayBuffer]), dataset.name, dataset.delimiter);

  const root = document.createElement("div");
  root.className = "export-page";
  root.innerHTML = `
  <div class="grid grid-cols-3" id="export-dataset">
    <div class="card"><h2>Dataset</h2><span class="big" id="export-dataset-name">${escapeHtml(dataset.name)}</span></div>
    <div class="card"><h2>Records × columns</h2><span class="big">${dataset.rows.toLocaleString("en-US")} × ${dataset.columns.length}</span></div>
    <div class="card"><h2>SHA-256 of the file</h2><code id="input-sha256" class="hash" title="${sha256}">${sha256.slice(0, 16)}…</code></div>
  </div>

  <h2 id="configuration">1. Configuration</h2>
  <p class="config-source" id="config-source"></p>
  <div class="row">
    <label class="file-button">Import a config.json <input type="file" name="config-file" accept=".json,application/json"></label>
    <button type="button" name="use-draft" hidden>Back to the configuration from the dictionary</button>
    <a id="download-config" class="button" href="#" hidden title="Bound to this file, the key and the export time below: deid-workbench apply with it, the same key and --time writes the same package">Download config.json (for the CLI)</a>
  </div>
  <div class="export-error" id="config-error" role="alert" hidden></div>
  <div class="export-note" id="levels-note" hidden></div>
  <form class="row model" id="privacy-model">
    <label>k (smallest class) <input type="number" name="k" min="1" step="1"></label>
    <label>Suppression limit (% of records) <input type="number" name="suppression" min="0" max="100" step="0.5"></label>
    <label>Risk threshold <input type="number" name="threshold" min="0.001" max="1" step="0.01"></label>
    <button type="button" name="find-levels">Find least-loss levels</button>
    <label>Reference date for ages <input type="date" name="reference-date"></label>
    <label>Date shift up to (days) <input type="number" name="max-days" min="1" max="36500" step="1"></label>
    <label class="inline"><input type="checkbox" name="keep-time"> keep time of day</label>
  </form>
  <div id="model-check" role="status" hidden></div>
  <div class="table-scroll"><table id="config-fields">
    <thead><tr><th>Field</th><th>Role</th><th>Type</th><th>Action</th><th>Hierarchy</th><th>Level</th><th>What is released</th><th>Safe Harbor</th></tr></thead>
    <tbody></tbody>
  </table></div>

  <h2 id="key">2. Secret key</h2>
  <p class="hint">Pseudonym tokens and date shifts are computed with a secret key (HMAC-SHA-256). The key stays in this
  browser as a non-extractable WebCrypto key; only its fingerprint is shown and recorded. Keep the key apart from the released data:
  whoever holds it can re-link tokens and undo date shifts.</p>
  <div id="key-needed">
  <div class="row" role="radiogroup">
    <label class="inline"><input type="radio" name="key-source" value="key-file" checked> Key file</label>
    <label class="inline"><input type="radio" name="key-source" value="passphrase"> Passphrase</label>
  </div>
  <div class="row" id="key-file-row">
    <label class="file-button">Import a key file <input type="file" name="key-file"></label>
    <button type="button" name="new-key">Create a new key file</button>
  </div>
  <form class="row" id="passphrase-row" hidden>
    <label>Passphrase <input type="password" name="passphrase" autocomplete="new-password"></label>
    <label>Repeat it <input type="password" name="passphrase2" autocomplete="new-password"></label>
    <button type="submit" name="use-passphrase">Use this passphrase</button>
  </form>
  <div class="export-error" id="key-error" role="alert" hidden></div>
  <p id="key-status" class="key-status">No key yet.</p>
  </div>
  <p id="key-not-needed" hidden>This configuration neither pseudonymizes nor shifts dates: no key is needed.</p>

  <h2 id="export">3. Export</h2>
  <div class="row">
    <label>Export time (UTC) <input type="text" name="export-time" placeholder="now, e.g. ${nowUtc()}" size="24"></label>
    <button type="button" name="export" class="primary">Export package</button>
  </div>
  <p class="hint">The export time is the only time written into the package (audit trail, report). The same data,
  configuration, key and export time give a byte-identical package here and with <code>deid-workbench apply</code>.</p>
  <div class="export-error" id="ready-error" role="alert" hidden></div>
  <div id="export-progress-box" hidden>
    <progress id="export-progress" max="${STEPS.length}" value="0"></progress>
    <ol id="export-steps">${STEPS.map((s) => `<li data-step="${s}"><span class="step-name">${s}</span> <span class="detail"></span></li>`).join("")}</ol>
  </div>
  <div class="export-error" id="export-error" role="alert" hidden></div>
  <div id="export-result" hidden></div>`;

  const $ = <T extends Element = HTMLElement>(selector: string) => root.querySelector<T & Element>(selector)! as T;
  const configError = $("#config-error");
  const keyError = $("#key-error");
  const readyError = $("#ready-error");
  const exportError = $("#export-error");
  const exportButton = $<HTMLButtonElement>("button[name=export]");
  const downloadConfig = $<HTMLAnchorElement>("#download-config");
  const model = $<HTMLFormElement>("#privacy-model");
  const input = (name: string) => model.querySelector<HTMLInputElement>(`input[name=${name}]`)!;
  const show = (box: HTMLElement, message: string | null) => {
    box.hidden = !message;
    box.textContent = message ?? "";
  };

  // ---------------------------------------------------------------------------------------------
  // State

  const chosen = options.chosen;
  const choices: ExportChoices = {
    levels: chosen?.levels ? {...chosen.levels} : undefined,
    k: chosen?.k ?? 5,
    suppressionLimit: chosen?.suppressionLimit ?? 0.05,
    riskThreshold: chosen?.threshold ?? 0.2,
    actions: {},
    maxShiftDays: 365,
    keepTimeOfDay: false
  };
  let referenceDate = todayUtc();
  let levelsSource: "explorer" | "search" | "defaults" | "edited" = chosen?.levels ? "explorer" : "defaults";
  let searchedFor = {k: choices.k!, suppressionLimit: choices.suppressionLimit!};
  let mode: "draft" | "imported" = "draft";
  let importedName = "";
  let config: TransformConfig | null = null;
  let keys: RunKeys | null = null;
  let keySource: "key-file" | "passphrase" = "key-file";
  let passphraseSalt: Uint8Array | undefined;
  let busy = false;
  let urls: string[] = [];

  input("k").value = String(choices.k);
  input("suppression").value = String(+(choices.suppressionLimit! * 100).toFixed(4));
  input("threshold").value = String(choices.riskThreshold);
  input("reference-date").value = referenceDate;
  input("max-days").value = String(choices.maxShiftDays);
  input("keep-time").checked = !!choices.keepTimeOfDay;

  const qisForSearch = () =>
    options.dictionary.fields
      .filter((f) => f.role === "quasi-identifier" && f.hierarchy && (choices.actions?.[f.name] ?? "generalize") === "generalize")
      .map((f) => ({name: f.name, hierarchy: f.hierarchy!}));

  let searchProblem = "";
  async function findLevels(): Promise<void> {
    const qis = qisForSearch();
    if (qis.length === 0) return;
    if (qis.some((q) => /\.csv$/i.test(q.hierarchy))) {
      searchProblem = "the search here handles built-in hierarchies only; choose the levels on the Explorer page or edit them below";
      return;
    }
    const note = $("#levels-note");
    note.hidden = false;
    note.textContent = `Searching the least-loss levels for k = ${choices.k} with at most ${+(choices.suppressionLimit! * 100).toFixed(2)} % of records suppressed…`;
    const found = await api.findLevels(qis, choices.k!, choices.suppressionLimit!, refs);
    searchedFor = {k: choices.k!, suppressionLimit: choices.suppressionLimit!};
    if (found.ok && found.value) {
      choices.levels = found.value;
      levelsSource = "search";
      searchProblem = "";
    } else {
      choices.levels = undefined;
      levelsSource = "defaults";
      searchProblem = found.ok
        ? `no levels meet k = ${choices.k} with at most ${+(choices.suppressionLimit! * 100).toFixed(2)} % suppressed records, not even the top ones: lower k or raise the suppression limit`
        : `the search failed: ${found.error}`;
    }
  }

  function describeSource(): string {
    if (mode === "imported") return `Imported <strong>${escapeHtml(importedName)}</strong>. It is applied as it is; import another file or go back to the configuration drafted from the data dictionary.`;
    const dict = options.dictionaryIsProposal
      ? "the <em>proposed</em> data dictionary (no dictionary was saved for this dataset in this browser; review it on the Dictionary page)"
      : "the data dictionary saved for this dataset";
    const levels = {
      explorer: "the levels chosen on the Explorer page",
      search: `the least-loss levels meeting k = ${searchedFor.k} with at most ${+(searchedFor.suppressionLimit * 100).toFixed(2)} % suppressed records (${chosen?.levels ? "searched here" : "no levels were chosen on the Explorer page"})`,
      defaults: `starting levels (no levels were chosen on the Explorer page${searchProblem ? `; ${escapeHtml(searchProblem)}` : ""})`,
      edited: "levels edited here"
    }[levelsSource];
    const warning = options.dictionaryIsProposal
      ? `<span class="export-warning" id="proposal-warning">The roles below were guessed from column names and values and nobody has reviewed them yet; the audit trail will say so. Review them before certifying.</span> `
      : "";
    return `${warning}Drafted from ${dict} and ${levels}. Change actions, levels and the privacy model below, or import a config.json.`;
  }

  function renderFields() {
    const tbody = root.querySelector("#config-fields tbody")!;
    tbody.innerHTML = "";
    if (!config) return;
    const editable = mode === "draft";
    for (const field of config.inputs[0].fields) {
      const tr = document.createElement("tr");
      tr.dataset.field = field.name;
      const spec = field.hierarchy ? config.hierarchies[field.hierarchy] : undefined;
      const hierarchyText = spec ? (spec.kind === "builtin" ? spec.spec : `table (${spec.rows.length} values)`) : "";
      let height: number | null = null;
      if (spec) {
        try {
          height = spec.kind === "builtin" ? builtinHierarchy(spec.spec, refs).height : spec.rows[0].length;
        } catch {
          height = null;
        }
      }
      const level = field.transform.action === "generalize" ? (field.transform.level ?? config.levels[field.name]) : undefined;
      const actionCell = editable
        ? `<select name="action" aria-label="action for ${escapeHtml(field.name)}">${actionsByRole[field.role].map((a) => `<option value="${a}"${a === field.transform.action ? " selected" : ""}>${a}</option>`).join("")}</select>`
        : escapeHtml(field.transform.action);
      const levelCell =
        level === undefined
          ? ""
          : editable
            ? `<input type="number" name="level" min="0" ${height ? `max="${height - 1}"` : ""} value="${level}" aria-label="level for ${escapeHtml(field.name)}"> ${height ? `<span class="of">of ${height - 1}</span>` : ""}`
            : `${level}${height ? ` <span class="of">of ${height - 1}</span>` : ""}`;
      tr.innerHTML = `<td><code>${escapeHtml(field.name)}</code></td><td class="role role-${field.role}">${field.role}</td><td>${field.type}</td>
        <td data-field="action">${actionCell}</td><td>${escapeHtml(hierarchyText)}</td><td data-field="level">${levelCell}</td>
        <td data-field="released">${escapeHtml(describeAction(field, config, refs))}</td><td>${field.phiCategory ?? ""}</td>`;
      tbody.append(tr);
    }
    for (const select of tbody.querySelectorAll<HTMLSelectElement>("select[name=action]")) {
      select.addEventListener("change", () => {
        const name = select.closest("tr")!.dataset.field!;
        choices.actions![name] = select.value as TransformAction;
        void refresh();
      });
    }
    for (const levelInput of tbody.querySelectorAll<HTMLInputElement>("input[name=level]")) {
      levelInput.addEventListener("change", () => {
        const name = levelInput.closest("tr")!.dataset.field!;
        const n = Number(levelInput.value);
        if (!Number.isInteger(n) || n < 0) return;
        choices.levels = {...(choices.levels ?? {}), ...Object.fromEntries(config!.inputs[0].fields.filter((f) => f.transform.action === "generalize").map((f) => [f.name, config!.levels[f.name] ?? 0])), [name]: n};
        levelsSource = "edited";
        void refresh();
      });
    }
  }

  function renderKeyStatus() {
    const needed = config ? config.inputs.some((i) => i.fields.some((f) => f.transform.action === "pseudonymize" || f.transform.action === "date-shift")) : true;
    $("#key-needed").hidden = !needed;
    $("#key-not-needed").hidden = needed;
    const status = $("#key-status");
    const derivation = config?.keys?.derivation;
    if (derivation && mode === "imported") {
      const radio = root.querySelector<HTMLInputElement>(`input[name=key-source][value=${derivation.source}]`)!;
      if (!radio.checked) {
        radio.checked = true;
        setKeySource(derivation.source);
      }
    }
    if (!keys) {
      status.innerHTML = derivation
        ? `No key yet. This configuration expects the ${derivation.source === "key-file" ? "key file" : "passphrase"} with pseudonym key fingerprint <code>${config!.keys!.fingerprints.pseudonym ?? "–"}</code>.`
        : "No key yet.";
      status.className = "key-status";
      return;
    }
    const expected = config?.keys?.fingerprints;
    const matches = !expected || ((!expected.pseudonym || expected.pseudonym === keys.fingerprints.pseudonym) && (!expected["date-shift"] || expected["date-shift"] === keys.fingerprints["date-shift"]));
    status.className = `key-status ${matches ? "ok" : "bad"}`;
    status.innerHTML = `Key ready (${keys.derivation.source === "key-file" ? "key file" : "passphrase, PBKDF2-HMAC-SHA256"}). Fingerprints: pseudonym <code id="fingerprint-pseudonym">${keys.fingerprints.pseudonym}</code>, date shift <code id="fingerprint-date-shift">${keys.fingerprints["date-shift"]}</code>${
      expected ? (matches ? " — matches the configuration." : " — <strong>does not match the configuration</strong>.") : "."
    }`;
  }

  /** Column problems an imported config would hit (every column must be listed, every listed field present). */
  function columnProblems(config: TransformConfig): string[] {
    const fields = config.inputs[0].fields.map((f) => f.name);
    const missing = fields.filter((f) => !dataset.columns.includes(f));
    const unlisted = dataset.columns.filter((c) => !fields.includes(c));
    const problems: string[] = [];
    if (missing.length) problems.push(`the configuration lists field(s) ${missing.map((m) => `"${m}"`).join(", ")} that ${dataset.name} does not have`);
    if (unlisted.length) problems.push(`${dataset.name} has column(s) ${unlisted.map((m) => `"${m}"`).join(", ")} that the configuration does not list; every column must say what happens to it`);
    return problems;
  }

  let keyForCli: Pick<RunKeys, "derivation" | "fingerprints"> | undefined;
  // built when clicked: bound to this file, the key (once it is ready) and the export time, so the CLI
  // given this config.json, the same key and the same --time writes the package this page would
  downloadConfig.addEventListener("click", async (event) => {
    event.preventDefault();
    if (!config) return;
    const exportTime = readExportTime();
    if (!exportTime) return;
    const text = await api.bindConfig(configForExport(config, exportTime), sha256, keyForCli);
    const a = document.createElement("a");
    a.href = download("config.json", text, "application/json");
    a.download = "config.json";
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  });

  let modelProblem: string | null = null;
  let checkSeq = 0;
  /** Evaluate the privacy model at the configured levels, as the export will, and say what it means. */
  async function checkModel(): Promise<void> {
    const box = $("#model-check");
    modelProblem = null;
    if (!config || columnProblems(config).length) {
      box.hidden = true;
      return;
    }
    const seq = ++checkSeq;
    box.hidden = false;
    box.className = "export-note";
    box.textContent = "Checking the privacy model at these levels…";
    const checked = await api.checkModel(config, refs);
    if (seq !== checkSeq) return;
    if (!checked.ok) {
      modelProblem = checked.error;
      box.className = "export-error";
      box.textContent = checked.error;
      return;
    }
    const c = checked.value;
    const pm = config.privacyModel;
    const fmt = (n: number) => n.toLocaleString("en-US");
    if (!c) {
      box.className = "export-note";
      box.textContent = "No quasi-identifier is released as a value: the privacy model has nothing to check.";
    } else if (c.anonymous === false) {
      modelProblem = `At these levels ${fmt(c.violatingRecords)} of ${fmt(c.records)} records violate the privacy model${pm.k ? ` (k = ${pm.k})` : ""}, but the suppression limit allows ${fmt(c.limit)}. Raise the levels or the suppression limit${mode === "draft" ? ", or use “Find least-loss levels”" : ""}.`;
      box.className = "export-error";
      box.textContent = modelProblem;
    } else {
      box.className = "export-note export-ok";
      box.textContent =
        c.violatingRecords === 0
          ? `At these levels every record meets the privacy model${pm.k ? ` (k = ${pm.k})` : ""}; none is suppressed.`
          : `At these levels ${fmt(c.violatingRecords)} of ${fmt(c.records)} records violate the privacy model${pm.k ? ` (k = ${pm.k})` : ""}; they will be suppressed (the limit allows ${fmt(c.limit)}).`;
    }
  }

  async function refreshReady(): Promise<void> {
    downloadConfig.hidden = !config;
    if (!config) {
      exportButton.disabled = true;
      show(readyError, null);
      return;
    }
    const problems = [...columnProblems(config), ...(modelProblem ? ["the privacy model is not met at these levels (see above)"] : []), ...(await api.checkReady(config, sha256, dataset.name, keys ?? undefined))];
    exportButton.disabled = busy || problems.length > 0;
    show(readyError, problems.length ? problems.join("\n") : null);
    // a missing key is a step still to do, not an error
    readyError.className = !keys && problems.length === 1 && problems[0].includes("give a key file or a passphrase") ? "todo" : "export-error";
    keyForCli = keys && problems.length === 0 ? {derivation: keys.derivation, fingerprints: keys.fingerprints} : undefined;
  }

  /** A shown package no longer matches what would be exported now. */
  function invalidateResult() {
    if (busy) return;
    $("#export-result").hidden = true;
    $("#export-progress-box").hidden = true;
    show(exportError, null);
  }

  async function refresh(): Promise<void> {
    invalidateResult();
    if (mode === "draft") {
      const drafted = await api.draftConfig({
        dictionary: options.dictionary,
        file: dataset.name,
        delimiter: dataset.delimiter,
        referenceDate,
        choices,
        refs,
        arxFiles: options.arxFiles
      });
      if (drafted.ok) {
        config = drafted.value.config;
        show(configError, null);
      } else {
        config = null;
        show(configError, `The configuration is not valid: ${drafted.error}`);
      }
    }
    model.querySelectorAll("input, button").forEach((el) => ((el as HTMLInputElement).disabled = mode !== "draft"));
    $("button[name=use-draft]").hidden = mode === "draft";
    $("#config-source").innerHTML = describeSource();
    if (config && mode === "imported") {
      input("k").value = String(config.privacyModel.k ?? "");
      input("suppression").value = String(+(config.privacyModel.suppressionLimit * 100).toFixed(4));
      input("threshold").value = String(config.privacyModel.riskThreshold);
      input("reference-date").value = config.referenceDate;
      input("max-days").value = String(config.dateShift.maxDays);
      input("keep-time").checked = config.dateShift.keepTimeOfDay;
    }
    $("#levels-note").hidden = true;
    renderFields();
    renderKeyStatus();
    await checkModel();
    await refreshReady();
  }

  // ---------------------------------------------------------------------------------------------
  // Configuration inputs

  model.addEventListener("submit", (e) => e.preventDefault());
  model.addEventListener("change", async (event) => {
    const target = event.target as HTMLInputElement;
    const number = target.value.trim() === "" ? NaN : Number(target.value);
    const invalid = (message: string) => show(configError, `${message}; the configuration still uses the previous value.`);
    switch (target.name) {
      case "k":
        if (!(Number.isInteger(number) && number >= 1)) return invalid(`k must be a whole number of at least 1, got "${target.value}"`);
        choices.k = number;
        break;
      case "suppression":
        if (!(number >= 0 && number <= 100)) return invalid(`the suppression limit must be a percentage from 0 to 100, got "${target.value}"`);
        choices.suppressionLimit = number / 100;
        break;
      case "threshold":
        if (!(number > 0 && number <= 1)) return invalid(`the risk threshold must be a probability above 0 and at most 1 (0.2 = classes smaller than 5), got "${target.value}"`);
        choices.riskThreshold = number;
        break;
      case "reference-date":
        if (!/^\d{4}-\d{2}-\d{2}$/.test(target.value)) return invalid("the reference date must be a full date");
        referenceDate = target.value;
        break;
      case "max-days":
        if (!(Number.isInteger(number) && number >= 1 && number <= 36500)) return invalid(`the largest date shift must be a whole number of days from 1 to 36,500, got "${target.value}"`);
        choices.maxShiftDays = number;
        break;
      case "keep-time":
        choices.keepTimeOfDay = target.checked;
        break;
      default:
        return;
    }
    // levels the page found itself follow the model; the Explorer's or hand-edited ones stay
    if ((target.name === "k" || target.name === "suppression") && (levelsSource === "search" || levelsSource === "defaults")) await findLevels();
    await refresh();
  });
  $("button[name=find-levels]").addEventListener("click", async () => {
    await findLevels();
    await refresh();
  });

  const configFile = $<HTMLInputElement>("input[name=config-file]");
  configFile.addEventListener("change", async () => {
    const file = configFile.files?.[0];
    if (!file) return;
    configFile.value = "";
    const parsed = await api.parseConfig(await file.text(), file.name);
    if (!parsed.ok) {
      show(configError, `${parsed.error}\nThe configuration shown below is unchanged.`);
      return;
    }
    mode = "imported";
    importedName = file.name;
    config = parsed.value.config;
    show(configError, null);
    await refresh();
  });
  $("button[name=use-draft]").addEventListener("click", async () => {
    mode = "draft";
    show(configError, null);
    await refresh();
  });

  // ---------------------------------------------------------------------------------------------
  // Key

  function setKeySource(source: "key-file" | "passphrase") {
    keySource = source;
    $("#key-file-row").hidden = source !== "key-file";
    $("#passphrase-row").hidden = source !== "passphrase";
  }
  for (const radio of root.querySelectorAll<HTMLInputElement>("input[name=key-source]")) {
    radio.addEventListener("change", () => {
      setKeySource(radio.value as "key-file" | "passphrase");
      show(keyError, null);
    });
  }
  async function useKeys(derive: () => Promise<RunKeys>) {
    show(keyError, null);
    invalidateResult();
    try {
      keys = await derive();
    } catch (error) {
      keys = null;
      show(keyError, error instanceof Error ? error.message : String(error));
    }
    renderKeyStatus();
    await refreshReady();
  }
  const keyFile = $<HTMLInputElement>("input[name=key-file]");
  keyFile.addEventListener("change", async () => {
    const file = keyFile.files?.[0];
    if (!file) return;
    keyFile.value = "";
    const text = await file.text();
    await useKeys(async () => deriveKeysFromSecret(parseKeyFile(text, file.name)));
  });
  $("button[name=new-key]").addEventListener("click", async () => {
    const secret = generateSecret();
    const a = document.createElement("a");
    a.href = download("deid-workbench.key", formatKeyFile(secret), "application/json");
    a.download = "deid-workbench.key";
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
    await useKeys(() => deriveKeysFromSecret(secret));
    secret.fill(0);
    const status = $("#key-status");
    status.insertAdjacentHTML("beforeend", " A new key file <code>deid-workbench.key</code> was downloaded: keep it safe and apart from the package; you need it to reproduce this export.");
  });
  $<HTMLFormElement>("#passphrase-row").addEventListener("submit", async (e) => {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const pass = form.querySelector<HTMLInputElement>("input[name=passphrase]")!;
    const pass2 = form.querySelector<HTMLInputElement>("input[name=passphrase2]")!;
    if (pass.value.length < MIN_PASSPHRASE) return show(keyError, `The passphrase must have at least ${MIN_PASSPHRASE} characters.`);
    if (pass.value !== pass2.value) return show(keyError, "The two passphrases differ.");
    const value = pass.value;
    pass.value = pass2.value = "";
    const status = $("#key-status");
    status.textContent = "Deriving the key (PBKDF2, 600,000 iterations)…";
    const derivation = config?.keys?.derivation;
    await useKeys(async () => {
      if (derivation?.source === "passphrase") return deriveKeys(derivation, {passphrase: value});
      passphraseSalt ??= crypto.getRandomValues(new Uint8Array(16));
      return deriveKeysFromPassphrase(value, {salt: passphraseSalt});
    });
  });

  // ---------------------------------------------------------------------------------------------
  // Export

  const progress = $<HTMLProgressElement>("#export-progress");
  function setStep(step: ExportStep, detail: string) {
    const index = STEPS.indexOf(step);
    progress.value = index;
    root.querySelectorAll<HTMLLIElement>("#export-steps li").forEach((li, i) => {
      li.className = i < index ? "done" : i === index ? "active" : "";
      if (i === index) li.querySelector(".detail")!.textContent = detail;
    });
  }

  /**
   * The config as it will be applied. A drafted one gets an audit event saying how it came about
   * (field names and sources only, no values), stamped with the export time.
   */
  function configForExport(config: TransformConfig, exportTime: string): TransformConfig {
    if (mode !== "draft") return config;
    return {
      ...config,
      history: [
        ...(config.history ?? []),
        {
          time: exportTime,
          step: "configuration",
          inputs: [{name: dataset.name, sha256}],
          // keys in sorted order, as in the package's canonical config.json: audit.jsonl writes
          // history events in object key order, and a rerun from config.json must give the same bytes
          details: {
            actionsChanged: Object.entries(choices.actions ?? {}).map(([name, action]) => `${name}=${action}`).sort(),
            dictionary: options.dictionaryIsProposal ? "proposed by the workbench (not saved after review)" : "saved in this browser",
            levels: {explorer: "chosen on the Explorer page", search: "least-loss search on the export page", defaults: "starting defaults", edited: "edited on the export page"}[levelsSource],
            via: "export page"
          }
        }
      ]
    };
  }

  /** The export time field's value, else now; null (with the error shown) when it is malformed. */
  function readExportTime(): string | null {
    const timeField = root.querySelector<HTMLInputElement>("input[name=export-time]")!;
    const exportTime = timeField.value.trim() || nowUtc();
    if (!ISO_TIME.test(exportTime)) {
      show(exportError, `The export time must be ISO 8601 UTC to the second, like ${nowUtc()}; got ${JSON.stringify(exportTime)}.`);
      return null;
    }
    return exportTime;
  }

  exportButton.addEventListener("click", async () => {
    if (!config || busy) return;
    const exportTime = readExportTime();
    if (!exportTime) return;
    busy = true;
    exportButton.disabled = true;
    show(exportError, null);
    const result = $("#export-result");
    result.hidden = true;
    for (const url of urls) URL.revokeObjectURL(url);
    urls = [];
    $("#export-progress-box").hidden = false;
    root.querySelectorAll<HTMLLIElement>("#export-steps li").forEach((li) => ((li.className = ""), (li.querySelector(".detail")!.textContent = "")));
    const started = performance.now();
    try {
      const applied = configForExport(config, exportTime);
      const outcome = await api.exportPackage(
        {config: applied, keys: keys ?? undefined, refs, exportTime},
        Comlink.proxy((step: ExportStep, detail: string) => setStep(step, detail))
      );
      if (!outcome.ok) throw new Error(outcome.error);
      progress.value = STEPS.length;
      root.querySelectorAll<HTMLLIElement>("#export-steps li").forEach((li) => (li.className = "done"));
      renderResult(outcome.value, exportTime, (performance.now() - started) / 1000);
    } catch (error) {
      const active = root.querySelector<HTMLLIElement>("#export-steps li.active");
      if (active) active.className = "failed";
      show(exportError, `Export failed: ${error instanceof Error ? error.message : String(error)}\nNothing was written.`);
    } finally {
      busy = false;
      await refreshReady();
    }
  });

  function renderResult(value: ExportResult, exportTime: string, seconds: number) {
    const base = `${value.config.inputs[0].table}-deid-${exportTime.replace(/[-:]/g, "")}`;
    const zipUrl = download(`${base}.zip`, value.zip, "application/zip");
    const files = new Map(value.files);
    const reportUrl = download("report.html", files.get("report.html")!, "text/html");
    const configUrl = download("config.json", files.get("config.json")!, "application/json");
    urls.push(zipUrl, reportUrl, configUrl);
    const sums = new TextDecoder().decode(files.get("SHA256SUMS")).trim().split("\n").map((line) => line.split("  ")).map(([hash, name]) => [name, hash]);
    const sumOf = new Map(sums as [string, string][]);
    const audit = new TextDecoder().decode(files.get("audit.jsonl")).trim().split("\n").map((line) => JSON.parse(line));
    const details = audit.find((e) => e.step === "transformation")?.details ?? {};
    const table = value.config.inputs[0].table;
    const released = details[`records.${table}`];
    const summary =
      released === undefined
        ? ""
        : ` ${Number(released).toLocaleString("en-US")} records released${value.config.privacyModel.k ? ` (k = ${value.config.privacyModel.k})` : ""}; ${Number(details.suppressedRecords ?? 0).toLocaleString("en-US")} of them suppressed (${
            value.config.privacyModel.suppressedRecords === "remove" ? "removed" : "quasi-identifiers *"
          }).`;
    const result = $("#export-result");
    result.hidden = false;
    result.innerHTML = `
      <p class="ok" id="export-summary">Package ready in ${seconds.toFixed(1)} s: ${value.files.length} files, zip ${fmtBytes(value.zip.length)}.${escapeHtml(summary)} Nothing left this computer.</p>
      <div class="row">
        <a id="download-zip" class="button primary" href="${zipUrl}" download="${base}.zip">Download ${base}.zip</a>
        <a id="open-report" class="button" href="${reportUrl}" target="_blank" rel="noopener">Open report.html</a>
        <a id="download-applied-config" class="button" href="${configUrl}" download="config.json">config.json as applied</a>
      </div>
      <table id="package-files"><thead><tr><th>File</th><th class="num">Size</th><th>SHA-256</th></tr></thead><tbody>
      ${value.files.map(([name, bytes]) => `<tr data-file="${escapeHtml(name)}"><td><code>${escapeHtml(name)}</code></td><td class="num">${fmtBytes(bytes.length)}</td><td><code class="hash">${sumOf.get(name) ?? "(this list)"}</code></td></tr>`).join("")}
      </tbody></table>
      <p class="hint">To reproduce it: <code>deid-workbench apply --config config.json --input ${escapeHtml(dataset.name)} --out DIR${
        value.config.keys ? (value.config.keys.derivation.source === "key-file" ? " --key-file KEY" : " --passphrase-env VAR") : ""
      } --time ${exportTime}</code> with the applied config.json gives the same files.</p>`;
  }

  setKeySource(keySource);
  if (!choices.levels) await findLevels();
  await refresh();
  return root;
}
