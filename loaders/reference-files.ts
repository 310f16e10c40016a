import {readFileSync} from "node:fs";
import {join} from "node:path";
import {REFERENCE_DIR} from "./hierarchy-files.js";

export function readReferenceFile(relative: string): Buffer {
  return readFileSync(join(REFERENCE_DIR, relative));
}
