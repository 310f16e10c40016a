import {spawnSync} from "node:child_process";
import {readdirSync} from "node:fs";
import {ensureChromium} from "./ensure-chromium.js";

// The whole suite, in the order a failure is cheapest to find: types, engine tests in Node,
// the site build, then Playwright against the built dist/ in Debian's Chromium.
const step = (title: string, command: string, args: string[], env: Record<string, string> = {}) => {
  console.log(`\n=== ${title}: ${command} ${args.join(" ")}`);
  const started = Date.now();
  const result = spawnSync(command, args, {stdio: "inherit", env: {...process.env, ...env}});
  console.log(`=== ${title}: ${result.status === 0 ? "ok" : "FAILED"} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  if (result.status !== 0) process.exit(result.status ?? 1);
};

const only = process.argv[2];
if (!only || only === "types") step("type-check", "npx", ["tsc", "--noEmit", "-p", "."]);
if (!only || only === "unit") {
  // Node 20's test runner takes no globs, so list the files.
  const files = readdirSync("test/unit").filter((f) => f.endsWith(".test.ts")).sort().map((f) => `test/unit/${f}`);
  step("unit and engine tests", "node", ["--import", "tsx", "--test", "--test-concurrency=2", ...files]);
}
if (!only || only === "e2e") {
  if (!process.env.SKIP_BUILD) step("build", "npx", ["tsx", "scripts/build.ts"]);
  const chromium = ensureChromium();
  step("browser tests", "npx", ["playwright", "test"], {CHROMIUM_PATH: chromium});
}
