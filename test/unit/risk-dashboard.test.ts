import {test} from "node:test";
import assert from "node:assert/strict";
import {builtinHierarchy} from "../../src/lib/hierarchies.js";
import {initialRiskSettings, riskCliCommand, riskCliConfig} from "../../src/components/risk-dashboard.js";

const model = {quasiIdentifiers: [{name: "age", hierarchy: builtinHierarchy("age:5")}, {name: "sex", hierarchy: builtinHierarchy("flat")}]};

test("initial settings: the chosen configuration's levels where valid, else 0; defaults k 5, no suppression, threshold 0.2", () => {
  assert.deepEqual(initialRiskSettings(model, null), {levels: {age: 0, sex: 0}, k: 5, suppressionLimit: 0, threshold: 0.2, samplingFraction: null});
  // sex has levels 0..1, so 2 falls back to 0; a level for a column that is no longer a QI is ignored.
  const chosen = {levels: {age: 3, sex: 2, zip: 1}, k: 10, suppressionLimit: 0.05, threshold: 0.1};
  assert.deepEqual(initialRiskSettings(model, chosen), {levels: {age: 3, sex: 0}, k: 10, suppressionLimit: 0.05, threshold: 0.1, samplingFraction: null});
  assert.deepEqual(initialRiskSettings(model, {levels: {age: 1.5, sex: -1}}).levels, {age: 0, sex: 0});
});

test("the CLI config and command carry exactly the page's settings", () => {
  const dictionary = {version: 1, fields: [{name: "age", role: "quasi-identifier" as const, type: "integer" as const, hierarchy: "age:5"}]};
  const settings = {levels: {age: 2}, k: 3, suppressionLimit: 0.1, threshold: 0.05, samplingFraction: null};
  assert.deepEqual(riskCliConfig("d.csv", dictionary, settings), {input: "d.csv", dictionary, levels: {age: 2}, k: 3, suppression: 0.1, threshold: 0.05});
  assert.equal(riskCliCommand(settings), "node bin/deid-workbench.js risk --config risk-config.json --json --classes 25");
  assert.equal(riskCliCommand({...settings, samplingFraction: 0.01}), "node bin/deid-workbench.js risk --config risk-config.json --json --classes 25 --sampling-fraction 0.01");
});
