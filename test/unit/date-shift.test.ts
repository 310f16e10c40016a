import {test} from "node:test";
import assert from "node:assert/strict";
import {deriveKeysFromSecret} from "../../src/lib/keys.js";
import {computeDateOffset, computeDateOffsets, offsetFromIndex, shiftDateString, uniformIndexFromWord} from "../../src/lib/date-shift.js";

const SECRET = Uint8Array.from({length: 32}, (_, i) => (i * 37) & 255);

/** Upper 0.999 quantile of chi-square with df degrees of freedom (Wilson–Hilferty approximation). */
function chiSquareCritical(df: number) {
  const z = 3.0902;
  return df * (1 - 2 / (9 * df) + z * Math.sqrt(2 / (9 * df))) ** 3;
}

test("rejection sampling: hand-worked bounds, no modulo bias", () => {
  // range 3: largest multiple of 3 below 2^32 is 4294967295, so that word is rejected
  assert.equal(uniformIndexFromWord(4294967295, 3), null);
  assert.equal(uniformIndexFromWord(4294967294, 3), 2);
  assert.equal(uniformIndexFromWord(0, 3), 0);
  // range 730 (N = 365): limit = floor(2^32/730)*730 = 5883516*730 = 4294966680
  assert.equal(uniformIndexFromWord(4294966679, 730), 4294966679 % 730);
  assert.equal(uniformIndexFromWord(4294966680, 730), null);
  // a power of two never rejects
  assert.equal(uniformIndexFromWord(4294967295, 256), 255);
  assert.deepEqual([0, 1, 2, 3].map((i) => offsetFromIndex(i, 2)), [-2, -1, 1, 2]);
});

test("offsets are deterministic, never zero, within [-N, N], and differ by key", async () => {
  const {subkeys} = await deriveKeysFromSecret(SECRET);
  const other = (await deriveKeysFromSecret(new Uint8Array(32).fill(9))).subkeys["date-shift"];
  const a = await computeDateOffset(subkeys["date-shift"], "pt_abc", 365);
  assert.equal(await computeDateOffset(subkeys["date-shift"], "pt_abc", 365), a);
  const tokens = Array.from({length: 3000}, (_, i) => `pt_${i}`);
  const mine = await computeDateOffsets(subkeys["date-shift"], tokens, 1);
  const theirs = await computeDateOffsets(other, tokens, 1);
  for (const o of mine.values()) assert.ok(o === -1 || o === 1);
  let same = 0;
  for (const t of tokens) same += mine.get(t) === theirs.get(t) ? 1 : 0;
  assert.ok(Math.abs(same - 1500) < 4 * Math.sqrt(750), `offsets under two keys agree ${same}/3000 times, expected ~1500`);
  await assert.rejects(computeDateOffset(subkeys["date-shift"], "x", 0), /maxDays/);
});

test("offsets are uniform over [-N,-1] ∪ [1,N] (chi-square, 40,000 patients)", async () => {
  const {subkeys} = await deriveKeysFromSecret(SECRET);
  const N = 7;
  const tokens = Array.from({length: 40_000}, (_, i) => `pt_${i.toString(36)}`);
  const offsets = await computeDateOffsets(subkeys["date-shift"], tokens, N);
  const counts = new Map<number, number>();
  for (const o of offsets.values()) {
    assert.ok(o !== 0 && o >= -N && o <= N);
    counts.set(o, (counts.get(o) ?? 0) + 1);
  }
  assert.equal(counts.size, 2 * N);
  const expected = tokens.length / (2 * N);
  const chi2 = [...counts.values()].reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
  assert.ok(chi2 < chiSquareCritical(2 * N - 1), `chi2 = ${chi2.toFixed(1)} exceeds ${chiSquareCritical(2 * N - 1).toFixed(1)}`);
  // sign balance and mean ~ 0
  const mean = [...offsets.values()].reduce((s, o) => s + o, 0) / tokens.length;
  assert.ok(Math.abs(mean) < 4 * Math.sqrt(((N + 1) * (2 * N + 1)) / 6 / tokens.length), `mean ${mean}`);
});

test("offsets of different patients are independent: knowing some tells nothing about others", async () => {
  const {subkeys} = await deriveKeysFromSecret(SECRET);
  const N = 5;
  const R = 2 * N;
  // tokens that differ in one character, the hardest case for a weak mixing function
  const tokens = Array.from({length: 40_000}, (_, i) => `pt_${String(i).padStart(6, "0")}`);
  const offsets = await computeDateOffsets(subkeys["date-shift"], tokens, N);
  const bin = (o: number) => (o < 0 ? o + N : o + N - 1);
  // 1. contingency table of (offset of patient i, offset of patient i+1): chi-square test of independence
  const table = Array.from({length: R}, () => new Array(R).fill(0));
  const pairs = tokens.length / 2;
  for (let i = 0; i < tokens.length; i += 2) table[bin(offsets.get(tokens[i])!)][bin(offsets.get(tokens[i + 1])!)]++;
  const rows = table.map((r) => r.reduce((a, b) => a + b, 0));
  const cols = table[0].map((_, j) => table.reduce((a, r) => a + r[j], 0));
  let chi2 = 0;
  for (let a = 0; a < R; ++a) for (let b = 0; b < R; ++b) {
    const e = (rows[a] * cols[b]) / pairs;
    chi2 += (table[a][b] - e) ** 2 / e;
  }
  const df = (R - 1) * (R - 1);
  assert.ok(chi2 < chiSquareCritical(df), `independence chi2 = ${chi2.toFixed(1)} exceeds ${chiSquareCritical(df).toFixed(1)}`);
  // 2. an attacker who knows the offsets of the first half guesses each other patient's offset as that of the
  //    known patient with the nearest token; success must stay at chance (1 / 2N)
  const known = tokens.slice(0, 20_000);
  const unknown = tokens.slice(20_000);
  let hits = 0;
  unknown.forEach((t, i) => {
    const neighbour = known[(i * 7919) % known.length];
    if (offsets.get(neighbour) === offsets.get(t)) hits++;
  });
  let hitsNearest = 0;
  for (let i = 1; i < unknown.length; ++i) if (offsets.get(unknown[i - 1]) === offsets.get(unknown[i])) hitsNearest++;
  for (const [h, n] of [[hits, unknown.length], [hitsNearest, unknown.length - 1]]) {
    const p = 1 / R;
    assert.ok(Math.abs(h - n * p) < 4 * Math.sqrt(n * p * (1 - p)), `attacker guessed ${h}/${n}, chance is ${(n * p).toFixed(0)}`);
  }
  // 3. two patients' offsets coincide exactly as often as for independent uniform draws (1 / 2N)
  const diffs = new Map<number, number>();
  for (let i = 0; i < tokens.length; i += 2) {
    const d = offsets.get(tokens[i])! - offsets.get(tokens[i + 1])!;
    diffs.set(d, (diffs.get(d) ?? 0) + 1);
  }
  assert.ok(Math.abs((diffs.get(0) ?? 0) - pairs / R) < 4 * Math.sqrt((pairs / R) * (1 - 1 / R)), "P(equal offsets) must be 1/2N");
});

test("shiftDateString: plain calendar arithmetic, across month, leap day and year ends", () => {
  assert.equal(shiftDateString("2020-02-28", 1, false), "2020-02-29");
  assert.equal(shiftDateString("2021-02-28", 1, false), "2021-03-01");
  assert.equal(shiftDateString("2020-01-01", -1, false), "2019-12-31");
  assert.equal(shiftDateString("2020-01-01 13:45:10", -366, true), "2018-12-31 13:45:10");
  assert.equal(shiftDateString("2020-01-01 13:45:10", 10, false), "2020-01-11");
});

test("a token whose first 8 draws are all rejected draws again with the next counter", async () => {
  const seen: string[] = [];
  const signer = {
    async signMany(messages: Uint8Array[]) {
      return messages.map((m) => {
        const text = new TextDecoder().decode(m);
        seen.push(text);
        // counter 0: every 32-bit word is 0xFFFFFFFF, rejected for range 6; counter 1: all zero -> index 0 -> -3
        return new Uint8Array(32).fill(text.endsWith("/0") ? 0xff : 0);
      });
    }
  };
  const offsets = await computeDateOffsets(signer, ["t1"], 3);
  assert.equal(offsets.get("t1"), -3);
  assert.deepEqual(seen, ["date-shift/v1/t1/0", "date-shift/v1/t1/0", "date-shift/v1/t1/1"]);
});
