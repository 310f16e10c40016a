/** The search worker's API (without a real Worker: the same functions the worker exposes). */
import {test} from "node:test";
import assert from "node:assert/strict";
import {builtinHierarchy} from "../../src/lib/hierarchies.js";
import {encodeClassCounts} from "../../src/lib/class-counts.js";
import {searchLattice} from "../../src/lib/lattice-search.js";

test("lattice-worker: ClassCounts survive structured cloning and give the same optimum", async () => {
  const ages = Array.from({length: 300}, (_, i) => String((i * 37) % 80));
  const zips = Array.from({length: 300}, (_, i) => ["02139", "02141", "10001", "10013"][(i * 7) % 4]);
  const counts = encodeClassCounts({
    quasiIdentifiers: [{name: "age", hierarchy: builtinHierarchy("interval:5,10,20")}, {name: "zip", hierarchy: builtinHierarchy("mask:3")}],
    qiValues: [ages, zips],
    counts: ages.map(() => 1)
  });
  const cloned = structuredClone(counts);
  const a = await searchLattice(counts, {model: {k: 4, suppressionLimit: 0.02}, metric: "loss"});
  const b = await searchLattice(cloned, {model: {k: 4, suppressionLimit: 0.02}, metric: "loss"});
  assert.deepEqual(b.optimum, a.optimum);
  // Cancelling mid-way (as the worker's cancel(id) does) rejects with AbortError.
  const controller = new AbortController();
  const search = searchLattice(cloned, {model: {k: 4}, exhaustive: true, signal: controller.signal, onProgress: () => controller.abort()});
  await assert.rejects(search, (e: Error) => e.name === "AbortError");
});
