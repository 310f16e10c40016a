import {readdirSync, readFileSync, statSync} from "node:fs";
import {join} from "node:path";

// `observable build` exits 0 even when a page cell fails; the failure only shows in the HTML.
export function findBuildErrors(dir = "dist"): string[] {
  const problems: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith(".html")) {
        const html = readFileSync(p, "utf8");
        if (html.includes("observablehq--error")) problems.push(`${p}: contains observablehq--error`);
        const external = html.match(/(?:src|href)="(https?:)?\/\/[^"]+"/g)?.filter((m) => !/observablehq\.com/.test(m));
        if (external?.length) problems.push(`${p}: references external resources ${external.join(", ")}`);
      }
    }
  };
  walk(dir);
  return problems;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const problems = findBuildErrors(process.argv[2] ?? "dist");
  if (problems.length) {
    console.error("check-dist: the build has errors:\n" + problems.join("\n"));
    process.exit(1);
  }
  console.log("check-dist: no page errors, no external resources in dist/");
}
