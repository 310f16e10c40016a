/**
 * Secret keys for keyed pseudonymization and date shifting, WebCrypto only (`globalThis.crypto.subtle`,
 * present in browsers and Node 20), so the browser and the CLI derive the very same keys.
 *
 * A run has one secret (a random key file, or a passphrase stretched with PBKDF2). From it HKDF
 * (RFC 5869) derives one non-extractable HMAC-SHA-256 subkey per purpose, so the pseudonym key and the
 * date-shift key are independent: learning date offsets says nothing about tokens and vice versa.
 * Configs and reports carry only fingerprints: HMAC(subkey, fixed label), which identify a key without
 * revealing it.
 */

export type KeyPurpose = "pseudonym" | "date-shift";
export const KEY_PURPOSES: readonly KeyPurpose[] = ["pseudonym", "date-shift"];

/** OWASP Password Storage Cheat Sheet (2023) recommends at least 600,000 iterations for PBKDF2-HMAC-SHA256. */
export const MIN_PBKDF2_ITERATIONS = 600_000;

const HKDF_SALT = utf8("deid-workbench/hkdf/v1");
const FINGERPRINT_LABEL = utf8("deid-workbench/key-fingerprint/v1");
const KEY_FILE_FORMAT = "deid-workbench-key";

/** How the run's secret was obtained; recorded in the config (never the secret itself). */
export type KeyDerivation =
  | {source: "key-file"}
  | {source: "passphrase"; kdf: "PBKDF2-HMAC-SHA256"; iterations: number; salt: string /* base64 */};

/**
 * HMAC-SHA-256 under one subkey, for many messages at once. WebCrypto costs tens of microseconds per
 * call; a host that already holds the secret (the CLI read the key file) may supply a faster signer
 * computing the very same HMAC (loaders/node-hmac.ts checks it against the key fingerprint).
 */
export interface HmacSigner {
  signMany(messages: Uint8Array[]): Promise<Uint8Array[]>;
  /** Optional: the same HMACs for packed messages, 32 bytes each in message order, with no object per message. */
  signPacked?(messages: PackedMessages): Uint8Array | Promise<Uint8Array>;
}

/** Many messages in one buffer: message i is bytes[ends[i - 1] (0 for i = 0) .. ends[i]). */
export interface PackedMessages {
  bytes: Uint8Array;
  ends: Uint32Array;
  count: number;
}

export interface RunKeys {
  derivation: KeyDerivation;
  /** Optional faster signers per purpose (same results as `subkeys`). */
  signers?: Partial<Record<KeyPurpose, HmacSigner>>;
  /** Non-extractable HMAC-SHA-256 keys, one per purpose. */
  subkeys: Record<KeyPurpose, CryptoKey>;
  /** Hex fingerprints, one per purpose: HMAC(subkey, label), first 16 bytes. */
  fingerprints: Record<KeyPurpose, string>;
}

function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (!s) throw new Error("WebCrypto (crypto.subtle) is not available in this environment");
  return s;
}

export function utf8(text: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(text) as Uint8Array<ArrayBuffer>;
}

export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

export function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

export function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; ++i) out[i] = s.charCodeAt(i);
  return out;
}

/** SHA-256 of bytes as lowercase hex (input and output fingerprints). */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  return toHex(new Uint8Array(await subtle().digest("SHA-256", bytes as Uint8Array<ArrayBuffer>)));
}

/** Import raw bytes as an HMAC-SHA-256 key; used by tests (RFC 4231 vectors) and by HKDF output. */
export async function importHmacKey(raw: Uint8Array): Promise<CryptoKey> {
  return subtle().importKey("raw", raw as Uint8Array<ArrayBuffer>, {name: "HMAC", hash: "SHA-256"}, false, ["sign"]);
}

export async function hmacSha256(key: CryptoKey, message: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await subtle().sign("HMAC", key, message as Uint8Array<ArrayBuffer>));
}

/** HMAC-SHA-256 of many messages under a WebCrypto key or a host signer. */
export async function hmacMany(key: CryptoKey | HmacSigner, messages: Uint8Array[]): Promise<Uint8Array[]> {
  if ("signMany" in key) return key.signMany(messages);
  return Promise.all(messages.map((m) => hmacSha256(key, m)));
}

/** HMAC-SHA-256 of packed messages, 32 bytes per message in order (message i at [32i, 32i + 32)). */
export async function hmacPacked(key: CryptoKey | HmacSigner, messages: PackedMessages): Promise<Uint8Array> {
  if ("signPacked" in key && key.signPacked) return key.signPacked(messages);
  const out = new Uint8Array(32 * messages.count);
  // batches bound the number of pending WebCrypto promises
  for (let first = 0; first < messages.count; first += 4096) {
    const last = Math.min(messages.count, first + 4096);
    const batch: Uint8Array[] = [];
    for (let i = first; i < last; ++i) batch.push(messages.bytes.slice(i === 0 ? 0 : messages.ends[i - 1], messages.ends[i]));
    const macs = await hmacMany(key, batch);
    macs.forEach((mac, j) => out.set(mac, 32 * (first + j)));
  }
  return out;
}

/** The signer to use for a purpose: the host's fast one if given, else the WebCrypto subkey. */
export function signerFor(keys: RunKeys, purpose: KeyPurpose): CryptoKey | HmacSigner {
  return keys.signers?.[purpose] ?? keys.subkeys[purpose];
}

/** 32 fresh random bytes, the content of a key file. */
export function generateSecret(): Uint8Array {
  return globalThis.crypto.getRandomValues(new Uint8Array(32));
}

/** Key file text: a small JSON document so a wrong file is recognised, not silently used. */
export function formatKeyFile(secret: Uint8Array): string {
  if (secret.length < 32) throw new Error("a key file secret must be at least 32 bytes");
  return JSON.stringify({format: KEY_FILE_FORMAT, version: 1, key: toBase64(secret)}) + "\n";
}

export function parseKeyFile(text: string, fileName = "key file"): Uint8Array {
  let doc: any;
  try {
    doc = JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch {
    throw new Error(`${fileName}: not a deid-workbench key file (expected JSON written by \`deid-workbench keygen\`)`);
  }
  if (doc?.format !== KEY_FILE_FORMAT || doc.version !== 1 || typeof doc.key !== "string") {
    throw new Error(`${fileName}: not a deid-workbench key file (format must be "${KEY_FILE_FORMAT}", version 1)`);
  }
  let secret: Uint8Array;
  try {
    secret = fromBase64(doc.key);
  } catch {
    throw new Error(`${fileName}: field "key" is not valid base64`);
  }
  if (secret.length < 32) throw new Error(`${fileName}: key is ${secret.length} bytes; at least 32 are required`);
  return secret;
}

/** Derive the run keys from a key file's secret bytes. */
export async function deriveKeysFromSecret(secret: Uint8Array): Promise<RunKeys> {
  const base = await subtle().importKey("raw", secret as Uint8Array<ArrayBuffer>, "HKDF", false, ["deriveKey", "deriveBits"]);
  return deriveSubkeys(base, {source: "key-file"});
}

/**
 * Derive the run keys from a passphrase. The salt is random on first use and must be recorded
 * (in the config's key derivation) so the CLI can re-derive the same keys later.
 */
export async function deriveKeysFromPassphrase(
  passphrase: string,
  {salt, iterations = MIN_PBKDF2_ITERATIONS}: {salt?: Uint8Array; iterations?: number} = {}
): Promise<RunKeys> {
  if (!passphrase) throw new Error("the passphrase is empty");
  if (!Number.isInteger(iterations) || iterations < MIN_PBKDF2_ITERATIONS) {
    throw new Error(`PBKDF2 iterations must be an integer of at least ${MIN_PBKDF2_ITERATIONS}, got ${iterations}`);
  }
  const saltBytes = salt ?? globalThis.crypto.getRandomValues(new Uint8Array(16));
  if (saltBytes.length < 16) throw new Error("the PBKDF2 salt must be at least 16 bytes");
  const pass = await subtle().importKey("raw", utf8(passphrase), "PBKDF2", false, ["deriveBits"]);
  const bits = await subtle().deriveBits({name: "PBKDF2", hash: "SHA-256", salt: saltBytes as Uint8Array<ArrayBuffer>, iterations}, pass, 256);
  const base = await subtle().importKey("raw", bits, "HKDF", false, ["deriveKey", "deriveBits"]);
  return deriveSubkeys(base, {source: "passphrase", kdf: "PBKDF2-HMAC-SHA256", iterations, salt: toBase64(saltBytes)});
}

/** Re-derive keys described by a config's recorded derivation. */
export async function deriveKeys(derivation: KeyDerivation, secret: {keyFile?: Uint8Array; passphrase?: string}): Promise<RunKeys> {
  if (derivation.source === "key-file") {
    if (!secret.keyFile) throw new Error("the config was made with a key file; supply it (--key-file)");
    return deriveKeysFromSecret(secret.keyFile);
  }
  if (secret.passphrase === undefined) throw new Error("the config was made with a passphrase; supply it (--passphrase-env VAR)");
  return deriveKeysFromPassphrase(secret.passphrase, {salt: fromBase64(derivation.salt), iterations: derivation.iterations});
}

async function deriveSubkeys(base: CryptoKey, derivation: KeyDerivation): Promise<RunKeys> {
  const subkeys = {} as Record<KeyPurpose, CryptoKey>;
  const fingerprints = {} as Record<KeyPurpose, string>;
  for (const purpose of KEY_PURPOSES) {
    subkeys[purpose] = await subtle().deriveKey(
      {name: "HKDF", hash: "SHA-256", salt: HKDF_SALT, info: utf8(`deid-workbench/${purpose}/v1`)},
      base,
      {name: "HMAC", hash: "SHA-256", length: 256},
      false,
      ["sign"]
    );
    fingerprints[purpose] = await fingerprintKey(subkeys[purpose]);
  }
  return {derivation, subkeys, fingerprints};
}

/** HMAC of a fixed label: identifies a key (to catch a wrong key) without revealing it. */
export async function fingerprintKey(key: CryptoKey): Promise<string> {
  return toHex((await hmacSha256(key, FINGERPRINT_LABEL)).slice(0, 16));
}

/** Throw a clear error when the supplied key is not the one the config was made with. */
export function checkKeyFingerprints(keys: RunKeys, expected: Partial<Record<KeyPurpose, string>> | undefined, where = "config"): void {
  if (!expected) return;
  for (const purpose of KEY_PURPOSES) {
    const want = expected[purpose];
    if (want && want !== keys.fingerprints[purpose]) {
      throw new Error(
        `wrong key: the ${purpose} key fingerprint is ${keys.fingerprints[purpose]} but the ${where} expects ${want}. ` +
          `Use the key file or passphrase this configuration was made with.`
      );
    }
  }
}
