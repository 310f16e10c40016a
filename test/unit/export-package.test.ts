import {test} from "node:test";
import assert from "node:assert/strict";
import {existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {createHash} from "node:crypto";
import {parquetReadObjects} from "hyparquet";
import {openWasmDuckDBInNode} from "../../loaders/duckdb-wasm-node.js";
import {chooseStorage, parseMemorySize, removeStaleWork, resolveExportTime, runApply, writePackageAtomically} from "../../loaders/apply-package.js";
import {spawnSync} from "node:child_process";
import {loadCsv} from "../../src/lib/ingest.js";
import {applyAndExport, formatCsv, formatCsvField, zipPackage} from "../../src/lib/export-package.js";
import {tableRowsFromRows, writeDataFiles} from "../../src/lib/data-files.js";
import type {FieldType} from "../../src/lib/transform-config.js";

/** data.parquet's bytes for rows held in memory, through the package's data-file writer. */
async function writeParquet(columns: string[], types: FieldType[], rows: (string | null)[][]): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  await writeDataFiles(tableRowsFromRows(columns, types, rows), {write: () => {}}, {write: (b) => void parts.push(b)});
  return new Uint8Array(Buffer.concat(parts));
}
import {unzipSync} from "fflate";
import {deriveKeysFromSecret, formatKeyFile} from "../../src/lib/keys.js";
import {parseTransformConfig} from "../../src/lib/transform-config.js";

const DIR = new URL("../fixtures/apply/", import.meta.url).pathname;
const SECRET = new Uint8Array(32).fill(3);
const TIME = "2026-01-31T12:00:00Z";
const work = mkdtempSync(join(tmpdir(), "deid-export-test-"));
const keyFile = join(work, "test.key");
writeFileSync(keyFile, formatKeyFile(SECRET));
const inputs = [DIR + "patients.csv", DIR + "encounters.csv"];
const configPath = DIR + "config.json";
process.on("exit", () => rmSync(work, {recursive: true, force: true}));
const BIN = new URL("../../bin/deid-workbench.js", import.meta.url).pathname;
const cli = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], {encoding: "utf8"});

function readPackage(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const walk = (sub: string) => {
    for (const entry of readdirSync(join(dir, sub), {withFileTypes: true})) {
      const rel = sub ? `${sub}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(rel);
      else files.set(rel, readFileSync(join(dir, rel)));
    }
  };
  walk("");
  return files;
}

/** A small RFC 4180 parser (quoted fields, doubled quotes, embedded newlines); "" stays "", empty is null. */
function parseCsv(text: string): (string | null)[][] {
  const rows: (string | null)[][] = [];
  let row: (string | null)[] = [];
  let i = 0;
  while (i < text.length) {
    let value: string | null;
    if (text[i] === '"') {
      let s = "";
      ++i;
      for (;;) {
        if (text[i] === '"' && text[i + 1] === '"') (s += '"'), (i += 2);
        else if (text[i] === '"') {
          ++i;
          break;
        } else s += text[i++];
      }
      value = s;
    } else {
      let s = "";
      while (i < text.length && text[i] !== "," && text[i] !== "\n") s += text[i++];
      value = s === "" ? null : s;
    }
    row.push(value);
    if (text[i] === ",") ++i;
    else if (text[i] === "\n") {
      rows.push(row);
      row = [];
      ++i;
    }
  }
  return rows;
}

test("formatCsvField quotes only where RFC 4180 needs it and tells empty from missing", () => {
  assert.equal(formatCsvField(null), "");
  assert.equal(formatCsvField(""), '""');
  assert.equal(formatCsvField("plain"), "plain");
  assert.equal(formatCsvField('say "hi"'), '"say ""hi"""');
  assert.equal(formatCsvField("a,b"), '"a,b"');
  assert.equal(formatCsvField("line\nbreak"), '"line\nbreak"');
  assert.equal(formatCsv(["a", "b"], [["1", null], ["", "x,y"]]), 'a,b\n1,\n"","x,y"\n');
});

test("parquet holds exactly the CSV's rows and values (read back with hyparquet)", async () => {
  const columns = ["id", "n", "x", "s"];
  const rows: (string | null)[][] = [
    ["1", "42", "1.5", "a,b"],
    ["2", null, "-0.25", ""],
    ["3", "007", null, 'q"uote'],
    ["4", "-9", "1e21", "ünï"]
  ];
  const bytes = await writeParquet(columns, ["string", "integer", "decimal", "string"], rows);
  const back = await parquetReadObjects({file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer});
  const csvRows = parseCsv(formatCsv(columns, rows)).slice(1);
  assert.equal(back.length, csvRows.length);
  back.forEach((r, i) => assert.deepEqual(columns.map((c) => (r[c] === null || r[c] === undefined ? null : String(r[c]))), csvRows[i]));
  // "007" is not canonical integer text, so n stays a string column; x is canonical except 1e21 -> string too
  assert.equal(typeof back[0].n, "string");
  const typed = await writeParquet(["n"], ["integer"], [["42"], [null], ["-9"]]);
  const typedBack = await parquetReadObjects({file: typed.buffer.slice(typed.byteOffset, typed.byteOffset + typed.byteLength) as ArrayBuffer});
  assert.deepEqual(typedBack.map((r) => r.n), [42n, null, -9n]);
});

let cliPackage: Map<string, Buffer>;

test("CLI apply writes the package; two runs are byte-identical; data.parquet equals data.csv", async () => {
  const out1 = join(work, "pkg1");
  const out2 = join(work, "pkg2");
  await runApply({configPath, inputPaths: inputs, outDir: out1, keyFile, exportTime: TIME});
  // the second run keeps its tables in a DuckDB database file with a tiny memory limit: same bytes
  await runApply({configPath, inputPaths: [...inputs].reverse(), outDir: out2, keyFile, exportTime: TIME, storage: "disk", memoryLimit: "64MiB"});
  const a = readPackage(out1);
  const b = readPackage(out2);
  assert.deepEqual([...a.keys()].sort(), ["SHA256SUMS", "audit.jsonl", "config.json", "data/encounters.csv", "data/encounters.parquet", "data/patients.csv", "data/patients.parquet", "report.html"]);
  for (const [name, bytes] of a) assert.ok(bytes.equals(b.get(name)!), `${name} differs between runs`);
  cliPackage = a;
  for (const table of ["patients", "encounters"]) {
    const csv = parseCsv(a.get(`data/${table}.csv`)!.toString("utf8"));
    const pq = a.get(`data/${table}.parquet`)!;
    const back = await parquetReadObjects({file: pq.buffer.slice(pq.byteOffset, pq.byteOffset + pq.byteLength) as ArrayBuffer});
    const header = csv[0] as string[];
    assert.equal(back.length, csv.length - 1);
    back.forEach((r, i) => assert.deepEqual(header.map((c) => (r[c] == null ? null : String(r[c]))), csv[i + 1], `${table} row ${i}`));
  }
  // SHA256SUMS lists every other file with its real hash
  const sums = a.get("SHA256SUMS")!.toString("utf8").trim().split("\n");
  assert.equal(sums.length, a.size - 1);
  for (const line of sums) {
    const [hash, name] = line.split("  ");
    assert.equal(createHash("sha256").update(a.get(name)!).digest("hex"), hash, name);
  }
  // the packaged config records fingerprints; its hash is what the audit trail cites
  const config = JSON.parse(a.get("config.json")!.toString("utf8"));
  assert.match(config.inputs[0].sha256, /^[0-9a-f]{64}$/);
  assert.equal(config.inputs[0].sha256, createHash("sha256").update(readFileSync(inputs[0])).digest("hex"));
  assert.equal(config.keys.derivation.source, "key-file");
  const configHash = "sha256:" + createHash("sha256").update(a.get("config.json")!).digest("hex");
  const audit = a.get("audit.jsonl")!.toString("utf8").trim().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(audit.map((e) => e.step), ["load", "load", "transformation", "export"]);
  assert.ok(audit.every((e) => e.configHash === configHash && e.time === TIME && e.toolVersion === "0.1.0"));
  const exported = Object.fromEntries(audit[3].outputs.map((o: {name: string; sha256: string}) => [o.name, o.sha256]));
  assert.equal(exported["data/patients.csv"], createHash("sha256").update(a.get("data/patients.csv")!).digest("hex"));
});

test("browser engine (DuckDB-WASM) builds the byte-identical package to the CLI's (native)", async () => {
  assert.ok(cliPackage, "depends on the CLI test");
  const conn = await openWasmDuckDBInNode();
  try {
    const config = parseTransformConfig(readFileSync(configPath, "utf8"));
    const loaded = [];
    for (const [table, path] of [["patients", inputs[0]], ["encounters", inputs[1]]] as const) {
      const bytes = readFileSync(path);
      const name = path.split("/").pop()!;
      conn.registerFile(name, bytes);
      await loadCsv(conn, name, `src_${table}`, {delimiter: ",", allText: true});
      loaded.push({table, sqlTable: `src_${table}`, name, sha256: createHash("sha256").update(bytes).digest("hex")});
    }
    const {files} = await applyAndExport(conn, config, {
      inputs: loaded,
      keys: await deriveKeysFromSecret(SECRET),
      exportTime: TIME
    });
    assert.deepEqual([...files.keys()].sort(), [...cliPackage.keys()].sort());
    for (const [name, bytes] of files) assert.ok(Buffer.from(bytes).equals(cliPackage.get(name)!), `${name} differs between DuckDB-WASM and native`);
  } finally {
    conn.close();
  }
});

test("no PHI in audit.jsonl, config.json or report.html; the report is self-contained and printable", () => {
  assert.ok(cliPackage, "depends on the CLI test");
  const phi: string[] = [];
  for (const line of readFileSync(inputs[0], "utf8").trim().split("\n").slice(1)) {
    const [mrn, name, ssn, birth, , zip, , , admitted] = line.split(",");
    phi.push(`"${mrn}"`, name, ssn, ...(birth ? [birth] : []), zip, ...(admitted ? [admitted] : []));
  }
  for (const file of ["audit.jsonl", "config.json", "report.html", "data/patients.csv", "data/encounters.csv"]) {
    const text = cliPackage.get(file)!.toString("utf8");
    for (const value of phi) assert.ok(!text.includes(value), `${file} contains ${value}`);
  }
  const html = cliPackage.get("report.html")!.toString("utf8");
  assert.ok(!/<script|<link|<img|<iframe|\bsrc=|url\(|@import/i.test(html), "no external resources");
  assert.deepEqual([...html.matchAll(/https?:\/\/[^\s"'<)]+/g)].map((m) => m[0]).filter((u) => u !== "http://www.w3.org/2000/svg"), []);
  assert.match(html, /@media print/);
  assert.match(html, /<svg /);
  for (const letter of "ABCDEFGHIJKLMNOPQR") assert.match(html, new RegExp(`<td class="n">${letter}</td>`));
  assert.match(html, /Signature/);
  assert.match(html, /Maximum prosecutor risk<\/td><td class="n">1<\/td><td class="n">0\.3333<\/td>/);
});

test("zipPackage: same files and bytes inside, identical zip in any time zone", async () => {
  assert.ok(cliPackage, "depends on the CLI test");
  const files = new Map([...cliPackage].map(([n, b]) => [n, new Uint8Array(b)]));
  const zip = await zipPackage(files, TIME);
  const back = unzipSync(zip);
  assert.deepEqual(Object.keys(back).sort(), [...files.keys()].sort());
  for (const [name, bytes] of files) assert.ok(Buffer.from(back[name]).equals(Buffer.from(bytes)), name);
  const other = spawnSync(process.execPath, ["--import", "tsx", "-e", `
    import("${new URL("../../src/lib/export-package.ts", import.meta.url).pathname}").then(async ({zipPackage}) => {
      const files = new Map([["a.txt", new TextEncoder().encode("hello")]]);
      process.stdout.write(Buffer.from(await zipPackage(files, "${TIME}")).toString("hex"));
    });`], {encoding: "utf8", env: {...process.env, TZ: "Pacific/Kiritimati"}});
  const here = Buffer.from(await zipPackage(new Map([["a.txt", new TextEncoder().encode("hello")]]), TIME)).toString("hex");
  assert.equal(other.stdout, here, other.stderr);
});

test("atomic output: a failed run leaves no folder and no temporary files; existing folders are kept unless --force", async () => {
  const out = join(work, "atomic");
  const otherKey = join(work, "other.key");
  writeFileSync(otherKey, formatKeyFile(new Uint8Array(32).fill(9)));
  // a config bound to the key: the wrong key must fail before anything is written
  const bound = join(work, "bound-config.json");
  writeFileSync(bound, cliPackage.get("config.json")!);
  await assert.rejects(runApply({configPath: bound, inputPaths: inputs, outDir: out, keyFile: otherKey, exportTime: TIME}), /wrong key/);
  assert.ok(!existsSync(out));
  assert.deepEqual(readdirSync(work).filter((f) => f.includes("partial")), []);
  // the packaged config reproduces the package exactly
  await runApply({configPath: bound, inputPaths: inputs, outDir: out, keyFile, exportTime: TIME});
  assert.ok(readPackage(out).get("data/patients.csv")!.equals(cliPackage.get("data/patients.csv")!));
  await assert.rejects(runApply({configPath: bound, inputPaths: inputs, outDir: out, keyFile, exportTime: TIME}), /already exists/);
  await runApply({configPath: bound, inputPaths: inputs, outDir: out, keyFile, exportTime: "2026-02-01T00:00:00Z", force: true});
  assert.match(readFileSync(join(out, "audit.jsonl"), "utf8"), /2026-02-01T00:00:00Z/);
  assert.deepEqual(readdirSync(work).filter((f) => f.includes("partial")), []);
});

test("atomic output: a write that fails half-way leaves neither the folder nor the partial files", async () => {
  const out = join(work, "half");
  const files = new Map<string, Uint8Array>([["config.json", new Uint8Array([123, 125])], ["data.csv", new Uint8Array([97])], ["bad\u0000name", new Uint8Array([1])]]);
  await assert.rejects(writePackageAtomically(files, out));
  assert.ok(!existsSync(out));
  assert.deepEqual(readdirSync(work).filter((f) => f.includes("partial")), []);
});

test("storage choice: memory sizes parse, inputs over a quarter of the limit go to a database file", () => {
  assert.equal(parseMemorySize("8GB"), 8e9);
  assert.equal(parseMemorySize("4096MiB"), 4096 * 2 ** 20);
  assert.equal(parseMemorySize("1.5 GiB"), 1.5 * 2 ** 30);
  assert.throws(() => parseMemorySize("lots"), /like 8GB/);
  assert.equal(chooseStorage(1e9, "8GB"), "memory");
  assert.equal(chooseStorage(3e9, "8GB"), "disk");
});

test("leftovers of a killed run (its process gone) are removed; those of a live process are kept", () => {
  const target = join(work, "stale-pkg");
  const dead = join(work, ".stale-pkg.work-99999999-0123abcd");
  const deadPartial = join(work, ".stale-pkg.partial-99999999-89abcdef");
  const live = join(work, `.stale-pkg.work-${process.ppid}-0123abcd`);
  const other = join(work, ".other-pkg.work-99999999-0123abcd");
  for (const d of [dead, deadPartial, live, other]) writeFileSync(d, "");
  removeStaleWork(target);
  assert.ok(!existsSync(dead) && !existsSync(deadPartial), "dead process's folders removed");
  assert.ok(existsSync(live), "a running process's folder is kept");
  assert.ok(existsSync(other), "another package's folder is kept");
  for (const d of [live, other]) rmSync(d);
});

test("atomic output: a run that fails after the data streamed out leaves no folder, no partial files and no DuckDB work folder", async () => {
  const out = join(work, "late-failure");
  // the zip goes under a path whose parent is a file: it fails after the whole package was written
  const blocker = join(work, "not-a-folder");
  writeFileSync(blocker, "x");
  await assert.rejects(runApply({configPath, inputPaths: inputs, outDir: out, keyFile, exportTime: TIME, zipPath: join(blocker, "package.zip")}), /ENOTDIR|EEXIST|not a directory/);
  assert.ok(!existsSync(out));
  assert.deepEqual(readdirSync(work).filter((f) => f.includes("late-failure")), []);
});

test("bad input errors: different dataset, wrong input count, missing key, CLI exit codes", async () => {
  const bound = join(work, "bound-config.json");
  const changed = join(work, "patients.csv");
  writeFileSync(changed, readFileSync(inputs[0], "utf8").replace("Alice", "Alicia"));
  await assert.rejects(runApply({configPath: bound, inputPaths: [changed, inputs[1]], outDir: join(work, "x1"), keyFile, exportTime: TIME}), /config for a different dataset: the config was made for patients\.csv with SHA-256 [0-9a-f]{64}, but no input matches \(.*patients\.csv has [0-9a-f]{64}\)/);
  await assert.rejects(runApply({configPath: bound, inputPaths: [inputs[0]], outDir: join(work, "x2"), keyFile, exportTime: TIME}), /describes 2 input file\(s\).*but 1 were given/);
  await assert.rejects(runApply({configPath: bound, inputPaths: inputs, outDir: join(work, "x3"), exportTime: TIME}), /made with a key file: give it with --key-file/);
  const x4 = cli(["apply", "--config", bound, "--input", changed, inputs[1], "--out", join(work, "x4"), "--key-file", keyFile, "--quiet"]);
  assert.equal(x4.status, 1);
  assert.match(x4.stderr, /config for a different dataset/);
  const x5 = cli(["apply", "--config", bound, "--out", join(work, "x5")]);
  assert.equal(x5.status, 2);
  assert.match(x5.stderr, /missing required flag --input/);
  assert.equal(cli(["apply", "--config", bound, "--input", inputs[0], "--out", join(work, "x6"), "--time", "yesterday"]).status, 2);
  assert.ok(!existsSync(join(work, "x4")));
});

test("keygen writes a private key file and refuses to overwrite it", async () => {
  const out = join(work, "new.key");
  const first = cli(["keygen", "--out", out]);
  assert.equal(first.status, 0, first.stderr);
  assert.match(first.stdout, /fingerprints: pseudonym [0-9a-f]{32}, date-shift [0-9a-f]{32}/);
  const second = cli(["keygen", "--out", out]);
  assert.equal(second.status, 1);
  assert.match(second.stderr, /already exists; refusing to overwrite/);
  assert.equal(statSync(out).mode & 0o777, 0o600);
  assert.match(readFileSync(out, "utf8"), /"format":"deid-workbench-key"/);
});

test("export time: explicit, else SOURCE_DATE_EPOCH", () => {
  assert.equal(resolveExportTime("2026-01-01T00:00:00Z"), "2026-01-01T00:00:00Z");
  const saved = process.env.SOURCE_DATE_EPOCH;
  process.env.SOURCE_DATE_EPOCH = "1767225600";
  try {
    assert.equal(resolveExportTime(), "2026-01-01T00:00:00Z");
  } finally {
    if (saved === undefined) delete process.env.SOURCE_DATE_EPOCH;
    else process.env.SOURCE_DATE_EPOCH = saved;
  }
});

test("passphrase keys: the packaged config records PBKDF2 salt and iterations; re-running with it reproduces the data; a wrong passphrase is refused", async () => {
  const env = {...process.env, DEID_PASS: "correct horse battery staple", DEID_WRONG: "correct horse battery stapler"};
  const run = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], {encoding: "utf8", env});
  const first = join(work, "pass1");
  const r1 = run(["apply", "--config", configPath, "--input", ...inputs, "--out", first, "--passphrase-env", "DEID_PASS", "--time", TIME, "--quiet"]);
  assert.equal(r1.status, 0, r1.stderr);
  const packaged = JSON.parse(readFileSync(join(first, "config.json"), "utf8"));
  assert.equal(packaged.keys.derivation.source, "passphrase");
  assert.equal(packaged.keys.derivation.iterations, 600000);
  assert.match(packaged.keys.derivation.salt, /^[A-Za-z0-9+/]{22}==$/);
  const second = join(work, "pass2");
  const r2 = run(["apply", "--config", join(first, "config.json"), "--input", ...inputs, "--out", second, "--passphrase-env", "DEID_PASS", "--time", TIME, "--quiet"]);
  assert.equal(r2.status, 0, r2.stderr);
  for (const name of ["data/patients.csv", "data/encounters.parquet", "config.json", "report.html", "audit.jsonl"]) {
    assert.ok(readFileSync(join(first, name)).equals(readFileSync(join(second, name))), name);
  }
  const r3 = run(["apply", "--config", join(first, "config.json"), "--input", ...inputs, "--out", join(work, "pass3"), "--passphrase-env", "DEID_WRONG", "--time", TIME]);
  assert.equal(r3.status, 1);
  assert.match(r3.stderr, /wrong key/);
  assert.ok(!existsSync(join(work, "pass3")));
});

test("the generated sample table (data/sample-patients.csv): no direct identifier value survives anywhere in the package; both engines agree", async (t) => {
  const sample = new URL("../../data/sample-patients.csv", import.meta.url).pathname;
  if (!existsSync(sample)) return t.skip("data/sample-patients.csv is absent (run `deid-workbench generate --rows 2000 --seed 1 --out data/sample-patients.csv`)");
  const {benchConfig} = await import("../../bench/apply-bench.js");
  const {loadReferenceTables} = await import("../../loaders/hierarchy-files.js");
  const config = benchConfig();
  config.privacyModel.suppressionLimit = 1;
  const cfgPath = join(work, "sample-config.json");
  writeFileSync(cfgPath, JSON.stringify(config));
  const out = join(work, "sample-pkg");
  await runApply({configPath: cfgPath, inputPaths: [sample], outDir: out, keyFile, exportTime: TIME});
  const pkg = readPackage(out);
  const text = [...pkg.entries()].filter(([n]) => !n.endsWith(".parquet")).map(([, b]) => b.toString("utf8")).join("\n");
  const lines = readFileSync(sample, "utf8").trim().split("\n");
  const header = lines[0].split(",");
  const col = (name: string) => header.indexOf(name);
  let checked = 0;
  for (const line of lines.slice(1)) {
    const v = line.split(",");
    for (const name of ["patient_name", "ssn", "email"]) {
      if (v[col(name)] === "") continue;
      assert.ok(!text.includes(v[col(name)]), `${name} ${v[col(name)]} leaked`);
      checked++;
    }
    assert.ok(!text.includes(`${v[col("mrn")]},`), `mrn ${v[col("mrn")]} leaked`);
  }
  assert.ok(checked >= 3 * 1000);
  // parquet must not hold them either: read back and scan every string
  const pq = pkg.get("data.parquet")!;
  const rows = await parquetReadObjects({file: pq.buffer.slice(pq.byteOffset, pq.byteOffset + pq.byteLength) as ArrayBuffer});
  assert.equal(rows.length, lines.length - 1);
  assert.ok(!("patient_name" in rows[0]) && !("email" in rows[0]));
  for (const r of rows) {
    assert.equal(r.phone, null);
    assert.match(String(r.mrn), /^pt_[a-z2-7]{16}$/);
    if (r.ssn !== null) assert.match(String(r.ssn), /^\*{7}\d{4}$/);
  }
  // DuckDB-WASM builds the same bytes
  const conn = await openWasmDuckDBInNode();
  try {
    const bytes = readFileSync(sample);
    conn.registerFile("sample-patients.csv", bytes);
    await loadCsv(conn, "sample-patients.csv", "src_patients", {delimiter: ",", allText: true});
    const {files} = await applyAndExport(conn, config, {
      inputs: [{table: "patients", sqlTable: "src_patients", name: "sample-patients.csv", sha256: createHash("sha256").update(bytes).digest("hex")}],
      keys: await deriveKeysFromSecret(SECRET),
      refs: loadReferenceTables(),
      exportTime: TIME
    });
    for (const [name, b] of files) assert.ok(Buffer.from(b).equals(pkg.get(name)!), `${name} differs between DuckDB-WASM and native`);
  } finally {
    conn.close();
  }
});

test("apply --zip writes the package's files as one zip, the same bytes as zipPackage of the folder", async () => {
  const {unzipSync} = await import("fflate");
  const {zipPackage} = await import("../../src/lib/export-package.js");
  const out = join(work, "zipped");
  const zip = join(work, "package.zip");
  const r = cli(["apply", "--config", configPath, "--input", ...inputs, "--out", out, "--key-file", keyFile, "--time", "2026-01-31T12:00:00Z", "--zip", zip, "--quiet"]);
  assert.equal(r.status, 0, r.stderr);
  const folder = readPackage(out);
  const entries = unzipSync(new Uint8Array(readFileSync(zip)));
  assert.deepEqual(Object.keys(entries).sort(), [...folder.keys()].sort());
  for (const [name, bytes] of folder) assert.ok(Buffer.from(entries[name]).equals(bytes), name);
  const expected = await zipPackage(new Map([...folder].map(([n, b]) => [n, new Uint8Array(b)])), "2026-01-31T12:00:00Z");
  assert.ok(Buffer.from(readFileSync(zip)).equals(Buffer.from(expected)));
  assert.equal(cli(["apply", "--config", configPath, "--input", ...inputs, "--out", join(work, "zipped2"), "--key-file", keyFile, "--zip"]).status, 2);
});
