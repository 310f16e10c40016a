import type {WhatIfResult} from "../lib/what-if.js";
import type {ExplorerSettings} from "./explorer-controls.js";

export interface PinnedConfiguration {
  label: string;
  settings: ExplorerSettings;
  result: WhatIfResult;
  mlUtility?: {aucOriginal: number; aucDeidentified: number; ratio: number} | "running" | string;
}

const escapeHtml = (s: string) => s.replace(/[&<>"]/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})[c]!);

/**
 * Pinned candidate configurations compared side by side. `current` is set by the page on every
 * change; "Pin current" copies it. `onApply` moves the sliders back to a pinned configuration.
 */
export function pinBoard({onApply, onMlUtility}: {onApply: (settings: ExplorerSettings) => void; onMlUtility?: (pin: PinnedConfiguration) => Promise<PinnedConfiguration["mlUtility"]>}) {
  const root = document.createElement("div") as HTMLDivElement & {current?: {settings: ExplorerSettings; result: WhatIfResult}; pins: PinnedConfiguration[]};
  root.className = "pin-board";
  root.pins = [];
  const render = () => {
    const pins = root.pins;
    const rows: [string, (p: PinnedConfiguration) => string][] = [
      ["Levels", (p) => Object.entries(p.settings.levels).map(([k, v]) => `${escapeHtml(k)}=${v}`).join("<br>")],
      ["k / suppression limit", (p) => `${p.settings.k} / ${(100 * p.settings.suppressionLimit).toFixed(1)}%`],
      ["Satisfies model", (p) => (p.result.measures.anonymous === null ? "–" : p.result.measures.anonymous ? "yes" : "no")],
      ["Smallest class", (p) => String(p.result.measures.minClassSize)],
      ["Suppressed", (p) => p.result.measures.suppressed.toLocaleString("en-US")],
      ["Max prosecutor risk", (p) => p.result.measures.maxProsecutorRisk.toFixed(4)],
      ["Avg prosecutor risk", (p) => p.result.measures.avgProsecutorRisk.toFixed(4)],
      [`Records above threshold`, (p) => `${(100 * p.result.measures.recordsAtRisk).toFixed(1)}% (&gt; ${p.settings.threshold})`],
      ["Information loss", (p) => p.result.utility.loss.toFixed(4)],
      ["Precision", (p) => p.result.utility.precision.toFixed(4)],
      ["Weighted loss", (p) => p.result.utility.weightedLoss.toFixed(4)],
      [
        "ML utility (AUC ratio)",
        (p) =>
          p.mlUtility === undefined
            ? onMlUtility ? `<button type="button" data-ml="${pins.indexOf(p)}">Compute</button>` : "–"
            : p.mlUtility === "running"
              ? "training…"
              : typeof p.mlUtility === "string"
                ? escapeHtml(p.mlUtility)
                : `${p.mlUtility.ratio.toFixed(3)} <small>(${p.mlUtility.aucDeidentified.toFixed(3)} / ${p.mlUtility.aucOriginal.toFixed(3)})</small>`
      ]
    ];
    root.innerHTML = `<div class="pin-actions"><button type="button" name="pin">Pin current configuration</button>${pins.length ? ` <button type="button" name="clear">Clear pins</button>` : ""}</div>
      ${
        pins.length
          ? `<table class="pin-table"><thead><tr><th></th>${pins.map((p, i) => `<th>${escapeHtml(p.label)} <button type="button" data-apply="${i}" title="Move the sliders here">apply</button> <button type="button" data-remove="${i}" aria-label="Remove ${escapeHtml(p.label)}">×</button></th>`).join("")}</tr></thead>
          <tbody>${rows.map(([name, f]) => `<tr><th scope="row">${name}</th>${pins.map((p) => `<td>${f(p)}</td>`).join("")}</tr>`).join("")}</tbody></table>`
          : `<p class="muted">Pin configurations to compare them side by side.</p>`
      }`;
  };
  root.addEventListener("click", async (e) => {
    const button = (e.target as HTMLElement).closest("button");
    if (!button) return;
    if (button.name === "pin" && root.current) {
      root.pins.push({label: `#${root.pins.length + 1}`, settings: structuredClone(root.current.settings), result: root.current.result});
    } else if (button.name === "clear") root.pins = [];
    else if (button.dataset.remove) root.pins.splice(Number(button.dataset.remove), 1);
    else if (button.dataset.apply) onApply(root.pins[Number(button.dataset.apply)].settings);
    else if (button.dataset.ml && onMlUtility) {
      const pin = root.pins[Number(button.dataset.ml)];
      pin.mlUtility = "running";
      render();
      try {
        pin.mlUtility = await onMlUtility(pin);
      } catch (error) {
        pin.mlUtility = error instanceof Error ? error.message : String(error);
      }
    }
    render();
  });
  render();
  return root;
}
