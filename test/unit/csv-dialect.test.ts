import {test} from "node:test";
import assert from "node:assert/strict";
import {decodeCsvBytes, isValidUtf8, sniffCsvDialect, sniffCsvEncoding, validateCsv, SNIFF_BYTES, type CsvProblem} from "../../src/lib/csv-dialect.js";
import {generatePatientsCsv} from "../../src/lib/sample-data.js";

const utf8 = (s: string) => new TextEncoder().encode(s);
const bytes = (...parts: (string | number[])[]) => {
  const chunks = parts.map((p) => (typeof p === "string" ? utf8(p) : Uint8Array.from(p)));
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) (out.set(c, at), (at += c.length));
  return out;
};
const utf16 = (s: string, littleEndian: boolean, bom: boolean) => {
  const out = new Uint8Array((s.length + (bom ? 1 : 0)) * 2);
  const view = new DataView(out.buffer);
  let at = 0;
  if (bom) (view.setUint16(0, 0xfeff, littleEndian), (at = 2));
  for (let i = 0; i < s.length; ++i, at += 2) view.setUint16(at, s.charCodeAt(i), littleEndian);
  return out;
};
const check = (text: string, delimiter = ",", header = true) => validateCsv(text, {delimiter, quote: '"', header});

// ---------------------------------------------------------------------------------------------
// Encoding

test("csv-dialect: BOMs decide the encoding and are dropped by decodeCsvBytes", () => {
  const text = "name,city\nJosé,Zürich\n";
  const withUtf8Bom = bytes([0xef, 0xbb, 0xbf], text);
  assert.deepEqual(sniffCsvEncoding(withUtf8Bom), {encoding: "utf-8", bom: true});
  assert.equal(decodeCsvBytes(withUtf8Bom, "utf-8"), text);
  for (const le of [true, false]) {
    const b = utf16(text, le, true);
    const expected = le ? "utf-16le" : "utf-16be";
    assert.deepEqual(sniffCsvEncoding(b), {encoding: expected, bom: true});
    assert.equal(decodeCsvBytes(b, expected), text);
    const d = sniffCsvDialect(b);
    assert.equal(d.encoding, expected);
    assert.equal(d.bom, true);
    assert.equal(d.delimiter, ",");
  }
});

test("csv-dialect: UTF-16 without a BOM is recognised by its zero bytes", () => {
  const text = "a;b\n1;2\n3;4\n";
  assert.deepEqual(sniffCsvEncoding(utf16(text, true, false)), {encoding: "utf-16le", bom: false});
  assert.deepEqual(sniffCsvEncoding(utf16(text, false, false)), {encoding: "utf-16be", bom: false});
  const d = sniffCsvDialect(utf16(text, true, false));
  assert.equal(d.delimiter, ";");
  assert.equal(decodeCsvBytes(utf16(text, false, false), "utf-16be"), text);
});

test("csv-dialect: valid UTF-8 stays UTF-8; Latin-1 / Windows-1252 bytes fall back to windows-1252", () => {
  assert.deepEqual(sniffCsvEncoding(utf8("a,b\nJosé,€5\n")), {encoding: "utf-8", bom: false});
  assert.deepEqual(sniffCsvEncoding(utf8("plain,ascii\n1,2\n")), {encoding: "utf-8", bom: false});
  // "José,€5" in Windows-1252: é = 0xE9, € = 0x80.
  const latin = bytes("a,b\nJos", [0xe9], ",", [0x80], "5\n");
  assert.deepEqual(sniffCsvEncoding(latin), {encoding: "windows-1252", bom: false});
  assert.equal(decodeCsvBytes(latin, "windows-1252"), "a,b\nJosé,€5\n");
  assert.equal(sniffCsvDialect(latin).encoding, "windows-1252");
  // The C1 range follows the WHATWG windows-1252 index on every host (Node's decoder alone gives U+0080).
  assert.equal(decodeCsvBytes(Uint8Array.from([0x80, 0x85, 0x93, 0x94, 0x96, 0x99, 0x9f, 0x81, 0xa0, 0xff]), "windows-1252"), "\u20ac\u2026\u201c\u201d\u2013\u2122\u0178\x81\xa0\xff");
  // Overlong encodings and UTF-16 surrogates are not UTF-8.
  assert.equal(isValidUtf8(Uint8Array.from([0xc0, 0xaf])), false);
  assert.equal(isValidUtf8(Uint8Array.from([0xed, 0xa0, 0x80])), false);
  assert.equal(isValidUtf8(utf8("😀 ok")), true);
});

test("csv-dialect: a Latin-1 byte after the first 64 KB still selects windows-1252", () => {
  const head = "id,name\n" + "1,abc\n".repeat(Math.ceil(SNIFF_BYTES / 6) + 10);
  const b = bytes(head, "2,Ren", [0xe9], "\n");
  assert.ok(b.length > SNIFF_BYTES);
  assert.equal(sniffCsvDialect(b).encoding, "windows-1252");
  // ...while a multi-byte UTF-8 character cut in half at the 64 KB boundary is fine.
  const padding = "x".repeat(SNIFF_BYTES - "id,name\n1,".length - 1);
  const cut = utf8(`id,name\n1,${padding}é\n2,ok\n`);
  assert.equal(cut[SNIFF_BYTES - 1], 0xc3);
  const d = sniffCsvDialect(cut);
  assert.equal(d.encoding, "utf-8");
  assert.equal(d.delimiter, ",");
});

// ---------------------------------------------------------------------------------------------
// Delimiter, header, line ending

test("csv-dialect: the delimiter is the one giving a consistent field count", () => {
  const cases: [string, string][] = [
    ["a,b,c\n1,2,3\n4,5,6\n", ","],
    ["a;b;c\n1;2;3\n4;5;6\n", ";"],
    ["a\tb\tc\n1\t2\t3\n", "\t"],
    ["a|b|c\n1|2|3\n", "|"],
    // decimal commas inside a semicolon file
    ["name;weight;height\nAnna;61,5;1,70\nBen;80;1,85\nCara;55,2;1,62\n", ";"],
    // delimiters inside quoted fields do not count
    ['id,note\n1,"a;b;c"\n2,"d;e"\n3,"x|y|z"\n', ","],
    ['id;note\n1;"Smith, John"\n2;"Doe, Jane, Dr."\n', ";"],
    // commas in free text of a pipe file
    ["id|note|n\n1|fever, cough|2\n2|rash|3\n3|a, b, c|4\n", "|"],
    // a quoted field spanning lines
    ['a,b\n"line one\nline two",2\n3,4\n', ","],
    // one column: nothing to split on, default ","
    ["value\n1\n2\n3\n", ","]
  ];
  for (const [text, delimiter] of cases) assert.equal(sniffCsvDialect(utf8(text)).delimiter, delimiter, JSON.stringify(text));
});

test("csv-dialect: header detection", () => {
  assert.equal(sniffCsvDialect(utf8("age,weight\n34,70.5\n51,80\n")).header, true);
  assert.equal(sniffCsvDialect(utf8("34,70.5\n51,80\n29,66\n")).header, false);
  assert.equal(sniffCsvDialect(utf8("name,born\nAnn,2001-03-04\nBob,1999-12-31\n")).header, true);
  assert.equal(sniffCsvDialect(utf8("Ann,2001-03-04\nBob,1999-12-31\n")).header, false);
  // All-text columns give no evidence either way: assume a header.
  assert.equal(sniffCsvDialect(utf8("city,state\nBoston,MA\nAustin,TX\n")).header, true);
  // pandas writes an empty name for the index column; still a header.
  assert.equal(sniffCsvDialect(utf8(",x,y\n0,1.5,2\n1,3.5,4\n")).header, true);
});

test("csv-dialect: line ending is the first break outside quotes", () => {
  assert.equal(sniffCsvDialect(utf8("a,b\n1,2\n")).lineEnding, "\n");
  assert.equal(sniffCsvDialect(utf8("a,b\r\n1,2\r\n")).lineEnding, "\r\n");
  assert.equal(sniffCsvDialect(utf8("a,b\r1,2\r")).lineEnding, "\r");
  assert.equal(sniffCsvDialect(utf8('"x\ny",b\r\n1,2\r\n')).lineEnding, "\r\n");
  assert.equal(sniffCsvDialect(utf8("a,b")).lineEnding, "\n");
  const d = sniffCsvDialect(bytes([0xef, 0xbb, 0xbf], "a;b\r\n1;2\r\n"));
  assert.deepEqual(d, {encoding: "utf-8", bom: true, delimiter: ";", quote: '"', header: true, lineEnding: "\r\n"});
});

test("csv-dialect: the sniffer sees only the first 64 KB and ignores the cut-off last line", () => {
  const lines = ["a;b;c"];
  while (lines.join("\n").length < SNIFF_BYTES * 2) lines.push("1;2,5;3");
  const text = lines.join("\n") + "\n";
  // Beyond the sample the file changes shape; the guess must not see it.
  const b = utf8(text + "x,y,z,w,v\n".repeat(50_000));
  assert.equal(sniffCsvDialect(b).delimiter, ";");
});

// ---------------------------------------------------------------------------------------------
// Validation: valid files

test("csv-dialect: well-formed files validate", () => {
  const valid = [
    "a,b\n1,2\n",
    "a,b\n1,2", // no final line break
    "a,b\r\n1,2\r\n3,4\r\n",
    "a,b\r1,2\r3,4\r", // classic Mac
    'a,b\n"x\ny",2\n"say ""hi""",3\n', // quoted newline and escaped quotes
    'a,b\n"x\r\ny",2\r\n',
    'a,b\n"",""\n,\n', // empty fields
    "\ufeffa,b\n1,2\n", // a BOM left in the text
    "a,b\n1,2\n\n3,4\n\n\n", // blank lines are skipped, as DuckDB does
    "a,b\n", // header only
    "a\n1\n\n2\n", // one column
    'a,b\n"1,5",2\n'
  ];
  for (const text of valid) assert.equal(check(text), null, JSON.stringify(text));
  assert.equal(check("a;b\n1,5;2\n", ";"), null);
  assert.equal(check("a\tb\n1\t2\n", "\t"), null);
  assert.equal(check("\n1,2\n3,4\n", ",", false), null, "without a header, leading blank lines are fine");
});

// ---------------------------------------------------------------------------------------------
// Validation: each problem, with its exact line

test("csv-dialect: wrong number of fields names the record's first line", () => {
  assert.deepEqual(check("a,b,c,d,e\n1,2,3,4,5\n1,2,3,4\n"), {line: 3, problem: "expected 5 fields but found 4"});
  assert.deepEqual(check("a,b\n1,2\n1,2,3\n"), {line: 3, problem: "expected 2 fields but found 3"});
  assert.deepEqual(check("a\n1\n2,3\n"), {line: 3, problem: "expected 1 field but found 2"});
  assert.deepEqual(check("a,b\n1,2\n3"), {line: 3, problem: "expected 2 fields but found 1"}, "last record without a line break");
  // A quoted field with line breaks makes later line numbers physical lines, not record numbers.
  assert.deepEqual(check('a,b\n"x\ny\nz",1\n1,2,3\n'), {line: 5, problem: "expected 2 fields but found 3"});
  // A record that starts on line 2 and spans to line 3 is blamed on line 2.
  assert.deepEqual(check('a,b,c\n1,"x\ny"\n'), {line: 2, problem: "expected 3 fields but found 2"});
  // CRLF counts as one line break, also inside quotes; blank lines count too.
  assert.deepEqual(check('a,b\r\n"x\r\ny",1\r\n\r\n1\r\n'), {line: 5, problem: "expected 2 fields but found 1"});
  assert.deepEqual(check("a,b\r1,2\r3\r"), {line: 3, problem: "expected 2 fields but found 1"});
  assert.deepEqual(check("a;b;c\n1;2;3\n4;5\n", ";"), {line: 3, problem: "expected 3 fields but found 2"});
  // Only the first problem is reported.
  assert.deepEqual(check("a,b\n1\n2\n"), {line: 2, problem: "expected 2 fields but found 1"});
});

test("csv-dialect: an unterminated quoted field names the line where it opens", () => {
  assert.deepEqual(check('a,b\n1,2\n3,"abc\n4,5\n'), {line: 3, problem: "unterminated quoted field starting at line 3"});
  assert.deepEqual(check('a,b\r\n1,2\r\n"abc'), {line: 3, problem: "unterminated quoted field starting at line 3"});
  assert.deepEqual(check('"a,b\n'), {line: 1, problem: "unterminated quoted field starting at line 1"});
});

test("csv-dialect: a stray quote inside an unquoted field", () => {
  const p = check('a,b\n1,2\n3,4 "inch"\n');
  assert.equal(p?.line, 3);
  assert.match(p!.problem, /^stray quote in unquoted field 2/);
  assert.equal(check('a,b"\n1,2\n')?.line, 1);
});

test("csv-dialect: text after a closing quote", () => {
  assert.deepEqual(check('a,b\n"x"y,1\n'), {line: 2, problem: 'unexpected character "y" after the closing quote of field 1'});
  assert.deepEqual(check('a,b\n1,"x" \n'), {line: 2, problem: 'unexpected character " " after the closing quote of field 2'});
});

test("csv-dialect: empty files and files without a header", () => {
  assert.deepEqual(check(""), {line: 1, problem: "the file is empty"});
  assert.deepEqual(check("\ufeff"), {line: 1, problem: "the file is empty"});
  assert.deepEqual(check("\n\r\n\n"), {line: 1, problem: "the file is empty (only blank lines)"});
  assert.deepEqual(check("\n\n", ",", false), {line: 1, problem: "the file is empty (only blank lines)"});
  assert.deepEqual(check("\na,b\n1,2\n"), {line: 1, problem: "no header: line 1 is blank, but the first line must hold the column names"});
});

test("csv-dialect: delimiter and quote must be usable single characters", () => {
  assert.throws(() => validateCsv("a", {delimiter: ",,"}), /single characters/);
  assert.throws(() => validateCsv("a", {delimiter: '"'}), /cannot be used/);
});

// ---------------------------------------------------------------------------------------------
// Independent naive implementation, compared on many random small inputs

/** A deliberately different validator: record by record with indexOf and regexes, O(n^2) line counting. */
function naiveValidate(text: string): {line: number; kind: string; expected?: number; found?: number} | null {
  if (text.startsWith("\ufeff")) text = text.slice(1);
  if (text === "") return {line: 1, kind: "empty"};
  const lineAt = (pos: number) => 1 + (text.slice(0, pos).match(/\r\n|\r|\n/g) ?? []).length;
  let pos = 0;
  let expected = -1;
  while (pos < text.length) {
    const start = pos;
    let fields = 1;
    // blank line?
    const blank = /^(\r\n|\r|\n)/.exec(text.slice(pos));
    if (blank) {
      if (expected < 0) return /[^\r\n]/.test(text) ? {line: lineAt(pos), kind: "no-header"} : {line: 1, kind: "empty"};
      pos += blank[0].length;
      continue;
    }
    for (;;) {
      if (text[pos] === '"') {
        let j = pos + 1;
        for (;;) {
          const k = text.indexOf('"', j);
          if (k < 0) return {line: lineAt(pos), kind: "unterminated"};
          if (text[k + 1] === '"') j = k + 2;
          else {
            pos = k + 1;
            break;
          }
        }
        if (pos < text.length && !/^[,\r\n]/.test(text[pos])) return {line: lineAt(pos), kind: "after-quote"};
      } else {
        const m = /^[^,"\r\n]*/.exec(text.slice(pos))![0];
        pos += m.length;
        if (text[pos] === '"') return {line: lineAt(pos), kind: "stray"};
      }
      if (text[pos] === ",") {
        ++fields;
        ++pos;
        continue;
      }
      break;
    }
    if (expected < 0) expected = fields;
    else if (fields !== expected) return {line: lineAt(start), kind: "count", expected, found: fields};
    const eol = /^(\r\n|\r|\n)/.exec(text.slice(pos));
    if (eol) pos += eol[0].length;
  }
  return null;
}

function kindOf(p: CsvProblem | null) {
  if (!p) return null;
  const count = /^expected (\d+) fields? but found (\d+)$/.exec(p.problem);
  if (count) return {line: p.line, kind: "count", expected: Number(count[1]), found: Number(count[2])};
  const kinds: [RegExp, string][] = [
    [/^the file is empty/, "empty"],
    [/^no header/, "no-header"],
    [/^unterminated quoted field starting at line (\d+)$/, "unterminated"],
    [/^stray quote/, "stray"],
    [/after the closing quote/, "after-quote"]
  ];
  const kind = kinds.find(([re]) => re.test(p.problem));
  assert.ok(kind, `unknown problem ${p.problem}`);
  if (kind[1] === "unterminated") assert.equal(Number(/(\d+)$/.exec(p.problem)![1]), p.line);
  return {line: p.line, kind: kind[1]};
}

test("csv-dialect: validateCsv agrees with a naive implementation on 20,000 random inputs", () => {
  // Small alphabet so that quotes, delimiters and every kind of line break meet often.
  const alphabet = ["a", "b", ",", ",", '"', "\n", "\r\n", "\r", " "];
  let state = 12345;
  const random = () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 4294967296);
  let problems = 0;
  for (let t = 0; t < 20_000; ++t) {
    let text = "";
    // Start most inputs from a valid two-column prefix so that later records are reached.
    if (random() < 0.6) text = "h1,h2\n" + "x,y\n".repeat(Math.floor(random() * 3));
    const length = Math.floor(random() * 14);
    for (let i = 0; i < length; ++i) text += alphabet[Math.floor(random() * alphabet.length)];
    const expected = naiveValidate(text);
    assert.deepEqual(kindOf(check(text)), expected, JSON.stringify(text));
    if (expected) ++problems;
  }
  assert.ok(problems > 5000 && problems < 19_000, `a mix of valid and invalid inputs: ${problems}`);
});

// ---------------------------------------------------------------------------------------------
// Scale and progress

test("csv-dialect: a 20 MB generated file validates, and a bad line near its end is found with the right number", () => {
  const text = [...generatePatientsCsv({rows: 120_000, seed: 3})].join("");
  assert.ok(text.length > 15_000_000);
  const fractions: number[] = [];
  assert.equal(validateCsv(text, {delimiter: ",", onProgress: (f) => fractions.push(f)}), null);
  assert.ok(fractions.length >= 3, `progress calls: ${fractions.length}`);
  assert.equal(fractions[fractions.length - 1], 1);
  for (let i = 1; i < fractions.length; ++i) assert.ok(fractions[i] > fractions[i - 1]);
  const lines = text.split("\n");
  lines[119_000] = lines[119_000].replace(/,[^,]*$/, ""); // drop the last field of data row 118,999 (line 119,001)
  assert.deepEqual(validateCsv(lines.join("\n"), {delimiter: ","}), {line: 119_001, problem: "expected 19 fields but found 18"});
  const d = sniffCsvDialect(utf8(text));
  assert.deepEqual(d, {encoding: "utf-8", bom: false, delimiter: ",", quote: '"', header: true, lineEnding: "\n"});
});
