/** `deid-workbench risk` end to end, on the hand-worked table of risk-hand.test.ts and on Adult. */
import {test} from "node:test";
import assert from "node:assert/strict";
import {execFileSync, spawnSync} from "node:child_process";
import {existsSync, mkdtempSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";

const BIN = join(import.meta.dirname, "..", "..", "bin", "deid-workbench.js");
const dir = mkdtempSync(join(tmpdir(), "risk-cli-"));
// The 12 records of risk-hand.test.ts (worked on paper there), plus a ZIP column with a leading zero.
const CSV = ["age;sex;disease;zip", "23;M;flu;02138", "24;M;flu;02138", "27;M;cold;02139", "31;F;flu;02138", "33;F;cancer;02138", "35;F;cancer;02138", "36;F;cold;02138", "41;M;flu;02138", "44;M;flu;02138", "47;F;cancer;02138", "52;F;flu;02138", "58;M;cold;02138"].join("\n") + "\n";
const input = join(dir, "hand.csv");
writeFileSync(input, CSV);
writeFileSync(join(dir, "sex.csv"), "M;*\nF;*\n");

function run(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, "risk", ...args], {encoding: "utf8"});
  return {code: r.status, stdout: r.stdout, stderr: r.stderr};
}

test("risk-cli: --json gives the hand-worked figures", () => {
  const r = run(["--input", input, "--delimiter", ";", "--qi", "age=age:5", "--qi", `sex=${join(dir, "sex.csv")}`, "--sensitive", "disease", "--levels", "age=2,sex=0", "--k", "2", "--suppression", "0.25", "--threshold", "0.3", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.deepEqual(
    {records: s.records, suppressed: s.suppressed, classes: s.classes, minClassSize: s.minClassSize, avgClassSize: s.avgClassSize, maxProsecutorRisk: s.maxProsecutorRisk, avgProsecutorRisk: s.avgProsecutorRisk, recordsAtRisk: s.recordsAtRisk, marketerRisk: s.marketerRisk, levels: s.levels, anonymous: s.anonymous},
    {records: 12, suppressed: 3, classes: 3, minClassSize: 2, avgClassSize: 3, maxProsecutorRisk: 0.5, avgProsecutorRisk: 3 / 9, recordsAtRisk: 5 / 9, marketerRisk: 3 / 9, levels: {age: 2, sex: 0}, anonymous: true}
  );
  assert.equal(s.sensitive[0].tClosenessEqual, 0.5);
  assert.equal(s.hierarchies.sex.hierarchy, "arx:sex.csv");
});

test("risk-cli: without --k nothing is suppressed; the ZIP keeps its leading zero", () => {
  const r = run(["--input", input, "--delimiter", ";", "--qi", "zip=zip", "--levels", "zip=0", "--json", "--no-drivers"]);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  // 02138 x 11, 02139 x 1: two classes, one unique record.
  assert.deepEqual([s.suppressed, s.classes, s.minClassSize, s.maxClassSize, s.uniqueRecords, s.anonymous, s.drivers], [0, 2, 1, 11, 1, null, null]);
  assert.match(s.hierarchies.zip.source, /hhs-2000\+hrsa-2020/);
});

test("risk-cli: a config file (data dictionary + levels) replaces the flags", () => {
  const dictionary = {
    version: 1,
    fields: [
      {name: "age", role: "quasi-identifier", type: "integer", hierarchy: "age:5"},
      {name: "sex", role: "quasi-identifier", type: "string", hierarchy: "sex.csv"},
      {name: "disease", role: "sensitive", type: "string"},
      {name: "zip", role: "ignore", type: "string"}
    ]
  };
  writeFileSync(join(dir, "dict.json"), JSON.stringify(dictionary));
  writeFileSync(join(dir, "config.json"), JSON.stringify({input: "hand.csv", delimiter: ";", dictionary: "dict.json", levels: {age: 2, sex: 0}, k: 3, suppression: 0.5}));
  const r = run(["--config", join(dir, "config.json"), "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  // risk-hand: k=3, limit .5 keeps C1 and C2 (7 records).
  assert.deepEqual([s.suppressed, s.classes, s.avgClassSize, s.sensitive[0].distinctL], [5, 2, 3.5, 2]);
  // A flag overrides the config.
  const o = JSON.parse(run(["--config", join(dir, "config.json"), "--k", "2", "--suppression", "0.25", "--json"]).stdout);
  assert.equal(o.suppressed, 3);
  // The text report says how statistics were computed.
  const text = run(["--config", join(dir, "config.json"), "--classes", "3"]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /5 record\(s\) in classes violating the privacy model were suppressed; .* 7 remaining records \(ARX convention\)/);
  assert.match(text.stdout, /smallest equivalence classes\n\s+1 {2}40-49 \| F {2}\[suppressed\]/);
});

test("risk-cli: bad input gives clear errors and exit codes", () => {
  const missingLevel = run(["--input", input, "--delimiter", ";", "--qi", "age=age:5", "--qi", "sex=flat", "--levels", "age=2"]);
  assert.equal(missingLevel.code, 2);
  assert.match(missingLevel.stderr, /no level for quasi-identifier "sex"/);
  const badHierarchy = run(["--input", input, "--delimiter", ";", "--qi", "age=soundex", "--levels", "age=1"]);
  assert.equal(badHierarchy.code, 2);
  assert.match(badHierarchy.stderr, /quasi-identifier "age": unknown hierarchy "soundex"/);
  const uncovered = run(["--input", input, "--delimiter", ";", "--qi", "disease=flat", "--qi", `sex=${join(dir, "sex.csv")}`, "--levels", "disease=0,sex=0"]);
  assert.equal(uncovered.code, 0, uncovered.stderr);
  writeFileSync(join(dir, "sex-m.csv"), "M;*\n");
  const notCovered = run(["--input", input, "--delimiter", ";", "--qi", `sex=${join(dir, "sex-m.csv")}`, "--levels", "sex=1"]);
  assert.equal(notCovered.code, 1);
  assert.match(notCovered.stderr, /quasi-identifier "sex" has 1 value\(s\) the hierarchy does not cover: "F"/);
  const badLevel = run(["--input", input, "--delimiter", ";", "--qi", "age=age:5", "--levels", "age=9"]);
  assert.equal(badLevel.code, 1);
  assert.match(badLevel.stderr, /level 9 for quasi-identifier "age" is out of range/);
  writeFileSync(join(dir, "bad-dict.json"), JSON.stringify({input: "hand.csv", delimiter: ";", dictionary: {version: 1, fields: [{name: "age", role: "quasi", type: "integer"}]}, levels: {}}));
  const badDict = run(["--config", join(dir, "bad-dict.json")]);
  assert.equal(badDict.code, 1);
  assert.match(badDict.stderr, /fields\[0\] \("age"\): role must be one of/);
});

const ADULT = "/work/shared/data/adult";

test("risk-cli: Adult with ARX hierarchies", {skip: existsSync(`${ADULT}/adult.csv`) ? false : `shared Adult data not found at ${ADULT}`}, () => {
  const qis = ["age", "sex", "race", "education"].flatMap((n) => ["--qi", `${n}=${ADULT}/adult_hierarchy_${n}.csv`]);
  const out = execFileSync(process.execPath, [BIN, "risk", "--input", `${ADULT}/adult.csv`, "--delimiter", ";", ...qis, "--levels", "age=1,sex=0,race=0,education=1", "--k", "5", "--suppression", "0.05", "--json", "--no-drivers"], {encoding: "utf8"});
  const s = JSON.parse(out);
  assert.equal(s.records, 30162);
  assert.equal(s.anonymous, true);
  assert.ok(s.suppressed > 0 && s.suppressed <= Math.floor(0.05 * 30162));
  assert.ok(s.minClassSize >= 5);
  // The remaining records sum to the class sizes.
  assert.equal(s.classSizeHistogram.reduce((a: number, h: {size: number; classes: number}) => a + h.size * h.classes, 0), 30162 - s.suppressed);
});
