/**
 * CSV dialect sniffing, decoding and validation, shared by the browser (ingest worker) and the CLI.
 * Pure functions over bytes and strings; the validator is a single pass over char codes (no
 * substrings), so a 100+ MB file is checked in well under a second. Record rules follow RFC 4180,
 * plus what DuckDB's read_csv (strict mode) also accepts: LF, CRLF or CR line breaks, a missing
 * final line break, and blank lines, which are skipped. Semantics: docs/semantics.md ("CSV dialect").
 */

export type CsvEncoding = "utf-8" | "utf-16le" | "utf-16be" | "windows-1252";
export type CsvDelimiter = "," | ";" | "\t" | "|";
export type CsvLineEnding = "\n" | "\r\n" | "\r";

export interface CsvDialect {
  encoding: CsvEncoding;
  /** Whether the bytes start with a byte order mark for `encoding`. */
  bom: boolean;
  delimiter: CsvDelimiter;
  quote: '"';
  /** Whether the first record looks like column names. */
  header: boolean;
  /** The first line break outside quotes ("\n" when there is none). */
  lineEnding: CsvLineEnding;
}

export interface CsvProblem {
  /** 1-based physical line (a quoted field holding line breaks spans several lines). */
  line: number;
  problem: string;
}

export interface ValidateCsvOptions {
  delimiter: string;
  quote?: string;
  /** Whether the first record holds column names (default true): then a blank first line is an error. */
  header?: boolean;
  /** Called with the fraction of the text checked, every few million characters and at the end. */
  onProgress?: (fraction: number) => void;
}

/** How much of the file the delimiter and header guesses look at. */
export const SNIFF_BYTES = 64 * 1024;

export const CSV_DELIMITERS: readonly CsvDelimiter[] = [",", ";", "\t", "|"];

const QUOTE = 34;
const LF = 10;
const CR = 13;

// ---------------------------------------------------------------------------------------------
// Encoding

/** The encoding of the bytes: a BOM decides; else UTF-16 by zero-byte pattern; else UTF-8 if valid, else Windows-1252. */
export function sniffCsvEncoding(bytes: Uint8Array): {encoding: CsvEncoding; bom: boolean} {
  if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return {encoding: "utf-8", bom: true};
  if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe) return {encoding: "utf-16le", bom: true};
  if (bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff) return {encoding: "utf-16be", bom: true};
  const sample = bytes.subarray(0, Math.min(bytes.length, SNIFF_BYTES));
  const utf16 = guessUtf16WithoutBom(sample);
  if (utf16) return {encoding: utf16, bom: false};
  return {encoding: isValidUtf8(bytes) ? "utf-8" : "windows-1252", bom: false};
}

/** Text in UTF-16 is mostly ASCII with a zero high byte: zeros pile up at odd (LE) or even (BE) offsets. */
function guessUtf16WithoutBom(sample: Uint8Array): CsvEncoding | null {
  const pairs = sample.length >> 1;
  if (pairs < 2) return null;
  let zeroEven = 0;
  let zeroOdd = 0;
  for (let i = 0; i + 1 < sample.length; i += 2) {
    if (sample[i] === 0) ++zeroEven;
    if (sample[i + 1] === 0) ++zeroOdd;
  }
  if (zeroOdd >= 0.4 * pairs && zeroEven <= 0.05 * pairs) return "utf-16le";
  if (zeroEven >= 0.4 * pairs && zeroOdd <= 0.05 * pairs) return "utf-16be";
  return null;
}

/**
 * Whether all the bytes are valid UTF-8 (the WHATWG decoder's rules: no overlong forms, surrogates or
 * code points above U+10FFFF). Uses the native decoder in 1 MB steps, so it is fast and allocates little.
 */
export function isValidUtf8(bytes: Uint8Array): boolean {
  const decoder = new TextDecoder("utf-8", {fatal: true, ignoreBOM: true});
  const step = 1 << 20;
  try {
    for (let i = 0; i < bytes.length; i += step) decoder.decode(bytes.subarray(i, i + step), {stream: true});
    decoder.decode();
    return true;
  } catch {
    return false;
  }
}

/** Decode the whole file; a BOM matching the encoding is dropped, and invalid bytes become U+FFFD. */
export function decodeCsvBytes(bytes: Uint8Array, encoding: CsvEncoding): string {
  const text = new TextDecoder(encoding).decode(bytes);
  // Node 20's TextDecoder decodes "windows-1252" as ISO-8859-1 (0x80 -> U+0080 instead of the euro
  // sign), unlike browsers; map the C1 range the way the WHATWG Encoding Standard does on every host.
  return encoding === "windows-1252" ? text.replace(/[\x80-\x9f]/g, (c) => WINDOWS_1252_C1[c.charCodeAt(0) - 0x80]) : text;
}

// WHATWG index-windows-1252 for bytes 0x80..0x9F; the five unassigned bytes map to themselves.
const WINDOWS_1252_C1 = Array.from(
  "\u20ac\x81\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\x8d\u017d\x8f" +
    "\x90\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\x9d\u017e\u0178"
);

// ---------------------------------------------------------------------------------------------
// Dialect

/**
 * Guess the dialect of a CSV file from its bytes. The encoding check covers the whole file (a stray
 * Latin-1 byte deep in the file must not be decoded as UTF-8); the delimiter, header and line ending
 * are guessed from the first SNIFF_BYTES. The delimiter is the candidate whose records (split outside
 * quotes) most consistently have the same number of fields, more than one; ties go to the candidate
 * giving more fields, then to the order of CSV_DELIMITERS.
 */
export function sniffCsvDialect(bytes: Uint8Array): CsvDialect {
  const {encoding, bom} = sniffCsvEncoding(bytes);
  const truncated = bytes.length > SNIFF_BYTES;
  let end = Math.min(bytes.length, SNIFF_BYTES);
  if (encoding.startsWith("utf-16")) end -= end % 2;
  let text = new TextDecoder(encoding).decode(bytes.subarray(0, end));
  if (truncated) {
    // Drop the last, probably partial, line (and any character cut in half).
    const lastBreak = Math.max(text.lastIndexOf("\n"), text.lastIndexOf("\r"));
    if (lastBreak > 0) text = text.slice(0, lastBreak + 1);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);

  let best: {delimiter: CsvDelimiter; consistency: number; fields: number} = {delimiter: ",", consistency: 0, fields: 1};
  for (const delimiter of CSV_DELIMITERS) {
    const counts = splitSampleRecords(text, delimiter).map((r) => r.length);
    if (counts.length === 0) continue;
    const {value: fields, frequency} = modeOf(counts);
    if (fields < 2) continue;
    const consistency = frequency / counts.length;
    if (consistency > best.consistency || (consistency === best.consistency && fields > best.fields)) best = {delimiter, consistency, fields};
  }
  const records = splitSampleRecords(text, best.delimiter, 200);
  return {encoding, bom, delimiter: best.delimiter, quote: '"', header: looksLikeHeader(records), lineEnding: firstLineEnding(text)};
}

/** Records of the sample as arrays of unquoted field values (blank lines skipped); at most `limit` records. */
function splitSampleRecords(text: string, delimiter: string, limit = Infinity): string[][] {
  const records: string[][] = [];
  const d = delimiter.charCodeAt(0);
  let record: string[] = [];
  let fieldStart = 0;
  let quoted = false;
  let inQuotes = false;
  const pushField = (endExclusive: number) => {
    let value = text.slice(fieldStart, endExclusive);
    if (quoted) value = value.replace(/^"/, "").replace(/"$/, "").replace(/""/g, '"');
    record.push(value);
  };
  const endRecord = (i: number) => {
    pushField(i);
    if (!(record.length === 1 && record[0] === "")) records.push(record);
    record = [];
  };
  for (let i = 0; i < text.length && records.length < limit; ++i) {
    const c = text.charCodeAt(i);
    if (inQuotes) {
      if (c === QUOTE) {
        if (text.charCodeAt(i + 1) === QUOTE) ++i;
        else inQuotes = false;
      }
      continue;
    }
    if (c === QUOTE && i === fieldStart) {
      inQuotes = quoted = true;
    } else if (c === d) {
      pushField(i);
      fieldStart = i + 1;
      quoted = false;
    } else if (c === LF || c === CR) {
      endRecord(i);
      if (c === CR && text.charCodeAt(i + 1) === LF) ++i;
      fieldStart = i + 1;
      quoted = false;
    }
  }
  if (records.length < limit && (fieldStart < text.length || record.length > 0)) endRecord(text.length);
  return records;
}

function modeOf(values: number[]): {value: number; frequency: number} {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let value = values[0];
  let frequency = 0;
  for (const [v, n] of counts) if (n > frequency || (n === frequency && v > value)) [value, frequency] = [v, n];
  return {value, frequency};
}

type ValueKind = "empty" | "number" | "date" | "text";

function kindOf(value: string): ValueKind {
  const v = value.trim();
  if (v === "") return "empty";
  if (/^[-+]?(\d+([.,]\d*)?|[.,]\d+)([eE][-+]?\d+)?%?$/.test(v)) return "number";
  if (/^\d{4}-\d{1,2}-\d{1,2}([ T].*)?$/.test(v) || /^\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}$/.test(v)) return "date";
  return "text";
}

/**
 * The first record counts as a header unless, column by column, it has the same non-text kind (number or date) as the records below it more often than it
 * differs from them (a simplified form of Python's csv.Sniffer.has_header vote).
 */
function looksLikeHeader(records: string[][]): boolean {
  if (records.length === 0) return true;
  const first = records[0];
  const body = records.slice(1);
  if (body.length === 0) return first.every((f) => kindOf(f) === "text");
  let forHeader = 0;
  let against = 0;
  for (let c = 0; c < first.length; ++c) {
    const kinds = new Set(body.map((r) => kindOf(r[c] ?? "")).filter((k) => k !== "empty"));
    if (kinds.size !== 1) continue;
    const [bodyKind] = kinds;
    const headKind = kindOf(first[c]);
    if (bodyKind === "text") continue;
    if (headKind === bodyKind) ++against;
    else ++forHeader;
  }
  return forHeader >= against;
}

function firstLineEnding(text: string): CsvLineEnding {
  let inQuotes = false;
  for (let i = 0; i < text.length; ++i) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) inQuotes = !inQuotes;
    else if (!inQuotes && c === LF) return "\n";
    else if (!inQuotes && c === CR) return text.charCodeAt(i + 1) === LF ? "\r\n" : "\r";
  }
  return "\n";
}

// ---------------------------------------------------------------------------------------------
// Validation

/**
 * Check that `text` is well-formed CSV: every record has as many fields as the first (the header),
 * quotes only enclose whole fields (inner quotes doubled), and every quoted field is closed.
 * Returns null, or the FIRST problem with its 1-based physical line. A field-count problem names the
 * line where that record starts; an unterminated quote names the line where the quoted field opens.
 */
export function validateCsv(text: string, options: ValidateCsvOptions): CsvProblem | null {
  const {delimiter, quote = '"', header = true, onProgress} = options;
  if (delimiter.length !== 1 || quote.length !== 1) throw new Error(`delimiter and quote must be single characters, got ${JSON.stringify(delimiter)} and ${JSON.stringify(quote)}`);
  if (delimiter === quote || delimiter === "\n" || delimiter === "\r") throw new Error(`delimiter ${JSON.stringify(delimiter)} cannot be used`);
  const d = delimiter.charCodeAt(0);
  const q = quote.charCodeAt(0);
  const n = text.length;
  let i = n > 0 && text.charCodeAt(0) === 0xfeff ? 1 : 0;
  if (i === n) return {line: 1, problem: "the file is empty"};

  const progressStep = 1 << 22;
  let nextProgress = progressStep;
  let line = 1;
  let recordLine = 1;
  let quoteLine = 1;
  let fields = 1;
  let blank = true; // nothing seen yet in the current record
  let expected = -1;

  // Called at each line break outside quotes (and at the end of the text). Returns a problem or null.
  const endRecord = (): CsvProblem | null => {
    if (blank) {
      if (expected < 0 && header) {
        if (!/[^\r\n]/.test(text.slice(text.charCodeAt(0) === 0xfeff ? 1 : 0))) return {line: 1, problem: "the file is empty (only blank lines)"};
        return {line: recordLine, problem: `no header: line ${recordLine} is blank, but the first line must hold the column names`};
      }
      return null;
    }
    if (expected < 0) expected = fields;
    else if (fields !== expected) return {line: recordLine, problem: `expected ${expected} field${expected === 1 ? "" : "s"} but found ${fields}`};
    return null;
  };

  // One pass, one field at a time: tight inner loops for quoted and unquoted fields, and the
  // bookkeeping (record end, progress) only at line breaks.
  let c = 0;
  while (i < n) {
    c = text.charCodeAt(i);
    if (c === q) {
      quoteLine = line;
      blank = false;
      ++i;
      for (;;) {
        if (i >= n) return {line: quoteLine, problem: `unterminated quoted field starting at line ${quoteLine}`};
        c = text.charCodeAt(i++);
        if (c === q) {
          if (i < n && text.charCodeAt(i) === q) {
            ++i;
            continue;
          }
          break;
        }
        if (c === LF) ++line;
        else if (c === CR) {
          ++line;
          if (i < n && text.charCodeAt(i) === LF) ++i;
        }
      }
      if (i >= n) break;
      c = text.charCodeAt(i);
      if (c !== d && c !== LF && c !== CR) return {line, problem: `unexpected character ${JSON.stringify(String.fromCharCode(c))} after the closing quote of field ${fields}`};
    } else if (c !== d && c !== LF && c !== CR) {
      blank = false;
      do {
        if (c === q) return {line, problem: `stray quote in unquoted field ${fields}: a field containing ${quote} must be enclosed in quotes, with each inner ${quote} doubled`};
        if (++i >= n) break;
        c = text.charCodeAt(i);
      } while (c !== d && c !== LF && c !== CR);
      if (i >= n) break;
    }
    // Here c is the delimiter or a line break, at position i.
    ++i;
    if (c === d) {
      ++fields;
      blank = false;
      continue;
    }
    if (c === CR && i < n && text.charCodeAt(i) === LF) ++i;
    const problem = endRecord();
    if (problem) return problem;
    ++line;
    recordLine = line;
    fields = 1;
    blank = true;
    if (i >= nextProgress) {
      onProgress?.(i / n);
      nextProgress = i + progressStep;
    }
  }
  if (!blank) {
    const problem = endRecord();
    if (problem) return problem;
  }
  if (expected < 0) return {line: 1, problem: "the file is empty (only blank lines)"};
  onProgress?.(1);
  return null;
}
