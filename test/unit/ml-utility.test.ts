import {test} from "node:test";
import assert from "node:assert/strict";
import {existsSync} from "node:fs";
import {builtinHierarchy} from "../../src/lib/hierarchies.js";
import {areaUnderRoc, compareModelUtility, measureMlUtility, predictProbability, seededRandom, trainLogisticRegression, type MlRow} from "../../src/lib/ml-utility.js";
import {readArxHierarchy} from "../../loaders/hierarchy-files.js";
import {createTextTable, HOSTS, loadCsvFile} from "../helpers/hosts.js";

test("ml-utility: AUC by hand, with ties", () => {
  // Pairs (pos, neg): (0.35 vs 0.1) win, (0.35 vs 0.4) lose, (0.8 vs both) win -> 3/4.
  assert.equal(areaUnderRoc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]), 0.75);
  // A tie between a positive and a negative counts 1/2: (0.5 vs 0.5) 1/2, (0.9 vs 0.5) 1 -> 3/4... over 2 pairs.
  assert.equal(areaUnderRoc([0.5, 0.5, 0.9], [0, 1, 1]), 0.75);
  assert.equal(areaUnderRoc([1, 2, 3], [1, 1, 0]), 0);
  assert.ok(Number.isNaN(areaUnderRoc([1, 2], [1, 1])));
});

test("ml-utility: logistic regression recovers a known log-odds slope", () => {
  // y ~ Bernoulli(sigmoid(2x - 1)) on 4000 points: the fit should land near (2, -1).
  const random = seededRandom(7);
  const rows = [];
  const labels: number[] = [];
  for (let i = 0; i < 4000; ++i) {
    const x = random() * 4 - 2;
    rows.push({index: Int32Array.of(0), value: Float64Array.of(x)});
    labels.push(random() < 1 / (1 + Math.exp(-(2 * x - 1))) ? 1 : 0);
  }
  const model = trainLogisticRegression(rows, labels, 1, {seed: 3, epochs: 60, l2: 0});
  assert.ok(Math.abs(model.weights[0] - 2) < 0.3, `slope ${model.weights[0]}`);
  assert.ok(Math.abs(model.bias + 1) < 0.3, `intercept ${model.bias}`);
  assert.ok(Math.abs(predictProbability(model, rows[0]) - 1 / (1 + Math.exp(-(model.weights[0] * rows[0].value[0] + model.bias)))) < 1e-12);
});

function syntheticRows(n: number, seed: number): MlRow[] {
  const random = seededRandom(seed);
  return Array.from({length: n}, () => {
    const age = Math.floor(random() * 70) + 18;
    const sex = random() < 0.5 ? "F" : "M";
    const noise = String(Math.floor(random() * 5));
    const risk = (age - 50) / 8 + (sex === "F" ? 0.3 : -0.3);
    return {age: String(age), sex, noise, outcome: random() < 1 / (1 + Math.exp(-risk)) ? "yes" : "no"};
  });
}

test("ml-utility: same seed, same split, same numbers; generalizing the signal lowers AUC", () => {
  const original = syntheticRows(3000, 1);
  const options = {target: "outcome", features: ["age", "sex", "noise"], seed: 42};
  const same = compareModelUtility(original, original, options);
  assert.equal(same.original.auc, same.deidentified.auc);
  assert.equal(same.aucRatio, 1);
  assert.ok(same.original.auc > 0.8, `AUC ${same.original.auc}`);
  assert.deepEqual(compareModelUtility(original, original, options), same);
  // Age removed entirely ("*"): only sex is left, AUC falls towards 0.5.
  const blind = compareModelUtility(original, original.map((r) => ({...r, age: "*"})), options);
  assert.equal(blind.original.auc, same.original.auc);
  assert.ok(blind.deidentified.auc < 0.65, `AUC ${blind.deidentified.auc}`);
  assert.ok(blind.aucRatio < 0.8);
  // 10-year bands keep most of it.
  const banded = compareModelUtility(original, original.map((r) => ({...r, age: `${Math.floor(Number(r.age) / 10) * 10}s`})), options);
  assert.ok(banded.aucRatio > 0.93 && banded.aucRatio <= 1.02, `ratio ${banded.aucRatio}`);
  assert.throws(() => compareModelUtility(original, original, {...options, features: ["outcome"]}), /cannot also be a feature/);
});

for (const host of HOSTS) {
  test(`ml-utility (${host.name}): measured from a table with generalization and suppression`, async () => {
    const conn = await host.open();
    try {
      const rows = syntheticRows(1500, 9);
      await createTextTable(conn, "t", ["age", "sex", "noise", "outcome"], rows.map((r) => [r.age, r.sex, r.noise, r.outcome]));
      const result = await measureMlUtility(conn, {
        table: "t",
        target: "outcome",
        quasiIdentifiers: [{name: "age", hierarchy: builtinHierarchy("interval:5,10,20")}, {name: "sex", hierarchy: builtinHierarchy("flat")}],
        levels: {age: 1, sex: 0},
        model: {k: 40, suppressionLimit: 0.2},
        seed: 5
      });
      assert.deepEqual(result.features, ["age", "sex", "noise"]);
      assert.equal(result.trainRecords + result.testRecords, 1500);
      // 5-year bands x sex: cells of ~40 records; the smaller ones are suppressed.
      assert.ok(result.suppressedRecords > 0 && result.suppressedRecords <= 300, `suppressed ${result.suppressedRecords}`);
      assert.ok(result.original.auc > 0.8);
      assert.ok(result.aucRatio > 0.85 && result.aucRatio < 1.05, `ratio ${result.aucRatio}`);
    } finally {
      conn.close();
    }
  });
}

test("ml-utility: UCI Adult salary-class, original vs the k=5 / 5% optimum levels", async (t) => {
  const dir = "/work/shared/data/adult";
  if (!existsSync(`${dir}/adult.csv`)) return t.skip("UCI Adult not found in ../shared/data/adult");
  const conn = await HOSTS[0].open();
  try {
    await loadCsvFile(conn, `${dir}/adult.csv`, "adult", ";");
    const names = ["sex", "age", "race", "marital-status", "education", "native-country", "workclass", "occupation"];
    const result = await measureMlUtility(conn, {
      table: "adult",
      target: "salary-class",
      quasiIdentifiers: names.map((name) => ({name, hierarchy: readArxHierarchy(`${dir}/adult_hierarchy_${name}.csv`)})),
      levels: {sex: 0, age: 2, race: 0, "marital-status": 1, education: 1, "native-country": 1, workclass: 1, occupation: 1},
      model: {k: 5, suppressionLimit: 0.05},
      seed: 1
    });
    assert.equal(result.positive, ">50K");
    assert.ok(result.original.auc > 0.85, `original AUC ${result.original.auc}`);
    assert.ok(result.deidentified.auc > 0.8 && result.aucRatio < 1.01, JSON.stringify(result));
  } finally {
    conn.close();
  }
});

test("ml-utility: DuckDB-WASM and native DuckDB give identical results", async () => {
  const rows = syntheticRows(800, 21);
  const results = [];
  for (const host of HOSTS) {
    const conn = await host.open();
    try {
      await createTextTable(conn, "t", ["age", "sex", "noise", "outcome"], rows.map((r) => [r.age, r.sex, r.noise, r.outcome]));
      results.push(
        await measureMlUtility(conn, {
          table: "t",
          target: "outcome",
          quasiIdentifiers: [{name: "age", hierarchy: builtinHierarchy("interval:5,10,20")}],
          levels: {age: 2},
          model: {k: 10, suppressionLimit: 0.1},
          seed: 3
        })
      );
    } finally {
      conn.close();
    }
  }
  assert.deepEqual(results[0], results[1]);
});
