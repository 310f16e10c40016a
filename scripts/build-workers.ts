import {readdirSync} from "node:fs";
import {build} from "vite";

// Framework refuses imports from outside its root, so each worker entry in workers/ is bundled
// (with its engine imports and comlink) into src/generated/, where pages can reach it.
export async function buildWorkers({quiet = false} = {}) {
  const entries = readdirSync("workers").filter((f) => f.endsWith(".worker.ts"));
  for (const entry of entries) {
    await build({
      configFile: false,
      logLevel: quiet ? "error" : "warn",
      build: {
        outDir: "src/generated",
        emptyOutDir: false,
        minify: false,
        sourcemap: false,
        target: "es2022",
        lib: {entry: `workers/${entry}`, formats: ["es"], fileName: () => entry.replace(/\.ts$/, ".js")},
        rollupOptions: {output: {inlineDynamicImports: true}}
      }
    });
    if (!quiet) console.log(`bundled workers/${entry} → src/generated/${entry.replace(/\.ts$/, ".js")}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await buildWorkers();
