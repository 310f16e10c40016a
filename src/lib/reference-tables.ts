/**
 * Reference tables that built-in hierarchies need (restricted ZIP3 lists, ICD-10-CM categories).
 * They ship as CSV files in data/reference/; hosts read the text (fs in Node, fetch/FileAttachment in
 * the browser) and hand it to the parsers here, so the engine never touches the file system.
 */

/** Parse RFC-4180-style CSV text (quotes with "" escapes, CRLF or LF) into rows of fields. */
export function parseCsvText(text: string, delimiter = ","): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let inQuotes = false;
  let fieldStarted = false;
  for (let i = 0; i < text.length; ++i) {
    const ch = text[i];
    if (inQuotes) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          ++i;
        } else inQuotes = false;
      } else field += ch;
      continue;
    }
    if (ch === '"' && !fieldStarted) {
      inQuotes = true;
      fieldStarted = true;
    } else if (ch === delimiter) {
      row.push(field);
      field = "";
      fieldStarted = false;
    } else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && text[i + 1] === "\n") ++i;
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
      fieldStarted = false;
    } else {
      field += ch;
      fieldStarted = true;
    }
  }
  if (fieldStarted || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((r) => !(r.length === 1 && r[0] === ""));
}

/** Rows of a CSV with a header line, as objects keyed by column name. */
export function parseCsvRecords(text: string, fileName: string, requiredColumns: string[] = []): Record<string, string>[] {
  const [header, ...rows] = parseCsvText(text.replace(/^\uFEFF/, ""));
  if (!header) throw new Error(`${fileName}: empty file`);
  for (const column of requiredColumns) {
    if (!header.includes(column)) throw new Error(`${fileName}: missing column "${column}" (found ${header.join(", ")})`);
  }
  return rows.map((fields, i) => {
    if (fields.length !== header.length) throw new Error(`${fileName}, line ${i + 2}: expected ${header.length} fields but found ${fields.length}`);
    const record: Record<string, string> = {};
    header.forEach((name, j) => (record[name] = fields[j]));
    return record;
  });
}
