// `npm run bench`: every benchmark prints times and ratios against a baseline measured in the
// same run (these machines are noisy; absolute times are not compared across runs).
// Pick some with `npm run bench -- foundation risk`.
const suites: Record<string, [module: string, entry: string]> = {
  foundation: ["./foundation-bench.js", "benchFoundation"],
  csv: ["./csv-bench.js", "benchCsv"],
  risk: ["./risk-bench.js", "benchRisk"],
  search: ["./search-bench.js", "benchSearch"],
  explorer: ["./explorer-bench.js", "benchExplorer"],
  "class-counts": ["./class-counts-bench.js", "benchClassCounts"],
  frontier: ["./frontier-bench.js", "benchFrontier"],
  apply: ["./apply-bench.js", "benchApply"]
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith("-"));
for (const [name, [module, entry]] of Object.entries(suites)) {
  if (wanted.length && !wanted.includes(name)) continue;
  console.log(`\n##### bench: ${name}`);
  try {
    await (await import(module))[entry]();
  } catch (error) {
    if ((error as any)?.code === "ERR_MODULE_NOT_FOUND") console.log(`(skipped: ${(error as Error).message.split("\n")[0]})`);
    else {
      console.error(`bench ${name} failed:`, error);
      process.exitCode = 1;
    }
  }
}
