import {hmacMany, hmacSha256, utf8, type HmacSigner} from "./keys.js";

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
 * Every token issued in one run. Two different (domain, value) pairs that end up with the same token
 * would silently merge two patients, so that is an error (raise the token length). The error never
 * names the values, which are PHI.
 */
export class TokenRegistry {
  private readonly owners = new Map<string, string>();

  register(token: string, domain: string, value: string, field: string): void {
    const owner = `${domain}\u0000${value}`;
    const previous = this.owners.get(token);
    if (previous === undefined) this.owners.set(token, owner);
    else if (previous !== owner) {
      throw new Error(
        `pseudonym collision in field "${field}": two different values received the same token. ` +
          `Increase the token length for domain "${domain}" in the config (each base32 character adds 5 bits).`
      );
    }
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
