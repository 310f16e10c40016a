#!/usr/bin/env node
// The CLI is TypeScript shared with the app; tsx (a dependency) compiles it on the fly.
import {register} from "tsx/esm/api";
register();
const {runCli} = await import("../loaders/cli.ts");
process.exitCode = await runCli(process.argv.slice(2));
