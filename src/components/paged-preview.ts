import type {SqlConnection, SqlRow} from "../lib/sql.js";
import {previewRows} from "../lib/profile.js";

const escapeHtml = (s: string) => s.replace(/[&<>"]/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})[c]!);

/** A table preview that fetches one page of rows at a time with LIMIT/OFFSET. */
export function pagedPreview(conn: SqlConnection, {table, rows, pageSize = 15}: {table: string; rows: number; pageSize?: number}): HTMLElement {
  const root = document.createElement("div");
  root.className = "paged-preview";
  const pages = Math.max(1, Math.ceil(rows / pageSize));
  let page = 0;
  const nav = document.createElement("div");
  nav.className = "paged-preview-nav";
  nav.innerHTML = `<button type="button" name="first" aria-label="First page">«</button> <button type="button" name="prev" aria-label="Previous page">‹</button>
    <span class="page-label"></span> <button type="button" name="next" aria-label="Next page">›</button> <button type="button" name="last" aria-label="Last page">»</button>`;
  const body = document.createElement("div");
  body.className = "paged-preview-body";
  root.append(body, nav);
  const render = async () => {
    const data: SqlRow[] = await previewRows(conn, table, {offset: page * pageSize, limit: pageSize});
    const columns = data.length ? Object.keys(data[0]) : [];
    body.innerHTML = `<table><thead><tr><th class="num">#</th>${columns.map((c) => `<th>${escapeHtml(c)}</th>`).join("")}</tr></thead><tbody>${data
      .map((r, i) => `<tr><td class="num">${page * pageSize + i + 1}</td>${columns.map((c) => `<td>${r[c] == null ? '<span class="missing">∅</span>' : escapeHtml(String(r[c]))}</td>`).join("")}</tr>`)
      .join("")}</tbody></table>`;
    nav.querySelector(".page-label")!.textContent = `Page ${page + 1} of ${pages.toLocaleString("en-US")}`;
  };
  const go = (p: number) => {
    page = Math.min(pages - 1, Math.max(0, p));
    render();
  };
  nav.addEventListener("click", (e) => {
    const name = (e.target as HTMLElement).closest("button")?.name;
    if (name === "first") go(0);
    else if (name === "prev") go(page - 1);
    else if (name === "next") go(page + 1);
    else if (name === "last") go(pages - 1);
  });
  render();
  return root;
}
