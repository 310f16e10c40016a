import {decodeCsvBytes, sniffCsvDialect, validateCsv} from "./csv-dialect.js";

export interface PrepareCsvOptions {
  /** Override the sniffed delimiter. */
  delimiter?: string;
  /** Override the sniffed encoding. */
  encoding?: "utf-8" | "utf-16le" | "utf-16be" | "windows-1252";
  /** Name used in messages. */
  fileName: string;
}

export interface PreparedCsv {
  fileName: string;
  delimiter: string;
  encoding: string;
  /** UTF-8 bytes ready for DuckDB; absent when the file is malformed. */
  bytes?: Uint8Array;
  /** The first problem found, naming the line; absent when the file is well formed. */
  error?: {line: number | null; problem: string; message: string};
}

/**
 * Sniff, decode, validate and re-encode a CSV file. Pure, so the ingest worker, the CLI and the
 * tests all run the same checks. A malformed file yields an error and no bytes.
 */
export function prepareCsvBytes(bytes: Uint8Array, options: PrepareCsvOptions, onProgress?: (fraction: number) => void): PreparedCsv {
  const dialect = sniffCsvDialect(bytes);
  const encoding = options.encoding ?? dialect.encoding;
  const delimiter = options.delimiter ?? dialect.delimiter;
  const fail = (line: number | null, problem: string): PreparedCsv => ({
    fileName: options.fileName,
    delimiter,
    encoding,
    error: {line, problem, message: `${options.fileName}${line != null ? `, line ${line}` : ""}: ${problem}`}
  });
  if (bytes.length === 0) return fail(null, "the file is empty");
  const text = decodeCsvBytes(bytes, encoding);
  const problem = validateCsv(text, {delimiter, quote: '"', onProgress});
  if (problem) return fail(problem.line, problem.problem);
  // DuckDB reads UTF-8 only: anything else (and any BOM) is re-encoded.
  const utf8 = encoding === "utf-8" && !dialect.bom ? bytes : new TextEncoder().encode(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  return {fileName: options.fileName, delimiter, encoding, bytes: utf8};
}
