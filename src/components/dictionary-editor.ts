import {FIELD_ROLES, FIELD_TYPES, type DataDictionary} from "../lib/data-dictionary.js";
import {parseArxHierarchy} from "../lib/hierarchies.js";
import {dictionaryJson, dictionaryProblems, HIERARCHY_SUGGESTIONS, updateField, type FieldPatch} from "./dictionary-model.js";

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"})[c]!);
let editorCounter = 0;

export interface DictionaryEditorOptions {
  dictionary: DataDictionary;
  isProposal: boolean;
  datasetName: string;
  columns: string[];
  /** Imported ARX hierarchy files by file name; the editor adds to it on import. */
  arxFiles: Record<string, string>;
  save(dictionary: DataDictionary): void;
  saveArxFile(name: string, text: string): void;
  propose(): Promise<DataDictionary>;
}

/**
 * The editable data dictionary: one row per column with labelled selects and inputs, validation
 * problems inline under the field they concern, Save / Reset to proposal / Download, and the import
 * of ARX hierarchy files. Behaves as an Observable input: `.value` is the current dictionary and an
 * "input" event fires on every change.
 */
export function dictionaryEditor(options: DictionaryEditorOptions): HTMLElement & {value: DataDictionary} {
  const id = `dictionary-editor-${++editorCounter}`;
  let dictionary = options.dictionary;
  let savedJson = options.isProposal ? null : JSON.stringify(options.dictionary);
  const proposalJson = JSON.stringify(options.dictionary);
  const root = document.createElement("div") as unknown as HTMLElement & {value: DataDictionary};
  root.className = "dictionary-editor";
  root.innerHTML = `
    <div class="dictionary-actions">
      <button type="button" name="save">Save dictionary</button>
      <button type="button" name="reset">Reset to proposal</button>
      <button type="button" name="download">Download JSON</button>
      <span class="dictionary-status" id="dictionary-status" role="status" aria-live="polite"></span>
    </div>
    <ul class="dictionary-general-problems" id="dictionary-general-problems"></ul>
    <div class="dictionary-table-wrap"><table class="dictionary-table">
      <thead><tr><th>Column</th><th>Role</th><th>Type</th><th>Hierarchy</th><th class="num">Weight</th><th>Why / problems</th></tr></thead>
      <tbody></tbody>
    </table></div>
    <datalist id="${id}-hierarchies"></datalist>
    <fieldset class="arx-import">
      <legend>Import ARX hierarchy files</legend>
      <p>An ARX hierarchy is a <code>;</code>-separated CSV without header: one row per original value, column <i>i</i> = level <i>i</i>.
      Imported files stay in this browser; type the file name as a field's hierarchy to use one.</p>
      <label>Hierarchy CSV files <input type="file" name="arx" accept=".csv,text/csv" multiple></label>
      <div class="arx-status" id="arx-status" role="status" aria-live="polite"></div>
      <ul class="arx-files" id="arx-files"></ul>
    </fieldset>`;
  const tbody = root.querySelector("tbody")!;
  const datalist = root.querySelector("datalist")!;
  const status = root.querySelector<HTMLElement>(".dictionary-status")!;
  const general = root.querySelector<HTMLElement>(".dictionary-general-problems")!;
  const arxStatus = root.querySelector<HTMLElement>(".arx-status")!;
  const arxList = root.querySelector<HTMLElement>(".arx-files")!;

  const renderDatalist = () => {
    datalist.innerHTML = [...HIERARCHY_SUGGESTIONS, ...Object.keys(options.arxFiles).sort()].map((s) => `<option value="${escapeHtml(s)}"></option>`).join("");
    const names = Object.keys(options.arxFiles).sort();
    arxList.innerHTML = names.length ? names.map((n) => `<li><code>${escapeHtml(n)}</code></li>`).join("") : "<li><i>none imported yet</i></li>";
  };

  const renderRows = () => {
    tbody.innerHTML = dictionary.fields
      .map((f, i) => {
        const rowId = `${id}-f${i}`;
        const roleOptions = FIELD_ROLES.map((r) => `<option value="${r}"${r === f.role ? " selected" : ""}>${r}</option>`).join("");
        const typeOptions = FIELD_TYPES.map((t) => `<option value="${t}"${t === f.type ? " selected" : ""}>${t}</option>`).join("");
        return `<tr data-field="${escapeHtml(f.name)}" data-index="${i}">
          <th scope="row" id="${rowId}-name"><code>${escapeHtml(f.name)}</code></th>
          <td><select name="role" aria-label="Role of ${escapeHtml(f.name)}">${roleOptions}</select></td>
          <td><select name="type" aria-label="Type of ${escapeHtml(f.name)}">${typeOptions}</select></td>
          <td><input name="hierarchy" list="${id}-hierarchies" aria-label="Hierarchy of ${escapeHtml(f.name)}" value="${escapeHtml(f.hierarchy ?? "")}" placeholder="${f.role === "quasi-identifier" ? "required" : "none"}" spellcheck="false"></td>
          <td class="num"><input name="weight" type="number" min="0" step="0.1" aria-label="Weight of ${escapeHtml(f.name)}" value="${f.weight ?? 1}"></td>
          <td class="dictionary-notes"><span class="reason">${escapeHtml(f.reason ?? "")}</span><ul class="field-problems" aria-live="polite"></ul></td>
        </tr>`;
      })
      .join("");
  };

  const renderProblems = () => {
    const problems = dictionaryProblems(dictionary, options.columns);
    for (const row of tbody.querySelectorAll<HTMLTableRowElement>("tr[data-field]")) {
      const list = problems.byField.get(row.dataset.field!) ?? [];
      row.querySelector(".field-problems")!.innerHTML = list.map((p) => `<li>${escapeHtml(p)}</li>`).join("");
      row.classList.toggle("has-problems", list.length > 0);
      const field = dictionary.fields[Number(row.dataset.index)];
      row.classList.toggle("is-qi", field.role === "quasi-identifier");
      row.dataset.role = field.role;
      (row.querySelector("input[name=hierarchy]") as HTMLInputElement).placeholder = field.role === "quasi-identifier" ? "required" : "none";
    }
    general.innerHTML = problems.general.map((p) => `<li>${escapeHtml(p)}</li>`).join("");
    const count = problems.general.length + [...problems.byField.values()].reduce((a, l) => a + l.length, 0);
    root.dataset.problems = String(count);
    const dirty = JSON.stringify(dictionary) !== (savedJson ?? proposalJson);
    (root.querySelector("button[name=save]") as HTMLButtonElement).disabled = count > 0;
    status.className = `dictionary-status ${count ? "bad" : dirty || savedJson === null ? "dirty" : "ok"}`;
    status.textContent = count
      ? `${count} problem${count === 1 ? "" : "s"} to fix before saving`
      : dirty
        ? "Unsaved changes"
        : savedJson === null
          ? "Proposal (not saved yet): review the roles, then save"
          : "Saved in this browser";
  };

  const changed = () => {
    renderProblems();
    root.dispatchEvent(new Event("input", {bubbles: true}));
  };

  // Keystrokes must not reach view(); the editor announces a change itself once a field is committed.
  root.addEventListener("input", (event) => {
    if (event.target !== root) event.stopImmediatePropagation();
  });
  tbody.addEventListener("change", (event) => {
    const target = event.target as HTMLInputElement | HTMLSelectElement;
    const row = target.closest<HTMLTableRowElement>("tr[data-field]");
    if (!row) return;
    const name = row.dataset.field!;
    let patch: FieldPatch;
    if (target.name === "role") patch = {role: target.value as FieldPatch["role"]};
    else if (target.name === "type") patch = {type: target.value as FieldPatch["type"]};
    else if (target.name === "hierarchy") patch = {hierarchy: target.value};
    else if (target.name === "weight") patch = {weight: target.value === "" ? NaN : Number(target.value)};
    else return;
    dictionary = updateField(dictionary, name, patch);
    if (target.name === "role") {
      const field = dictionary.fields.find((f) => f.name === name)!;
      (row.querySelector("input[name=hierarchy]") as HTMLInputElement).value = field.hierarchy ?? "";
    }
    changed();
  });

  root.querySelector("button[name=save]")!.addEventListener("click", () => {
    if (dictionaryProblems(dictionary, options.columns).general.length) return;
    options.save(dictionary);
    savedJson = JSON.stringify(dictionary);
    changed();
  });
  root.querySelector("button[name=reset]")!.addEventListener("click", async () => {
    status.textContent = "Proposing…";
    dictionary = await options.propose();
    renderRows();
    changed();
  });
  root.querySelector("button[name=download]")!.addEventListener("click", () => {
    const url = URL.createObjectURL(new Blob([dictionaryJson(dictionary)], {type: "application/json"}));
    const a = document.createElement("a");
    a.href = url;
    a.download = `${options.datasetName.replace(/\.[^.]+$/, "")}.dictionary.json`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  });
  root.querySelector("input[name=arx]")!.addEventListener("change", async (event) => {
    const input = event.target as HTMLInputElement;
    const messages: string[] = [];
    let ok = true;
    for (const file of input.files ?? []) {
      const text = await file.text();
      try {
        const h = parseArxHierarchy(text, `arx:${file.name}`);
        options.saveArxFile(file.name, text);
        options.arxFiles[file.name] = text;
        messages.push(`Imported ${file.name}: ${h.height} levels.`);
      } catch (error) {
        ok = false;
        messages.push(`${file.name}: ${(error as Error).message}`);
      }
    }
    arxStatus.textContent = messages.join(" ");
    arxStatus.className = `arx-status ${ok ? "ok" : "bad"}`;
    input.value = "";
    renderDatalist();
    changed();
  });

  Object.defineProperty(root, "value", {get: () => dictionary});
  renderDatalist();
  renderRows();
  renderProblems();
  return root;
}
