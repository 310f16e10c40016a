/**
 * Independent re-implementation of pseudonym token bodies and date offsets with node:crypto, from the
 * definitions in docs/semantics.md (HKDF subkeys, HMAC-SHA-256, base32, rejection sampling), for
 * checking the engine's tokens and offsets.
 */
import {createHmac, hkdfSync} from "node:crypto";

const B32 = "abcdefghijklmnopqrstuvwxyz234567";
const utf8 = (s: string) => new TextEncoder().encode(s);

export function naiveTokenFunctions(secret: Uint8Array) {
  const subkey = (purpose: string) => Buffer.from(hkdfSync("sha256", secret, utf8("deid-workbench/hkdf/v1"), utf8(`deid-workbench/${purpose}/v1`), 32));
  /** The full 52-character token body of `value` in `domain`. */
  function naiveBody(value: string, domain: string): string {
    const mac = createHmac("sha256", subkey("pseudonym")).update(`pseudonym/v1/${domain}/${value}`).digest();
    const bits = [...mac].map((b) => b.toString(2).padStart(8, "0")).join("");
    let s = "";
    for (let i = 0; i + 5 <= bits.length; i += 5) s += B32[parseInt(bits.slice(i, i + 5), 2)];
    return s + B32[parseInt(bits.slice(255).padEnd(5, "0"), 2)];
  }
  /** The date offset (days) of the patient whose token body is `body`. */
  function naiveOffset(body: string, maxDays: number): number {
    const range = 2 * maxDays;
    for (let counter = 0; ; ++counter) {
      const mac = createHmac("sha256", subkey("date-shift")).update(`date-shift/v1/${body}/${counter}`).digest();
      for (let i = 0; i < 32; i += 4) {
        const w = mac.readUInt32BE(i);
        if (w < Math.floor(2 ** 32 / range) * range) {
          const idx = w % range;
          return idx < maxDays ? idx - maxDays : idx - maxDays + 1;
        }
      }
    }
  }
  return {naiveBody, naiveOffset};
}
