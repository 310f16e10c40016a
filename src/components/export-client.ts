import * as Comlink from "comlink";
import type {ExportWorkerApi} from "../../workers/export.worker.js";
import {duckdbBundles} from "./duckdb-client.js";

export interface ExportClient {
  api: Comlink.Remote<ExportWorkerApi>;
  terminate(): void;
}

/**
 * Start the export worker (bundled from workers/ by scripts/build-workers.ts) with its own DuckDB-WASM,
 * self-hosted like the page's (Framework copies these files from node_modules into dist/_node).
 */
export async function createExportClient(): Promise<ExportClient> {
  const worker = new Worker(import.meta.resolve("../generated/export.worker.js"), {type: "module"});
  const api = Comlink.wrap<ExportWorkerApi>(worker);
  const started = await api.init(duckdbBundles());
  if (!started.ok) {
    worker.terminate();
    throw new Error(`the export engine could not start: ${started.error}`);
  }
  return {api, terminate: () => worker.terminate()};
}

export {Comlink};
