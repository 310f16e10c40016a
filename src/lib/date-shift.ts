import {hmacMany, hmacPacked, utf8, type HmacSigner} from "./keys.js";

/**
 * Per-patient date shifting. Every date of one patient moves by the same offset, so intervals between
 * that patient's events survive, while the absolute dates no longer match outside records.
 *
 * The offset of a patient is a pure function of (date-shift key, patient token):
 *   offset = draw(HMAC-SHA-256(key, "date-shift/v1/<token>/<counter>"))
 * uniform over [-N, -1] ∪ [1, N] (never zero: a zero shift would publish the true dates).
 *
 * Why offsets of different patients are independent: HMAC-SHA-256 is a pseudorandom function
 * (Bellare, Canetti, Krawczyk 1996; Bellare 2006 "New proofs for NMAC and HMAC"): to anyone without
 * the key, its outputs on distinct messages are indistinguishable from independent uniform strings.
 * Distinct patients have distinct tokens, hence distinct messages, so an attacker who learns the true
 * and shifted dates of some patients (that is, their offsets, i.e. some PRF outputs) learns nothing about
 * the offsets of the others, short of breaking HMAC. The key is separate from the pseudonym key (HKDF
 * subkeys), so knowing tokens does not help either. Tests check uniformity and pairwise independence
 * statistically.
 */

export const DEFAULT_MAX_SHIFT_DAYS = 365;
export const MAX_SHIFT_DAYS_LIMIT = 36_500;

/**
 * Map one unsigned 32-bit draw onto 0..range-1 without modulo bias: draws at or above the largest
 * multiple of `range` below 2^32 are rejected (return null) and the caller draws again.
 */
export function uniformIndexFromWord(word: number, range: number): number | null {
  const limit = Math.floor(0x1_0000_0000 / range) * range;
  return word < limit ? word % range : null;
}

/** Index 0..2N-1 onto [-N..-1] ∪ [1..N]. */
export function offsetFromIndex(index: number, maxDays: number): number {
  return index < maxDays ? index - maxDays : index - maxDays + 1;
}

function checkMaxDays(maxDays: number): number {
  if (!Number.isInteger(maxDays) || maxDays < 1 || maxDays > MAX_SHIFT_DAYS_LIMIT) {
    throw new Error(`date shift maxDays must be an integer from 1 to ${MAX_SHIFT_DAYS_LIMIT}, got ${maxDays}`);
  }
  return maxDays;
}

function offsetFromMac(mac: Uint8Array, maxDays: number): number | null {
  return offsetFromWords(new DataView(mac.buffer, mac.byteOffset, mac.byteLength), 0, maxDays);
}

/** The offset drawn from the 8 big-endian words of the MAC at view[at..at + 32), or null when all are rejected. */
function offsetFromWords(view: DataView, at: number, maxDays: number): number | null {
  for (let i = at; i < at + 32; i += 4) {
    const index = uniformIndexFromWord(view.getUint32(i, false), 2 * maxDays);
    if (index !== null) return offsetFromIndex(index, maxDays);
  }
  return null;
}

/** The date offset (in days) for one patient token. */
export async function computeDateOffset(key: CryptoKey | HmacSigner, patientToken: string, maxDays = DEFAULT_MAX_SHIFT_DAYS): Promise<number> {
  checkMaxDays(maxDays);
  for (let counter = 0; counter < 1000; ++counter) {
    const [mac] = await hmacMany(key, [utf8(`date-shift/v1/${patientToken}/${counter}`)]);
    const offset = offsetFromMac(mac, maxDays);
    if (offset !== null) return offset;
  }
  // Each word is rejected with probability < range / 2^32 < 2e-5; 8000 rejections in a row do not happen.
  throw new Error("date shift: rejection sampling did not terminate");
}

/** Offsets for many patient tokens (token -> days). */
export async function computeDateOffsets(key: CryptoKey | HmacSigner, patientTokens: Iterable<string>, maxDays = DEFAULT_MAX_SHIFT_DAYS): Promise<Map<string, number>> {
  checkMaxDays(maxDays);
  const unique = [...new Set(patientTokens)];
  const result = new Map<string, number>();
  for (let i = 0; i < unique.length; i += 4096) {
    const slice = unique.slice(i, i + 4096);
    // counter 0 for the whole batch; the rare token whose 8 words are all rejected draws again one by one
    const macs = await hmacMany(key, slice.map((t) => utf8(`date-shift/v1/${t}/0`)));
    for (const [j, t] of slice.entries()) result.set(t, offsetFromMac(macs[j], maxDays) ?? (await computeDateOffset(key, t, maxDays)));
  }
  return result;
}

/**
 * computeDateOffsets for `count` tokens of ASCII characters packed `width` bytes each (token i at
 * tokens[width * i .. width * (i + 1))), without an object per token: offset i in the result.
 */
export async function computePackedDateOffsets(key: CryptoKey | HmacSigner, tokens: Uint8Array, width: number, count: number, maxDays = DEFAULT_MAX_SHIFT_DAYS): Promise<Int32Array> {
  checkMaxDays(maxDays);
  const head = utf8("date-shift/v1/");
  const tail = utf8("/0");
  const size = head.length + width + tail.length;
  const bytes = new Uint8Array(size * count);
  const ends = new Uint32Array(count);
  for (let i = 0; i < count; ++i) {
    bytes.set(head, size * i);
    bytes.set(tokens.subarray(width * i, width * (i + 1)), size * i + head.length);
    bytes.set(tail, size * i + head.length + width);
    ends[i] = size * (i + 1);
  }
  const macs = await hmacPacked(key, {bytes, ends, count});
  const view = new DataView(macs.buffer, macs.byteOffset, macs.byteLength);
  const offsets = new Int32Array(count);
  for (let i = 0; i < count; ++i) {
    const offset = offsetFromWords(view, 32 * i, maxDays);
    offsets[i] = offset ?? (await computeDateOffset(key, String.fromCharCode(...tokens.subarray(width * i, width * (i + 1))), maxDays));
  }
  return offsets;
}

/**
 * Shift a 'YYYY-MM-DD' or 'YYYY-MM-DD HH:MM:SS' value by whole days in plain JS (proleptic Gregorian,
 * UTC, no time zones). With keepTimeOfDay false the result is the shifted date only.
 * The SQL path in apply-transformations does the same in DuckDB; this one is the independent check.
 */
export function shiftDateString(value: string, offsetDays: number, keepTimeOfDay: boolean): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?/.exec(value);
  if (!m) throw new Error(`not a date: ${JSON.stringify(value)}`);
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) + offsetDays * 86_400_000;
  const date = new Date(t).toISOString().slice(0, 10);
  if (!keepTimeOfDay || m[4] === undefined) return date;
  return `${date} ${m[4]}:${m[5]}:${m[6] ?? "00"}`;
}
