import type {TableProfile} from "../lib/profile.js";

const escapeHtml = (s: string) => s.replace(/[&<>"]/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})[c]!);

/** The per-column profile as an HTML table; each row carries data- attributes so tests can read figures. */
export function profileTable(profile: TableProfile): HTMLTableElement {
  const table = document.createElement("table");
  table.className = "profile-table";
  table.innerHTML = `<thead><tr><th>Column</th><th>Type</th><th class="num">Distinct</th><th class="num">Missing</th><th>Top values</th></tr></thead>
  <tbody>${profile.columns
    .map(
      (c) => `<tr data-column="${escapeHtml(c.name)}"><td><code>${escapeHtml(c.name)}</code></td><td>${escapeHtml(c.type)}</td>
      <td class="num" data-field="distinct">${c.distinct.toLocaleString("en-US")}</td>
      <td class="num" data-field="missing">${c.missing.toLocaleString("en-US")}${c.missing ? ` <small>(${((100 * c.missing) / Math.max(1, profile.rows)).toFixed(1)}%)</small>` : ""}</td>
      <td>${c.top.map((t) => `${escapeHtml(t.value)} <small>(${t.count.toLocaleString("en-US")})</small>`).join(", ")}</td></tr>`
    )
    .join("")}</tbody>`;
  return table;
}
