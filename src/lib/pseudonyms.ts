import {hmacMany, hmacPacked, hmacSha256, utf8, type HmacSigner} from "./keys.js";

/**
 * Keyed pseudonym tokens: prefix + the first `length` characters of base32(HMAC-SHA-256(key, message)).
 * An unkeyed hash of an MRN or SSN can be reversed by hashing every possible value; an HMAC under a
 * secret key cannot (HHS guidance on Safe Harbor re-identification codes, 45 CFR 164.514(c)).
 *
 * The message is `pseudonym/v1/<domain>/<value>` so the same value gets the same token in every
 * table and field that share a domain (records of one patient stay linked across files), while
 * different domains (say MRN and encounter id) never share tokens by accident.
 */

export interface PseudonymOptions {
  /** Readable prefix, e.g. "pt_"; part of the token. */
  prefix?: string;
  /** Linkage domain: fields with the same domain get the same token for the same value. */
  domain?: string;
  /** Base32 characters kept from the HMAC (5 bits each); default 16 = 80 bits. */
  length?: number;
}

export const DEFAULT_TOKEN_LENGTH = 16;
const MIN_TOKEN_LENGTH = 8;
const BASE32_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"; // RFC 4648 section 6, lower case

/** RFC 4648 base32 without padding (lower case). */
export function encodeBase32(bytes: Uint8Array): string {
  let out = "";
  let buffer = 0;
  let bits = 0;
  for (const b of bytes) {
    buffer = (buffer << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += BASE32_ALPHABET[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32_ALPHABET[(buffer << (5 - bits)) & 31];
  return out;
}

/** Characters of a full token body: base32 of the 256-bit HMAC. A published token is prefix + its first `length`. */
export const TOKEN_BODY_LENGTH = 52;
const BASE32_CODES = Uint8Array.from(BASE32_ALPHABET, (c) => c.charCodeAt(0));

/** encodeBase32 of the 32 bytes at mac[from..from + 32), as 52 ASCII bytes written to out[at..at + 52). */
function writeBase32(mac: Uint8Array, from: number, out: Uint8Array, at: number): void {
  let buffer = 0;
  let bits = 0;
  for (let i = from; i < from + 32; ++i) {
    buffer = ((buffer << 8) | mac[i]) & 0xfff;
    bits += 8;
    while (bits >= 5) {
      out[at++] = BASE32_CODES[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  out[at] = BASE32_CODES[(buffer << (5 - bits)) & 31];
}

export function pseudonymMessage(value: string, domain: string): Uint8Array {
  return utf8(`pseudonym/v1/${domain}/${value}`);
}

/** One token for one value. */
export async function pseudonymizeValue(key: CryptoKey, value: string, options: PseudonymOptions = {}): Promise<string> {
  const length = checkLength(options.length ?? DEFAULT_TOKEN_LENGTH);
  const mac = await hmacSha256(key, pseudonymMessage(value, options.domain ?? "default"));
  return (options.prefix ?? "") + encodeBase32(mac).slice(0, length);
}

function checkLength(length: number): number {
  if (!Number.isInteger(length) || length < MIN_TOKEN_LENGTH || length > 52) {
    throw new Error(`pseudonym token length must be an integer from ${MIN_TOKEN_LENGTH} to 52 base32 characters, got ${length}`);
  }
  return length;
}

/**
 * The full token bodies of many values of one domain: value i's body, base32(HMAC(key, pseudonymMessage(value, domain))),
 * as 52 ASCII bytes at [52i, 52i + 52). One buffer per call, so a page of values costs no object per value.
 */
export async function computeTokenBodies(key: CryptoKey | HmacSigner, values: ArrayLike<string>, domain: string): Promise<Uint8Array> {
  const head = utf8(`pseudonym/v1/${domain}/`);
  let capacity = 0;
  for (let i = 0; i < values.length; ++i) capacity += head.length + 3 * values[i].length;
  const bytes = new Uint8Array(capacity);
  const ends = new Uint32Array(values.length);
  let at = 0;
  for (let i = 0; i < values.length; ++i) {
    const value = values[i];
    const start = at;
    bytes.set(head, at);
    at += head.length;
    for (let j = 0; j < value.length; ++j) {
      const code = value.charCodeAt(j);
      if (code >= 0x80) {
        // not ASCII: the exact bytes of the one-value path (UTF-8 of the whole message)
        const message = pseudonymMessage(value, domain);
        bytes.set(message, start);
        at = start + message.length;
        break;
      }
      bytes[at++] = code;
    }
    ends[i] = at;
  }
  const macs = await hmacPacked(key, {bytes, ends, count: values.length});
  const bodies = new Uint8Array(TOKEN_BODY_LENGTH * values.length);
  for (let i = 0; i < values.length; ++i) writeBase32(macs, 32 * i, bodies, TOKEN_BODY_LENGTH * i);
  return bodies;
}

/** The error for two different (domain, value) pairs with one token; never names the values, which are PHI. */
export function collisionMessage(field: string, domain: string): string {
  return (
    `pseudonym collision in field "${field}": two different values received the same token. ` +
    `Increase the token length for domain "${domain}" in the config (each base32 character adds 5 bits).`
  );
}

/**
 * Every token issued in one run. Two different (domain, value) pairs that end up with the same token
 * would silently merge two patients, so that is an error (raise the token length). The error never
 * names the values, which are PHI. `apply` makes the same check in SQL over its mapping tables
 * (apply-transformations.ts), so its memory does not grow with the number of tokens.
 */
export class TokenRegistry {
  private readonly owners = new Map<string, string>();

  register(token: string, domain: string, value: string, field: string): void {
    const owner = `${domain}\u0000${value}`;
    const previous = this.owners.get(token);
    if (previous === undefined) this.owners.set(token, owner);
    else if (previous !== owner) throw new Error(collisionMessage(field, domain));
  }

  get size(): number {
    return this.owners.size;
  }
}

/**
 * Tokens for many distinct values (the DISTINCT values of a column), registered for the run's
 * collision check. Returns value -> token.
 */
export async function pseudonymizeValues(
  key: CryptoKey | HmacSigner,
  values: Iterable<string>,
  options: PseudonymOptions & {registry?: TokenRegistry; field?: string} = {}
): Promise<Map<string, string>> {
  const domain = options.domain ?? "default";
  const length = checkLength(options.length ?? DEFAULT_TOKEN_LENGTH);
  const result = new Map<string, string>();
  const batch: string[] = [];
  const flush = async () => {
    const macs = await hmacMany(key, batch.map((v) => pseudonymMessage(v, domain)));
    const tokens = macs.map((mac) => (options.prefix ?? "") + encodeBase32(mac).slice(0, length));
    batch.forEach((v, i) => {
      options.registry?.register(tokens[i], domain, v, options.field ?? domain);
      result.set(v, tokens[i]);
    });
    batch.length = 0;
  };
  for (const v of values) {
    if (result.has(v)) continue;
    batch.push(v);
    if (batch.length >= 4096) await flush();
  }
  await flush();
  return result;
}
