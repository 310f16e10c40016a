import * as Comlink from "comlink";
import type {IngestWorkerApi} from "../../workers/ingest.worker.js";

export interface IngestClient {
  api: Comlink.Remote<IngestWorkerApi>;
  terminate(): void;
}

/** Start the ingest worker (bundled from workers/ by scripts/build-workers.ts). */
export function createIngestClient(): IngestClient {
  const worker = new Worker(import.meta.resolve("../generated/ingest.worker.js"), {type: "module"});
  return {api: Comlink.wrap<IngestWorkerApi>(worker), terminate: () => worker.terminate()};
}

export {Comlink};
