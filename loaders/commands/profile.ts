import {parseFlags} from "../args.js";
import {openNativeDuckDB} from "../duckdb-native.js";
import {loadCsvFile} from "../read-csv.js";
import {formatProfile, profileTable} from "../../src/lib/profile.js";
import type {Command} from "./command.js";

export const profileCommand: Command = {
  summary: "Profile a CSV file: row count, types, distinct/missing counts, top values",
  usage: `Usage: deid-workbench profile --input FILE [--delimiter C] [--top N] [--json]

Loads FILE into native DuckDB and prints, for every column, the inferred type, the number of
distinct values, the number of missing (empty) values and the most frequent values: the same
profile the app's Data page shows.

  --input FILE      CSV/TSV file to profile (required)
  --delimiter C     field delimiter (default: sniffed from the first 64 KB; use '\\t' for tab)
  --top N           number of top values per column (default 5)
  --json            print the profile as one JSON object instead of a table`,
  async run(argv) {
    const flags = parseFlags(argv, {switches: ["json"], known: ["input", "delimiter", "top", "json"]});
    const input = flags.require("input");
    const delimiter = flags.string("delimiter")?.replace("\\t", "\t");
    const conn = await openNativeDuckDB();
    try {
      await loadCsvFile(conn, input, "dataset", {delimiter});
      const profile = await profileTable(conn, "dataset", {topN: flags.number("top") ?? 5});
      process.stdout.write(flags.boolean("json") ? JSON.stringify(profile, null, 2) + "\n" : formatProfile(profile));
    } finally {
      conn.close();
    }
  }
};
