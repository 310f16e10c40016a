/**
 * Fast HMAC for the CLI: exactly the HMAC-SHA-256 the WebCrypto subkeys compute (same HKDF salt and
 * info, see src/lib/keys.ts; subkeys derived with node:crypto, MACs by loaders/hmac-sha256.ts), many times
 * faster than one WebCrypto call per value.
 * The CLI holds the secret in memory anyway (it read the key file or passphrase); the browser keeps
 * non-extractable keys. Each signer is checked against the key fingerprint before use.
 */
import {createHmac, hkdfSync, pbkdf2Sync} from "node:crypto";
import {fromBase64, toHex, utf8, type HmacSigner, type KeyPurpose, type RunKeys, KEY_PURPOSES} from "../src/lib/keys.js";
import {HmacSha256} from "./hmac-sha256.js";

export function attachNodeSigners(keys: RunKeys, secret: {keyFile?: Uint8Array; passphrase?: string}): RunKeys {
  let ikm: Uint8Array;
  const d = keys.derivation;
  if (d.source === "key-file") ikm = secret.keyFile!;
  else ikm = pbkdf2Sync(secret.passphrase!, fromBase64(d.salt), d.iterations, 32, "sha256");
  const signers: Partial<Record<KeyPurpose, HmacSigner>> = {};
  for (const purpose of KEY_PURPOSES) {
    const subkey = Buffer.from(hkdfSync("sha256", ikm, utf8("deid-workbench/hkdf/v1"), utf8(`deid-workbench/${purpose}/v1`), 32));
    const fingerprint = createHmac("sha256", subkey).update("deid-workbench/key-fingerprint/v1").digest("hex").slice(0, 32);
    if (fingerprint !== keys.fingerprints[purpose]) throw new Error(`internal error: node:crypto ${purpose} key does not match the WebCrypto key`);
    const hmac = new HmacSha256(subkey);
    if (toHex(hmac.sign(utf8("deid-workbench/key-fingerprint/v1")).slice(0, 16)) !== fingerprint) throw new Error(`internal error: the ${purpose} HMAC does not match node:crypto`);
    signers[purpose] = {
      signMany: async (messages) => messages.map((m) => hmac.sign(m)),
      signPacked: ({bytes, ends, count}) => {
        const out = new Uint8Array(32 * count);
        for (let i = 0, start = 0; i < count; start = ends[i], ++i) hmac.signInto(bytes, start, ends[i], out, 32 * i);
        return out;
      }
    };
  }
  return {...keys, signers};
}
