import type {DataDictionary} from "../lib/data-dictionary.js";
import type {ReferenceTables} from "../lib/hierarchies.js";
import type {SqlConnection} from "../lib/sql.js";
import {sampleDistinctValues} from "../lib/value-samples.js";
import {levelNames, previewHierarchy} from "./dictionary-model.js";
import {resolveHierarchyInBrowser} from "./reference-client.js";

const escapeHtml = (s: string) => s.replace(/[&<>"]/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})[c]!);
const show = (v: string | null) => (v === null ? `<span class="missing">(missing)</span>` : v === "" ? `<span class="missing">(empty)</span>` : escapeHtml(v));

/**
 * For every field with a hierarchy (quasi-identifiers first): a few real values of the column and
 * their labels at every level, so the expert sees what each level does before choosing it.
 */
export async function hierarchyPreviews(conn: SqlConnection, table: string, dictionary: DataDictionary, refs: ReferenceTables, arxFiles: Record<string, string>): Promise<HTMLElement> {
  const root = document.createElement("div");
  root.className = "hierarchy-previews";
  const fields = dictionary.fields.filter((f) => f.hierarchy).sort((a, b) => Number(b.role === "quasi-identifier") - Number(a.role === "quasi-identifier"));
  if (fields.length === 0) {
    root.innerHTML = "<p><i>No field has a hierarchy yet. Make a column a quasi-identifier to give it one.</i></p>";
    return root;
  }
  for (const field of fields) {
    const section = document.createElement("section");
    section.className = "hierarchy-preview card";
    section.dataset.field = field.name;
    const title = `<h3><code>${escapeHtml(field.name)}</code> · ${escapeHtml(field.hierarchy!)}${field.role === "quasi-identifier" ? "" : ` <small>(${escapeHtml(field.role)}: not generalized)</small>`}</h3>`;
    let hierarchy;
    try {
      hierarchy = resolveHierarchyInBrowser(field.hierarchy!, refs, arxFiles);
    } catch (error) {
      section.innerHTML = `${title}<p class="preview-error">${escapeHtml((error as Error).message)}</p>`;
      root.append(section);
      continue;
    }
    const values = await sampleDistinctValues(conn, table, field.name);
    const rows = previewHierarchy(hierarchy, values);
    const names = levelNames(hierarchy);
    section.innerHTML = `${title}
      ${hierarchy.source ? `<p class="preview-source">Source: ${escapeHtml(hierarchy.source)}</p>` : ""}
      <div class="preview-scroll"><table class="preview-table">
        <thead><tr>${names.map((n, i) => `<th scope="col">${i}: ${escapeHtml(n)}</th>`).join("")}</tr></thead>
        <tbody>${rows
          .map((r) =>
            r.labels
              ? `<tr>${r.labels.map((l, i) => `<td>${show(i === 0 ? r.value : l)}</td>`).join("")}</tr>`
              : `<tr class="uncovered"><td>${show(r.value)}</td><td colspan="${names.length - 1}" class="preview-error">${escapeHtml(r.error ?? "not covered")}</td></tr>`
          )
          .join("")}</tbody>
      </table></div>`;
    root.append(section);
  }
  return root;
}
