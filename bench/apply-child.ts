// One `apply` run for bench/apply-bench.ts, in its own process: argv = input CSV, work folder holding
// config.json and bench.key, optional DuckDB memory limit. Prints {seconds, maxRssMb, phases, records} as one JSON line.
import {join} from "node:path";
import {runApply} from "../loaders/apply-package.js";

const [path, workDir, memoryLimit] = process.argv.slice(2);
const phases: [string, number][] = [];
let phaseStart = performance.now();
let phase = "start";
const t0 = performance.now();
const result = await runApply({
  configPath: join(workDir, "config.json"),
  inputPaths: [path],
  outDir: join(workDir, "package"),
  keyFile: join(workDir, "bench.key"),
  exportTime: "2026-01-01T00:00:00Z",
  memoryLimit: memoryLimit || undefined,
  onProgress: (step) => {
    if (step.startsWith("DuckDB: ")) return;
    const name = step.startsWith("write ") ? "write data" : step.startsWith("load ") ? "load" : step;
    if (name === phase) return;
    phases.push([phase, (performance.now() - phaseStart) / 1000]);
    phase = name;
    phaseStart = performance.now();
  }
});
phases.push([phase, (performance.now() - phaseStart) / 1000]);
const seconds = (performance.now() - t0) / 1000;
const records = [...result.records.values()].reduce((a, b) => a + b, 0);
console.log(JSON.stringify({seconds, maxRssMb: process.resourceUsage().maxRSS / 1024, phases: phases.filter(([p]) => p !== "start"), records}));
