import {loadCsv} from "../lib/ingest.js";
import {proposeDataDictionary, validateDataDictionary, type DataDictionary} from "../lib/data-dictionary.js";
import {describeColumns} from "../lib/profile.js";
import type {ReferenceTables} from "../lib/hierarchies.js";
import {createBrowserDuckDB, type BrowserDuckDB} from "./duckdb-client.js";
import {loadCurrentDataset} from "./workspace.js";
import {loadReferenceTablesInBrowser, type ReferenceUrls} from "./reference-client.js";

export interface WorkspaceSession {
  db: BrowserDuckDB;
  /** Always "dataset". */
  table: string;
  name: string;
  rows: number;
  columns: {name: string; type: string}[];
  refs: ReferenceTables;
  /** The saved dictionary for this dataset, else a fresh proposal. */
  dictionary: DataDictionary;
  dictionaryIsProposal: boolean;
  /** ARX hierarchy files imported by the user, by file name. */
  arxFiles: Record<string, string>;
}

const dictionaryKey = (name: string) => `deid-workbench:dictionary:${name}`;
const arxKey = "deid-workbench:arx-hierarchies";

/**
 * What every page after Data starts from: DuckDB-WASM with the current dataset (the one loaded
 * on the Data page, else the bundled sample) as table "dataset", the reference tables, and the
 * data dictionary saved for this dataset in this browser (else a proposal).
 */
export async function openWorkspaceSession({sampleUrl, referenceUrls}: {sampleUrl: string; referenceUrls: ReferenceUrls}): Promise<WorkspaceSession> {
  const db = await createBrowserDuckDB();
  // `?dataset=/_bench/x.csv` (same origin only) opens a served file instead: used by `npm run bench`.
  const override = new URLSearchParams(location.search).get("dataset");
  const stored =
    override && override.startsWith("/") && !override.startsWith("//")
      ? {name: override.split("/").pop()!, delimiter: ",", encoding: "utf-8", bytes: new Uint8Array(await (await fetch(override)).arrayBuffer())}
      : await loadCurrentDataset();
  const name = stored?.name ?? "sample-patients.csv";
  const bytes = stored?.bytes ?? new Uint8Array(await (await fetch(sampleUrl)).arrayBuffer());
  await db.registerFile("workspace.csv", bytes);
  const {rows} = await loadCsv(db, "workspace.csv", "dataset", {delimiter: stored?.delimiter ?? ",", displayName: name});
  await db.dropFile("workspace.csv");
  const columns = await describeColumns(db, "dataset");
  const refs = await loadReferenceTablesInBrowser(referenceUrls);
  let dictionary: DataDictionary | null = null;
  const saved = localStorage.getItem(dictionaryKey(name));
  if (saved) {
    try {
      dictionary = validateDataDictionary(JSON.parse(saved), {columns: columns.map((c) => c.name)});
    } catch {
      dictionary = null;
    }
  }
  const dictionaryIsProposal = !dictionary;
  dictionary ??= await proposeDataDictionary(db, "dataset", {dataset: name});
  const arxFiles = JSON.parse(localStorage.getItem(arxKey) ?? "{}");
  return {db, table: "dataset", name, rows, columns, refs, dictionary, dictionaryIsProposal, arxFiles};
}

/** Keep the expert's dictionary for this dataset in this browser. */
export function saveDictionary(datasetName: string, dictionary: DataDictionary) {
  localStorage.setItem(dictionaryKey(datasetName), JSON.stringify(dictionary));
}

/** Keep an imported ARX hierarchy file's text in this browser. */
export function saveArxFile(fileName: string, text: string) {
  const files = JSON.parse(localStorage.getItem(arxKey) ?? "{}");
  files[fileName] = text;
  localStorage.setItem(arxKey, JSON.stringify(files));
}

/** The levels and privacy settings chosen on the explorer, shared with the export page. */
export interface ChosenConfiguration {
  levels: Record<string, number>;
  k?: number;
  suppressionLimit?: number;
  threshold?: number;
}

const chosenKey = (name: string) => `deid-workbench:chosen:${name}`;
export function saveChosenConfiguration(datasetName: string, chosen: ChosenConfiguration) {
  localStorage.setItem(chosenKey(datasetName), JSON.stringify(chosen));
}
export function loadChosenConfiguration(datasetName: string): ChosenConfiguration | null {
  try {
    return JSON.parse(localStorage.getItem(chosenKey(datasetName)) ?? "null");
  } catch {
    return null;
  }
}
