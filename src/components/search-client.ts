import * as Comlink from "comlink";
import type {SearchWorkerApi} from "../../workers/search.worker.js";

export interface SearchClient {
  api: Comlink.Remote<SearchWorkerApi>;
  nextId(): number;
  terminate(): void;
}

/** Start the lattice-search worker (bundled from workers/search.worker.ts). */
export function createSearchClient(): SearchClient {
  const worker = new Worker(import.meta.resolve("../generated/search.worker.js"), {type: "module"});
  let id = 0;
  return {api: Comlink.wrap<SearchWorkerApi>(worker), nextId: () => ++id, terminate: () => worker.terminate()};
}

export {Comlink};
