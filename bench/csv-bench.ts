// CSV sniff/decode/validate throughput on 100+ MB of generated text, and generator throughput.
// Ratios are against baselines measured in the same run: the native TextDecoder over the same bytes,
// and a bare JavaScript loop that only counts line feeds with charCodeAt (the floor for any
// char-by-char validator).
import {decodeCsvBytes, sniffCsvDialect, validateCsv} from "../src/lib/csv-dialect.js";
import {formatPatientsCsv, generatePatients, generatePatientsCsv, type PatientRecord} from "../src/lib/sample-data.js";

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function time<T>(run: () => T, repeats = 3): {ms: number; result: T} {
  const times: number[] = [];
  let result!: T;
  for (let i = 0; i < repeats; ++i) {
    const t0 = performance.now();
    result = run();
    times.push(performance.now() - t0);
  }
  return {ms: median(times), result};
}

function countLineFeeds(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; ++i) if (text.charCodeAt(i) === 10) ++n;
  return n;
}

/** Records with a free-text note that needs quoting (commas, doubled quotes, a line break in 1 row of 10). */
function* withNotes(records: Iterable<PatientRecord>): Generator<PatientRecord> {
  let i = 0;
  for (const r of records) {
    ++i;
    yield {...r, note: i % 10 === 0 ? `Seen by Dr. "${r.patient_name}", follow-up\nin 2 weeks` : `stable, ${r.diagnosis_code}`};
  }
}

export async function benchCsv(): Promise<void> {
  const rows = 750_000;
  const tGen = performance.now();
  const plain = [...generatePatientsCsv({rows, seed: 1})].join("");
  const genMs = performance.now() - tGen;
  console.log(`generate ${rows.toLocaleString("en-US")} rows as CSV: ${genMs.toFixed(0)} ms (${((rows / genMs) * 1000).toFixed(0)} rows/s, ${(plain.length / 1e6).toFixed(0)} MB)`);

  const columns = ["mrn", "patient_name", "note", "zip", "admission_date", "diagnosis_code", "readmitted_30d"];
  const quoted = [...formatPatientsCsv(withNotes(generatePatients({rows: 1_500_000, seed: 2})), {columns})].join("");

  for (const [name, text] of [
    ["plain (no quotes)", plain],
    ["quoted notes", quoted]
  ] as const) {
    const bytes = new TextEncoder().encode(text);
    const mb = bytes.length / 1e6;
    const nativeDecode = time(() => new TextDecoder().decode(bytes));
    const loop = time(() => countLineFeeds(text));
    const sniff = time(() => sniffCsvDialect(bytes));
    const decode = time(() => decodeCsvBytes(bytes, sniff.result.encoding));
    const validate = time(() => validateCsv(text, {delimiter: sniff.result.delimiter}));
    if (validate.result) throw new Error(`bench input is malformed: line ${validate.result.line}: ${validate.result.problem}`);
    console.log(`\n${name}: ${mb.toFixed(0)} MB, ${loop.result.toLocaleString("en-US")} lines`);
    console.log(`  baseline TextDecoder.decode     ${nativeDecode.ms.toFixed(0).padStart(6)} ms  ${(mb / (nativeDecode.ms / 1000)).toFixed(0).padStart(5)} MB/s`);
    console.log(`  baseline charCodeAt LF loop     ${loop.ms.toFixed(0).padStart(6)} ms  ${(mb / (loop.ms / 1000)).toFixed(0).padStart(5)} MB/s`);
    for (const [label, t] of [
      ["sniffCsvDialect (+ UTF-8 check)", sniff],
      ["decodeCsvBytes", decode],
      ["validateCsv", validate]
    ] as const) {
      console.log(
        `  ${label.padEnd(31)} ${t.ms.toFixed(0).padStart(6)} ms  ${(mb / (t.ms / 1000)).toFixed(0).padStart(5)} MB/s  ` +
          `x${(t.ms / nativeDecode.ms).toFixed(2)} TextDecoder, x${(t.ms / loop.ms).toFixed(2)} LF loop`
      );
    }
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchCsv();
