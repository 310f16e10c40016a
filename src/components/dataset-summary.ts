import type {LoadedDataset} from "./dataset-loader.js";

const escapeHtml = (s: string) => s.replace(/[&<>"]/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})[c]!);

/** Four cards: dataset name, rows, columns and the CSV dialect it was read with. */
export function datasetSummary(dataset: LoadedDataset): HTMLElement {
  const root = document.createElement("div");
  root.id = "dataset-summary";
  root.className = "grid grid-cols-4";
  root.dataset.rows = String(dataset.rows);
  root.dataset.columns = String(dataset.columns);
  const delimiter = ({",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"} as Record<string, string>)[dataset.delimiter] ?? dataset.delimiter;
  root.innerHTML = `
    <div class="card"><h2>Dataset</h2><span class="big" id="dataset-name">${escapeHtml(dataset.name)}</span></div>
    <div class="card"><h2>Rows</h2><span class="big" id="row-count">${dataset.rows.toLocaleString("en-US")}</span></div>
    <div class="card"><h2>Columns</h2><span class="big" id="column-count">${dataset.columns}</span></div>
    <div class="card"><h2>Format</h2><span class="big">${escapeHtml(delimiter)} · ${escapeHtml(dataset.encoding.toUpperCase())}</span></div>`;
  return root;
}
