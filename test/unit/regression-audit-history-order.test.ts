import {test} from "node:test";
import assert from "node:assert/strict";
import {formatAudit, type ExportPackageInput} from "../../src/lib/export-package.js";

// Regression: audit.jsonl wrote earlier events (config.history) in the config's key order, but the
// package's config.json is written with sorted keys, so rerunning `apply` from that config.json
// produced a different audit.jsonl. The same events with keys in any order must give the same bytes.
function inputWith(details: Record<string, string | number>): ExportPackageInput {
  return {
    config: {privacyModel: {suppressionLimit: 0}, inputs: [{table: "t", fields: []}], levels: {}, history: [{time: "2026-01-01T00:00:00Z", step: "configuration", details}]} as unknown as ExportPackageInput["config"],
    tables: [],
    inputs: [],
    statistics: {violatingRecords: 0, suppressedRecords: 0, patientsShifted: 0, tokensByDomain: {}, topCoded: {}, datesWithoutPatient: {}} as unknown as ExportPackageInput["statistics"],
    figures: {} as ExportPackageInput["figures"],
    exportTime: "2026-01-31T12:00:00Z"
  };
}

test("regression: audit history events are written with sorted keys whatever the config's key order", () => {
  const a = formatAudit(inputWith({zeta: 1, alpha: "x", middle: 2}), "hash", new Map(), new Map());
  const b = formatAudit(inputWith({alpha: "x", middle: 2, zeta: 1}), "hash", new Map(), new Map());
  assert.equal(a, b);
  const first = JSON.parse(a.split("\n")[0]);
  assert.deepEqual(Object.keys(first.details), ["alpha", "middle", "zeta"]);
  assert.equal(first.step, "configuration");
});
