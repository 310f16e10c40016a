import type {Command} from "./command.js";
import {profileCommand} from "./profile.js";
import {generateCommand} from "./generate.js";
import {riskCommand} from "./risk.js";
import {searchCommand} from "./search.js";
import {mlUtilityCommand} from "./ml-utility.js";
import {applyCommand} from "./apply.js";
import {keygenCommand} from "./keygen.js";

// Each command lives in its own module; add new ones here, in the order `--help` lists them.
export const commands: Record<string, Command> = {
  profile: profileCommand,
  generate: generateCommand,
  risk: riskCommand,
  search: searchCommand,
  "ml-utility": mlUtilityCommand,
  apply: applyCommand,
  keygen: keygenCommand
};
