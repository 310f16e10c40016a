/** The SQL risk engine against the naive maps-and-loops implementation, on random tables and on Adult, on both hosts. */
import {test} from "node:test";
import assert from "node:assert/strict";
import {existsSync, readFileSync} from "node:fs";
import {builtinHierarchy, tableHierarchy, type Hierarchy} from "../../src/lib/hierarchies.js";
import {computeRiskSummary, type RiskOptions} from "../../src/lib/risk.js";
import {prepareFrequencyTable, dropFrequencyTable} from "../../src/lib/equivalence-classes.js";
import {readArxHierarchy} from "../../loaders/hierarchy-files.js";
import {naiveRisk, type NaiveOptions, type Row} from "../naive/naive-risk.js";
import {assertClose, createTextTable, HOSTS, loadCsvFile} from "../helpers/hosts.js";
import {random} from "../helpers/random.js";


function compare(sql: Awaited<ReturnType<typeof computeRiskSummary>>, naive: ReturnType<typeof naiveRisk>, label: string) {
  const expected: Record<string, unknown> = {...naive};
  delete expected.classSizes;
  delete expected.populationUniques;
  expected.sensitive = naive.sensitive.map((s) => ({...s, distinctL: Number.isFinite(s.distinctL) ? s.distinctL : 0, entropyL: Number.isFinite(s.entropyL) ? s.entropyL : 0}));
  try {
    assertClose(sql, expected, label);
    assertClose(
      sql.classSizeHistogram.flatMap((h) => Array(h.classes).fill(h.size)),
      naive.classSizes,
      `${label}.classSizes`
    );
    if (naive.populationUniques !== null) assertClose(sql.populationUniqueness?.populationUniques, naive.populationUniques, `${label}.populationUniques`, 1e-6); // the naive log-factorial table loses ~1e-7 over millions of terms
  } catch (error) {
    assert.fail(String((error as Error).message));
  }
}

test("risk-naive: random tables with missing values, all models, both hosts", async () => {
  const rnd = random(20261125);
  const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)];
  const seen = {suppressed: 0, notAnonymous: 0, anonymous: 0};
  for (let round = 0; round < 6; ++round) {
    const records = 20 + Math.floor(rnd() * 300);
    const colors = ["red", "green", "blue", "cyan", "plum", ""];
    const colorHierarchy = tableHierarchy("color", [
      ["red", "warm", "*"],
      ["plum", "warm", "*"],
      ["green", "cold", "*"],
      ["blue", "cold", "*"],
      ["cyan", "cold", "*"],
      ["", "none", "*"]
    ]);
    const rows: Row[] = [];
    for (let i = 0; i < records; ++i) {
      rows.push({
        age: rnd() < 0.05 ? null : String(Math.floor(rnd() * 100)),
        color: pick(colors),
        zip: pick(["02138", "02139", "03601", "10001", "10002", "05901"]),
        sex: rnd() < 0.03 ? null : pick(["M", "F"]),
        dx: rnd() < 0.05 ? null : pick(["a", "b", "c", "d"]),
        score: String(Math.floor(rnd() * 6))
      });
    }
    const refs = {restrictedZip3Lists: [{name: "test", codes: new Set(["036", "059"])}]};
    const quasiIdentifiers: {name: string; hierarchy: Hierarchy}[] = [
      {name: "age", hierarchy: builtinHierarchy("age:5")},
      {name: "color", hierarchy: colorHierarchy},
      {name: "zip", hierarchy: builtinHierarchy("zip", refs)},
      {name: "sex", hierarchy: builtinHierarchy("flat")}
    ];
    const columns = ["age", "color", "zip", "sex", "dx", "score"];
    for (const host of HOSTS) {
      const conn = await host.open();
      await createTextTable(conn, "r", columns, rows.map((r) => columns.map((c) => r[c])));
      // The SQL path treats "" and NULL alike only above level 0; CSV-loaded data has no "" anyway.
      const freq = await prepareFrequencyTable(conn, {table: "r", quasiIdentifiers, sensitive: ["dx", "score"]});
      for (let trial = 0; trial < 6; ++trial) {
        const levels = Object.fromEntries(quasiIdentifiers.map((q) => [q.name, Math.floor(rnd() * q.hierarchy.height)]));
        const model: Partial<NaiveOptions> = pick([
          {},
          {k: 2 + Math.floor(rnd() * 4), suppressionLimit: pick([0, 0.05, 0.1, 0.3, 1])},
          {k: 3, suppressionLimit: 0.01, suppressAlways: true},
          {k: 2, lDiversity: {l: 2}, suppressionLimit: 0.2},
          {lDiversity: {variant: "entropy", l: 1.5}, suppressionLimit: 0.5},
          {lDiversity: {variant: "recursive", l: 2, c: 3}, suppressionLimit: 0.5},
          {k: 3, tCloseness: {t: 0.4}, suppressionLimit: 0.3},
          {tCloseness: {t: 0.3, distance: "ordered"}, suppressionLimit: 1}
        ]);
        const threshold = pick([0.2, 0.1, 0.05, 1 / 3]);
        const options: NaiveOptions = {quasiIdentifiers, levels, sensitive: ["dx", "score"], threshold, samplingFraction: 0.2, ...model};
        const sql = await computeRiskSummary(conn, {...(options as Partial<RiskOptions>), table: "r", quasiIdentifiers, levels, population: {samplingFraction: 0.2}, prepared: freq});
        compare(sql, naiveRisk(rows, options), `${host.name} round ${round} trial ${trial} ${JSON.stringify({levels, model})}`);
        if (sql.suppressed > 0) seen.suppressed++;
        if (sql.anonymous === false) seen.notAnonymous++;
        if (sql.anonymous === true) seen.anonymous++;
      }
      await dropFrequencyTable(conn, freq);
      conn.close();
    }
  }
  // The random trials must exercise every branch of the suppression decision.
  assert.ok(seen.suppressed > 0 && seen.notAnonymous > 0 && seen.anonymous > 0, JSON.stringify(seen));
});

test("risk-naive: population table journalist risk on random data", async () => {
  const rnd = random(7);
  const make = (n: number) => Array.from({length: n}, () => ({a: String(Math.floor(rnd() * 5)), b: String(Math.floor(rnd() * 4))}) as Row);
  const sample = make(60);
  const population = [...sample, ...make(400)];
  const h = (name: string, values: number) => tableHierarchy(name, Array.from({length: values}, (_, i) => [String(i), i < values / 2 ? "low" : "high", "*"]));
  const quasiIdentifiers = [
    {name: "a", hierarchy: h("a", 5)},
    {name: "b", hierarchy: h("b", 4)}
  ];
  for (const host of HOSTS) {
    const conn = await host.open();
    await createTextTable(conn, "s", ["a", "b"], sample.map((r) => [r.a, r.b]));
    await createTextTable(conn, "p", ["a", "b"], population.map((r) => [r.a, r.b]));
    for (const levels of [{a: 0, b: 0}, {a: 1, b: 0}, {a: 1, b: 1}]) {
      const options: NaiveOptions = {quasiIdentifiers, levels, threshold: 0.05, k: 2, suppressionLimit: 0.1, populationRows: population};
      const sql = await computeRiskSummary(conn, {table: "s", quasiIdentifiers, levels, threshold: 0.05, k: 2, suppressionLimit: 0.1, population: {table: "p"}});
      compare(sql, naiveRisk(sample, options), `${host.name} ${JSON.stringify(levels)}`);
    }
    conn.close();
  }
});

const ADULT = "/work/shared/data/adult";

test("risk-naive: Adult (30,162 records, ARX hierarchies) on both hosts", {skip: existsSync(`${ADULT}/adult.csv`) ? false : `shared Adult data not found at ${ADULT}`}, async () => {
  const names = ["sex", "age", "race", "marital-status", "education", "native-country", "workclass"];
  const quasiIdentifiers = names.map((n) => ({name: n, hierarchy: readArxHierarchy(`${ADULT}/adult_hierarchy_${n}.csv`)}));
  const [header, ...lines] = readFileSync(`${ADULT}/adult.csv`, "utf8").split(/\r?\n/).filter((l) => l !== "");
  const cols = header.split(";");
  const rows: Row[] = lines.map((l) => Object.fromEntries(l.split(";").map((v, i) => [cols[i], v])));
  assert.equal(rows.length, 30162);
  const cases: {levels: Record<string, number>; model: Partial<NaiveOptions>}[] = [
    {levels: {sex: 0, age: 0, race: 0, "marital-status": 0, education: 0, "native-country": 0, workclass: 0}, model: {}},
    {levels: {sex: 0, age: 2, race: 0, "marital-status": 1, education: 1, "native-country": 1, workclass: 1}, model: {k: 5, suppressionLimit: 0.05}},
    {levels: {sex: 1, age: 1, race: 1, "marital-status": 1, education: 2, "native-country": 1, workclass: 1}, model: {k: 5, suppressionLimit: 0.02}},
    {levels: {sex: 0, age: 3, race: 1, "marital-status": 1, education: 2, "native-country": 2, workclass: 2}, model: {k: 10, lDiversity: {l: 3}, tCloseness: {t: 0.3}, suppressionLimit: 0.1}}
  ];
  for (const host of HOSTS) {
    const conn = await host.open();
    await loadCsvFile(conn, `${ADULT}/adult.csv`, "adult", ";");
    const freq = await prepareFrequencyTable(conn, {table: "adult", quasiIdentifiers, sensitive: ["occupation"]});
    for (const {levels, model} of cases) {
      const options: NaiveOptions = {quasiIdentifiers, levels, sensitive: ["occupation"], threshold: 0.1, samplingFraction: 0.01, ...model};
      const sql = await computeRiskSummary(conn, {...(options as Partial<RiskOptions>), table: "adult", quasiIdentifiers, levels, population: {samplingFraction: 0.01}, prepared: freq});
      compare(sql, naiveRisk(rows, options), `${host.name} ${JSON.stringify(levels)}`);
    }
    conn.close();
  }
});
