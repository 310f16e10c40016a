import * as Comlink from "comlink";
import type {ClassCounts} from "../src/lib/class-counts.js";
import {computeFrontier, searchLattice, type SearchOptions, type SearchProgress, type SearchResult} from "../src/lib/lattice-search.js";
import {compareModelUtility, type MlCompareOptions, type MlRow} from "../src/lib/ml-utility.js";

/**
 * Search worker: the page counts classes with DuckDB-WASM (computeClassCounts) and posts the
 * ClassCounts (plain arrays and typed arrays, structured-cloneable); the lattice search runs here
 * with progress callbacks, and `cancel(id)` stops it (the search yields every ~50 ms).
 */
const running = new Map<number, AbortController>();

const api = {
  async search(id: number, counts: ClassCounts, options: Omit<SearchOptions, "signal" | "onProgress">, onProgress?: (progress: SearchProgress) => void): Promise<SearchResult> {
    const controller = new AbortController();
    running.set(id, controller);
    try {
      return await searchLattice(counts, {...options, signal: controller.signal, onProgress: onProgress ? (p) => onProgress(p) : undefined});
    } finally {
      running.delete(id);
    }
  },
  async frontier(id: number, counts: ClassCounts, options: Parameters<typeof computeFrontier>[1]) {
    const controller = new AbortController();
    running.set(id, controller);
    try {
      return await computeFrontier(counts, {...options, signal: controller.signal});
    } finally {
      running.delete(id);
    }
  },
  cancel(id: number): void {
    running.get(id)?.abort();
  },
  mlUtility(original: MlRow[], deidentified: MlRow[], options: MlCompareOptions) {
    return compareModelUtility(original, deidentified, options);
  }
};

export type SearchWorkerApi = typeof api;
Comlink.expose(api);
