/**
 * Utility figures for the export report, computed with the search/utility engines (issue 5):
 * information loss and drift of the privacy-model table (utility.ts measureUtility, the same call the
 * `search` command makes for its optimum), and ML utility on the actual released rows against the
 * original rows (ml-utility.ts compareModelUtility: same model, seed and split).
 */
import {bottomClasses, computeClassCounts, rollUpClasses} from "./class-counts.js";
import {builtinHierarchy} from "./hierarchies.js";
import {computeFrontier, PrivacyEvaluator, type SearchPrivacyModel} from "./lattice-search.js";
import type {ReportFigures} from "./compliance-report.js";
import {compareModelUtility, type MlRow} from "./ml-utility.js";
import {quoteIdentifier as qi, type SqlConnection} from "./sql.js";
import {hierarchyFromSpec, levelForField, privacyModelTable, type TransformConfig} from "./transform-config.js";
import {measureUtility, prepareUtilityTables, type UtilityReport} from "./utility.js";
import type {ReferenceTables} from "./hierarchies.js";

/** Above this many records ML utility is skipped (training runs in plain JS). */
export const ML_UTILITY_MAX_RECORDS = 200_000;

/** Above this many distinct (quasi-identifier, sensitive) combinations the report's utility figures are skipped (memory). */
export const UTILITY_MAX_CLASSES = 12_000_000;

/** The frontier is drawn when the lattice has at most this many nodes (it measures every node). */
export const FRONTIER_MAX_NODES = 20_000;

export async function measurePackageUtility(
  conn: SqlConnection,
  config: TransformConfig,
  src: string,
  refs?: ReferenceTables,
  {maxClasses = UTILITY_MAX_CLASSES}: {maxClasses?: number} = {}
): Promise<{utility: UtilityReport; frontier: ReportFigures["frontier"]; frontierNote?: string} | null> {
  const input = privacyModelTable(config);
  const qiFields = input.fields.filter((f) => f.role === "quasi-identifier" && (f.transform.action === "generalize" || f.transform.action === "keep"));
  if (qiFields.length === 0) return null;
  const quasiIdentifiers = qiFields.map((f) => ({name: f.name, hierarchy: f.transform.action === "generalize" ? hierarchyFromSpec(config, f.hierarchy!, refs) : builtinHierarchy("flat")}));
  const sensitive = input.fields.filter((f) => f.role === "sensitive" && f.transform.action === "keep").map((f) => f.name);
  const pm = config.privacyModel;
  const model: SearchPrivacyModel = {
    k: pm.k,
    lDiversity: pm.lDiversity ? [pm.lDiversity] : [],
    tCloseness: pm.tCloseness ? [pm.tCloseness] : [],
    suppressionLimit: pm.suppressionLimit
  };
  // The utility engine holds every distinct combination in memory (about 1 KB each with the frontier's
  // roll-ups): past the limit the report says it was skipped rather than exhausting the machine.
  const [{classes}] = await conn.query(`SELECT count(*)::BIGINT AS classes FROM (SELECT DISTINCT ${[...quasiIdentifiers.map((q) => q.name), ...sensitive].map((c) => qi(c)).join(", ")} FROM ${qi(src)})`);
  if (Number(classes) > maxClasses) {
    throw new Error(
      `skipped: the table has ${Number(classes).toLocaleString("en-US")} distinct combinations of quasi-identifier and sensitive values, more than the ` +
        `${maxClasses.toLocaleString("en-US")} the in-memory utility engine holds; measure utility with \`deid-workbench search\` on a sample`
    );
  }
  const counts = await computeClassCounts(conn, {table: src, quasiIdentifiers, sensitive});
  const levelList = qiFields.map((f) => levelForField(config, input, f) ?? 0);
  const {node: bottom, joint} = bottomClasses(counts);
  const node = levelList.some((l) => l > 0) ? rollUpClasses(counts, bottom, levelList) : bottom;
  const hasModel = pm.k !== undefined || pm.lDiversity !== undefined || pm.tCloseness !== undefined;
  let suppressed: Uint8Array | null = null;
  let minSize = 1;
  if (hasModel) {
    const privacy = new PrivacyEvaluator(counts, model, joint);
    const violates = new Uint8Array(node.classes);
    const {violating} = privacy.evaluate(node, violates);
    suppressed = violating > 0 && violating <= privacy.limitRecords ? violates : null;
    minSize = privacy.minSize;
  }
  const weights = Object.fromEntries(input.fields.filter((f) => f.weight !== undefined).map((f) => [f.name, f.weight!]));
  const utility = measureUtility(counts, prepareUtilityTables(counts), node, suppressed, {k: minSize, weights, joint});
  const nodes = quasiIdentifiers.reduce((a, q) => a * q.hierarchy.height, 1);
  if (nodes > FRONTIER_MAX_NODES) return {utility, frontier: null, frontierNote: `the lattice has ${nodes} nodes; the report draws the frontier up to ${FRONTIER_MAX_NODES}`};
  const points = await computeFrontier(counts, {model, metric: "precision"});
  let keptClasses = 0;
  let keptRecords = 0;
  for (let c = 0; c < node.classes; ++c) {
    if (suppressed && suppressed[c]) continue;
    keptClasses++;
    keptRecords += node.classSizes[c];
  }
  return {
    utility,
    frontier: {
      points: points.map((p) => ({risk: p.risk, loss: p.metricValue, label: Object.entries(p.levels).map(([k, v]) => `${k}=${v}`).join(", ") + (p.anonymous === false ? " (not anonymous)" : "")})),
      chosen: {risk: keptRecords ? keptClasses / keptRecords : 0, loss: utility.precision},
      riskLabel: "average prosecutor risk",
      lossLabel: "precision loss"
    }
  };
}

/**
 * Logistic regression on the original and on the released rows of the privacy-model table (aligned by
 * input row), target = the field with role "target" (two values). Features: released fields that are
 * features, quasi-identifiers or sensitive, except tokens, masks, redactions and shifted dates.
 */
export async function measurePackageMlUtility(
  conn: SqlConnection,
  config: TransformConfig,
  src: string,
  outTable: string,
  outColumns: string[]
): Promise<{result: {metric: string; original: number; deidentified: number; model: string} | null; note?: string}> {
  const input = privacyModelTable(config);
  const target = input.fields.find((f) => f.role === "target" && outColumns.includes(f.name));
  if (!target) return {result: null, note: "no released field has role target"};
  const features = input.fields
    .filter((f) => ["feature", "quasi-identifier", "sensitive"].includes(f.role) && outColumns.includes(f.name) && ["keep", "generalize"].includes(f.transform.action))
    .map((f) => f.name);
  if (features.length === 0) return {result: null, note: "no released feature fields"};
  const [{n}] = await conn.query(`SELECT count(*)::BIGINT AS n FROM ${qi(outTable)}`);
  if (Number(n) > ML_UTILITY_MAX_RECORDS) return {result: null, note: `skipped: ${Number(n)} records exceed the ${ML_UTILITY_MAX_RECORDS} the in-engine model trains on`};
  const cols = [target.name, ...features];
  const select = cols.map((c, i) => `CAST(x.${qi(c)} AS VARCHAR) AS c${i}`).join(", ");
  const original = await conn.query(`SELECT ${select} FROM (SELECT rowid AS __row, * FROM ${qi(src)}) x JOIN ${qi(outTable)} o ON o.__row = x.__row ORDER BY x.__row`);
  const released = await conn.query(`SELECT ${select} FROM ${qi(outTable)} x ORDER BY x.__row`);
  const toRows = (rows: Record<string, unknown>[]): MlRow[] => rows.map((r) => Object.fromEntries(cols.map((c, i) => [c, (r[`c${i}`] ?? null) as string | null])));
  try {
    const r = compareModelUtility(toRows(original), toRows(released), {target: target.name, features, seed: 1});
    return {result: {metric: "AUC", original: r.original.auc, deidentified: r.deidentified.auc, model: `logistic regression, seed 1, 70/30 split, target ${target.name} = ${r.positive}`}};
  } catch (error) {
    return {result: null, note: error instanceof Error ? error.message : String(error)};
  }
}
