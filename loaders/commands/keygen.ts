import {existsSync, writeFileSync} from "node:fs";
import {parseFlags} from "../args.js";
import {deriveKeysFromSecret, formatKeyFile, generateSecret} from "../../src/lib/keys.js";
import type {Command} from "./command.js";

export const keygenCommand: Command = {
  summary: "Create a random secret key file for pseudonyms and date shifts",
  usage: `Usage: deid-workbench keygen --out FILE [--force]

Writes 32 random bytes (WebCrypto) as a small JSON key file, readable only by you (mode 0600), and
prints its fingerprints (HMAC of a fixed label; they identify the key without revealing it). Keep the
key apart from any released data: whoever holds it can re-link tokens and undo date shifts.

  --out FILE   the key file to create (refuses to overwrite unless --force)
  --force      overwrite FILE`,
  async run(argv: string[]) {
    const flags = parseFlags(argv, {known: ["out"], switches: ["force"]});
    const out = flags.require("out");
    if (existsSync(out) && !flags.boolean("force")) throw new Error(`${out} already exists; refusing to overwrite a key (pass --force to replace it)`);
    const secret = generateSecret();
    writeFileSync(out, formatKeyFile(secret), {mode: 0o600});
    const keys = await deriveKeysFromSecret(secret);
    process.stdout.write(`wrote ${out}\nfingerprints: pseudonym ${keys.fingerprints.pseudonym}, date-shift ${keys.fingerprints["date-shift"]}\n`);
    return 0;
  }
};
