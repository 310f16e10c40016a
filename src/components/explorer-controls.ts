import type {QuasiIdentifierCodes} from "../lib/class-counts.js";

export interface ExplorerSettings {
  levels: Record<string, number>;
  k: number;
  /** Fraction of records that may be suppressed, 0..1. */
  suppressionLimit: number;
  threshold: number;
  /** Information-loss metric the frontier and "Find optimum" minimise. */
  metric: "precision" | "loss" | "discernibility" | "entropy";
}

const escapeHtml = (s: string) => s.replace(/[&<>"]/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})[c]!);

/** A few labels of a QI at a level, to show what the level means on real values. */
function exampleLabels(qi: QuasiIdentifierCodes, level: number): string {
  const labels = qi.labels[level].filter((l) => l !== null && l !== "").slice(0, 3) as string[];
  const more = qi.labels[level].length > 3 ? ", …" : "";
  return `${qi.labels[level].length.toLocaleString("en-US")} value${qi.labels[level].length === 1 ? "" : "s"}: ${labels.map(escapeHtml).join(", ")}${more}`;
}

/**
 * The explorer's controls: a labelled range input per quasi-identifier (its generalization level)
 * and inputs for k, the suppression limit and the risk threshold. `value` is an ExplorerSettings;
 * an `input` event fires on every change (drag), and `set(settings)` moves every control.
 */
export function explorerControls(quasiIdentifiers: QuasiIdentifierCodes[], initial: ExplorerSettings) {
  const form = document.createElement("form");
  form.className = "explorer-controls";
  form.addEventListener("submit", (e) => e.preventDefault());
  const rows = quasiIdentifiers
    .map(
      (q, j) => `<div class="level-control">
      <label for="level-${j}"><code>${escapeHtml(q.name)}</code></label>
      <input type="range" id="level-${j}" name="level" data-qi="${escapeHtml(q.name)}" min="0" max="${q.height - 1}" step="1" value="${initial.levels[q.name] ?? 0}" aria-describedby="level-${j}-desc">
      <output data-qi="${escapeHtml(q.name)}"></output>
      <small id="level-${j}-desc" class="level-example"></small>
    </div>`
    )
    .join("");
  form.innerHTML = `<fieldset><legend>Generalization level per quasi-identifier (0 = original, top = *)</legend>${rows}</fieldset>
    <fieldset class="model-controls"><legend>Privacy model</legend>
      <label>k <input type="number" name="k" min="1" max="1000" step="1" value="${initial.k}"></label>
      <label>Suppression limit <input type="range" name="suppression" min="0" max="0.2" step="0.005" value="${initial.suppressionLimit}"> <output name="suppression-out"></output></label>
      <label>Risk threshold <select name="threshold">${[0.5, 0.33, 0.2, 0.1, 0.09, 0.05, 0.033, 0.01].map((t) => `<option value="${t}"${t === initial.threshold ? " selected" : ""}>${t} (k ≥ ${Math.ceil(1 / t)})</option>`).join("")}</select></label>
      <label>Loss metric <select name="metric">${["precision", "loss", "discernibility", "entropy"].map((m) => `<option value="${m}"${m === initial.metric ? " selected" : ""}>${m}</option>`).join("")}</select></label>
    </fieldset>`;
  const levelInputs = [...form.querySelectorAll<HTMLInputElement>("input[name=level]")];
  const k = form.querySelector<HTMLInputElement>("input[name=k]")!;
  const suppression = form.querySelector<HTMLInputElement>("input[name=suppression]")!;
  const threshold = form.querySelector<HTMLSelectElement>("select[name=threshold]")!;
  const metric = form.querySelector<HTMLSelectElement>("select[name=metric]")!;
  const read = (): ExplorerSettings => ({
    levels: Object.fromEntries(levelInputs.map((i) => [i.dataset.qi!, Number(i.value)])),
    k: Math.max(1, Math.floor(Number(k.value) || 1)),
    suppressionLimit: Math.min(1, Math.max(0, Number(suppression.value) || 0)),
    threshold: Number(threshold.value),
    metric: metric.value as ExplorerSettings["metric"]
  });
  const paint = () => {
    levelInputs.forEach((input, j) => {
      const level = Number(input.value);
      form.querySelector<HTMLOutputElement>(`output[data-qi="${CSS.escape(input.dataset.qi!)}"]`)!.textContent = `level ${level} of ${quasiIdentifiers[j].height - 1}`;
      form.querySelector(`#level-${j}-desc`)!.textContent = exampleLabels(quasiIdentifiers[j], level);
    });
    form.querySelector<HTMLOutputElement>("output[name=suppression-out]")!.textContent = `${(100 * Number(suppression.value)).toFixed(1)}%`;
  };
  paint();
  let value = read();
  const element = form as HTMLFormElement & {value: ExplorerSettings; set(settings: Partial<ExplorerSettings>): void};
  Object.defineProperty(element, "value", {get: () => value, set: (v: ExplorerSettings) => element.set(v)});
  form.addEventListener("input", (event) => {
    if (event.target === form) return;
    value = read();
    paint();
  });
  // Intent (hover or focus on a level slider) lets the page pre-compute that slider's positions.
  for (const input of levelInputs) {
    const intent = () => form.dispatchEvent(new CustomEvent("intent", {detail: {qi: input.dataset.qi}}));
    input.addEventListener("pointerenter", intent);
    input.addEventListener("focus", intent);
  }
  form.addEventListener("change", () => {
    value = read();
    paint();
  });
  element.set = (settings) => {
    if (settings.levels) levelInputs.forEach((i) => (i.value = String(settings.levels![i.dataset.qi!] ?? i.value)));
    if (settings.k !== undefined) k.value = String(settings.k);
    if (settings.suppressionLimit !== undefined) suppression.value = String(settings.suppressionLimit);
    if (settings.threshold !== undefined) threshold.value = String(settings.threshold);
    if (settings.metric !== undefined) metric.value = settings.metric;
    value = read();
    paint();
    form.dispatchEvent(new Event("input", {bubbles: true}));
  };
  return element;
}
