import {loadCsv} from "../lib/ingest.js";
import type {BrowserDuckDB} from "./duckdb-client.js";
import {Comlink, type IngestClient} from "./ingest-client.js";
import {loadCurrentDataset, saveCurrentDataset} from "./workspace.js";

export interface LoadedDataset {
  table: string;
  name: string;
  rows: number;
  columns: number;
  delimiter: string;
  encoding: string;
  /** Increases with every successful load, so dependent cells re-run. */
  version: number;
}

const delimiterChoices: [string, string][] = [["", "sniff"], [",", "comma ,"], [";", "semicolon ;"], ["\t", "tab"], ["|", "pipe |"]];
const encodingChoices: [string, string][] = [["", "sniff"], ["utf-8", "UTF-8"], ["windows-1252", "Windows-1252 / Latin-1"], ["utf-16le", "UTF-16 LE"], ["utf-16be", "UTF-16 BE"]];

/**
 * The dataset picker: a file input with delimiter/encoding overrides, a "load sample" button, a
 * progress bar and an error line. Its `value` is the loaded dataset; it emits `input` on each
 * successful load. A failed load shows the error and leaves the previous dataset in place.
 */
export async function createDatasetLoader({db, ingest, sampleUrl, table = "dataset"}: {db: BrowserDuckDB; ingest: IngestClient; sampleUrl: string; table?: string}) {
  const form = document.createElement("form");
  form.className = "dataset-loader";
  form.innerHTML = `
    <div class="dataset-loader-row">
      <label>Your file (CSV/TSV) <input type="file" name="file" accept=".csv,.tsv,.txt,text/csv,text/tab-separated-values"></label>
      <label>Delimiter <select name="delimiter">${delimiterChoices.map(([v, l]) => `<option value="${v === "\t" ? "\\t" : v}">${l}</option>`).join("")}</select></label>
      <label>Encoding <select name="encoding">${encodingChoices.map(([v, l]) => `<option value="${v}">${l}</option>`).join("")}</select></label>
      <button type="button" name="sample">Load bundled sample</button>
    </div>
    <div class="dataset-loader-status" aria-live="polite">
      <progress max="1" value="0" hidden></progress> <span class="phase"></span>
    </div>
    <div class="dataset-loader-error" role="alert" hidden></div>`;
  form.addEventListener("submit", (e) => e.preventDefault());
  const progress = form.querySelector("progress")!;
  const phase = form.querySelector<HTMLSpanElement>(".phase")!;
  const errorBox = form.querySelector<HTMLDivElement>(".dataset-loader-error")!;
  const fileInput = form.querySelector<HTMLInputElement>("input[type=file]")!;
  const delimiterSelect = form.querySelector<HTMLSelectElement>("select[name=delimiter]")!;
  const encodingSelect = form.querySelector<HTMLSelectElement>("select[name=encoding]")!;
  const sampleButton = form.querySelector<HTMLButtonElement>("button[name=sample]")!;
  let version = 0;
  let busy = false;
  (form as any).value = undefined as LoadedDataset | undefined;

  const setProgress = (label: string, fraction?: number) => {
    progress.hidden = false;
    if (fraction === undefined) progress.removeAttribute("value");
    else progress.value = fraction;
    phase.textContent = label;
  };
  const showError = (message: string) => {
    errorBox.hidden = false;
    errorBox.textContent = `Could not load: ${message}. The previous dataset is still loaded.`;
  };

  async function load(blob: Blob, name: string, {remember = true}: {remember?: boolean} = {}) {
    if (busy) return;
    busy = true;
    fileInput.disabled = sampleButton.disabled = true;
    errorBox.hidden = true;
    const started = performance.now();
    try {
      const delimiter = delimiterSelect.value === "\\t" ? "\t" : delimiterSelect.value || undefined;
      const encoding = (encodingSelect.value || undefined) as any;
      const prepared = await ingest.api.prepareCsv(
        blob,
        {fileName: name, delimiter, encoding},
        Comlink.proxy((p: string, f: number) => setProgress(`${p} ${name}: ${Math.round(f * 100)}%`, f))
      );
      if (prepared.error || !prepared.bytes) throw new Error(prepared.error?.message ?? `${name}: could not be read`);
      setProgress(`loading ${name} into DuckDB…`);
      const registered = `upload-${++version}.csv`;
      // DuckDB-WASM takes (transfers) the buffer it is given; the stored copy must keep the bytes
      await db.registerFile(registered, remember ? prepared.bytes.slice() : prepared.bytes);
      try {
        const {rows, columns} = await loadCsv(db, registered, table, {delimiter: prepared.delimiter, displayName: name});
        (form as any).value = {table, name, rows, columns, delimiter: prepared.delimiter, encoding: prepared.encoding, version} satisfies LoadedDataset;
        // Other pages open on the same data; stored bytes are UTF-8 already.
        if (remember) await saveCurrentDataset({name, delimiter: prepared.delimiter, encoding: "utf-8", bytes: prepared.bytes}).catch(() => {});
      } finally {
        await db.dropFile(registered).catch(() => {});
      }
      progress.value = 1;
      phase.textContent = `Loaded ${name} in ${((performance.now() - started) / 1000).toFixed(1)} s`;
      form.dispatchEvent(new Event("input", {bubbles: true}));
    } catch (error) {
      progress.hidden = true;
      phase.textContent = "";
      showError(error instanceof Error ? error.message : String(error));
    } finally {
      busy = false;
      fileInput.disabled = sampleButton.disabled = false;
    }
  }

  const loadSample = async () => load(await (await fetch(sampleUrl)).blob(), "sample-patients.csv");
  fileInput.addEventListener("change", () => {
    const file = fileInput.files?.[0];
    if (file) load(file, file.name);
  });
  sampleButton.addEventListener("click", loadSample);
  // Only a finished load is the loader's input event; the controls' own events stay inside.
  for (const control of [fileInput, delimiterSelect, encodingSelect]) control.addEventListener("input", (e) => e.stopPropagation());
  const stored = await loadCurrentDataset();
  if (stored) await load(new Blob([stored.bytes as unknown as ArrayBuffer]), stored.name, {remember: false});
  if (!(form as any).value) await loadSample();
  return form as HTMLFormElement & {value: LoadedDataset | undefined};
}
