import {seedNpmCache} from "./seed-npm-cache.js";
import {buildWorkers} from "./build-workers.js";

seedNpmCache();
await buildWorkers();
