import {spawnSync} from "node:child_process";
import {rmSync} from "node:fs";
import {findBuildErrors} from "./check-dist.js";
import {seedNpmCache} from "./seed-npm-cache.js";
import {buildWorkers} from "./build-workers.js";

// Build the static site into dist/: bundle workers, build with Framework (telemetry off), and fail
// on page errors, which Framework itself reports with exit code 0.
seedNpmCache();
await buildWorkers();
rmSync("dist", {recursive: true, force: true});
const result = spawnSync("npx", ["observable", "build"], {stdio: "inherit", env: {...process.env, OBSERVABLE_TELEMETRY_DISABLE: "true"}});
if (result.status !== 0) process.exit(result.status ?? 1);
const problems = findBuildErrors("dist");
if (problems.length) {
  console.error("build: pages failed to build:\n" + problems.join("\n"));
  process.exit(1);
}
console.log("build: dist/ is ready");
