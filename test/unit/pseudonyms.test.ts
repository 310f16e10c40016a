import {test} from "node:test";
import assert from "node:assert/strict";
import {createHmac, hkdfSync} from "node:crypto";
import {deriveKeysFromSecret, utf8} from "../../src/lib/keys.js";
import {encodeBase32, pseudonymizeValue, pseudonymizeValues, TokenRegistry} from "../../src/lib/pseudonyms.js";

const SECRET = Uint8Array.from({length: 32}, (_, i) => 255 - i);

test("encodeBase32 reproduces the RFC 4648 section 10 vectors (lower case, no padding)", () => {
  const cases: [string, string][] = [["", ""], ["f", "my"], ["fo", "mzxq"], ["foo", "mzxw6"], ["foob", "mzxw6yq"], ["fooba", "mzxw6ytb"], ["foobar", "mzxw6ytboi"]];
  for (const [input, out] of cases) assert.equal(encodeBase32(utf8(input)), out);
});

/** Independent token: node:crypto HKDF + HMAC + a naive base32 over a bit string. */
function naiveToken(value: string, domain: string, prefix: string, length: number) {
  const subkey = Buffer.from(hkdfSync("sha256", SECRET, utf8("deid-workbench/hkdf/v1"), utf8("deid-workbench/pseudonym/v1"), 32));
  const mac = createHmac("sha256", subkey).update(`pseudonym/v1/${domain}/${value}`).digest();
  const bitString = [...mac].map((b) => b.toString(2).padStart(8, "0")).join("");
  let s = "";
  for (let i = 0; i < length; ++i) s += "abcdefghijklmnopqrstuvwxyz234567"[parseInt(bitString.slice(5 * i, 5 * i + 5), 2)];
  return prefix + s;
}

test("tokens are HMAC-SHA-256 under the pseudonym subkey, prefix + base32 slice", async () => {
  const {subkeys} = await deriveKeysFromSecret(SECRET);
  for (const v of ["MRN-000123", "", "Ünïcødé", "a/b/c"]) {
    assert.equal(await pseudonymizeValue(subkeys.pseudonym, v, {prefix: "pt_", domain: "patient", length: 16}), naiveToken(v, "patient", "pt_", 16));
  }
  assert.match(await pseudonymizeValue(subkeys.pseudonym, "x", {prefix: "e_", length: 10}), /^e_[a-z2-7]{10}$/);
});

test("same value gives the same token across fields of a domain; domains and keys separate tokens", async () => {
  const {subkeys} = await deriveKeysFromSecret(SECRET);
  const other = (await deriveKeysFromSecret(new Uint8Array(32).fill(1))).subkeys.pseudonym;
  const a = await pseudonymizeValue(subkeys.pseudonym, "123", {domain: "patient"});
  assert.equal(await pseudonymizeValue(subkeys.pseudonym, "123", {domain: "patient"}), a);
  assert.notEqual(await pseudonymizeValue(subkeys.pseudonym, "123", {domain: "encounter"}), a);
  assert.notEqual(await pseudonymizeValue(other, "123", {domain: "patient"}), a);
  // the unkeyed SHA-256 of the value is not what we publish
  assert.ok(!createHmac("sha256", "").update("123").digest("hex").includes(a));
});

test("pseudonymizeValues maps distinct values and the run registry detects collisions", async () => {
  const {subkeys} = await deriveKeysFromSecret(SECRET);
  const registry = new TokenRegistry();
  const map = await pseudonymizeValues(subkeys.pseudonym, ["a", "b", "a", "c"], {domain: "d", registry, field: "mrn"});
  assert.equal(map.size, 3);
  assert.equal(new Set(map.values()).size, 3);
  // a second field of the same domain re-registers the same tokens without complaint
  await pseudonymizeValues(subkeys.pseudonym, ["a", "c"], {domain: "d", registry, field: "mrn2"});
  assert.equal(registry.size, 3);
  // a forced collision: a different value claiming an existing token
  assert.throws(() => registry.register(map.get("a")!, "d", "zzz", "mrn"), (e: Error) => /collision in field "mrn"/.test(e.message) && !e.message.includes("zzz"));
});

test("collision check fires on real collisions with minimal-length tokens", async () => {
  const {subkeys} = await deriveKeysFromSecret(SECRET);
  // 8 base32 chars = 40 bits: no collision expected among 5,000 values, and none reported
  const registry = new TokenRegistry();
  const values = Array.from({length: 5000}, (_, i) => `v${i}`);
  const map = await pseudonymizeValues(subkeys.pseudonym, values, {length: 8, registry});
  assert.equal(new Set(map.values()).size, 5000);
  await assert.rejects(pseudonymizeValue(subkeys.pseudonym, "x", {length: 4}), /length must be/);
});
