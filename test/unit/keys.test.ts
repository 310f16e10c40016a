import {test} from "node:test";
import assert from "node:assert/strict";
import {createHmac, hkdfSync, pbkdf2Sync} from "node:crypto";
import {
  checkKeyFingerprints,
  deriveKeys,
  deriveKeysFromPassphrase,
  deriveKeysFromSecret,
  formatKeyFile,
  fromBase64,
  hmacSha256,
  importHmacKey,
  MIN_PBKDF2_ITERATIONS,
  parseKeyFile,
  sha256Hex,
  toHex,
  utf8
} from "../../src/lib/keys.js";

const hex = (s: string) => Uint8Array.from(s.match(/../g)!.map((h) => parseInt(h, 16)));

// RFC 4231, section 4: HMAC-SHA-256 test cases 1, 2, 3, 4 and 6.
const RFC4231 = [
  {key: hex("0b".repeat(20)), data: utf8("Hi There"), mac: "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
  {key: utf8("Jefe"), data: utf8("what do ya want for nothing?"), mac: "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
  {key: hex("aa".repeat(20)), data: hex("dd".repeat(50)), mac: "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
  {key: hex("0102030405060708090a0b0c0d0e0f10111213141516171819"), data: hex("cd".repeat(50)), mac: "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
  {key: hex("aa".repeat(131)), data: utf8("Test Using Larger Than Block-Size Key - Hash Key First"), mac: "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"}
];

test("hmacSha256 reproduces the RFC 4231 HMAC-SHA-256 test vectors", async () => {
  for (const v of RFC4231) {
    assert.equal(toHex(await hmacSha256(await importHmacKey(v.key), v.data)), v.mac);
  }
});

test("sha256Hex matches the FIPS 180-2 'abc' vector", async () => {
  assert.equal(await sha256Hex(utf8("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
});

const SECRET = Uint8Array.from({length: 32}, (_, i) => i + 1);

/** Independent derivation with node:crypto: HKDF (RFC 5869) then HMAC of the fingerprint label. */
function nodeFingerprint(ikm: Uint8Array, purpose: string) {
  const subkey = Buffer.from(hkdfSync("sha256", ikm, utf8("deid-workbench/hkdf/v1"), utf8(`deid-workbench/${purpose}/v1`), 32));
  return {subkey, fingerprint: createHmac("sha256", subkey).update("deid-workbench/key-fingerprint/v1").digest("hex").slice(0, 32)};
}

test("key-file keys: HKDF subkeys per purpose, fingerprints equal an independent node:crypto derivation", async () => {
  const keys = await deriveKeysFromSecret(SECRET);
  assert.deepEqual(keys.derivation, {source: "key-file"});
  for (const purpose of ["pseudonym", "date-shift"] as const) {
    const {subkey, fingerprint} = nodeFingerprint(SECRET, purpose);
    assert.equal(keys.fingerprints[purpose], fingerprint);
    // the subkey itself signs like the independently derived key
    const mine = toHex(await hmacSha256(keys.subkeys[purpose], utf8("x")));
    assert.equal(mine, createHmac("sha256", subkey).update("x").digest("hex"));
  }
  assert.notEqual(keys.fingerprints.pseudonym, keys.fingerprints["date-shift"]);
});

test("subkeys are non-extractable and the fingerprint is not the key", async () => {
  const keys = await deriveKeysFromSecret(SECRET);
  for (const k of Object.values(keys.subkeys)) {
    assert.equal(k.extractable, false);
    await assert.rejects(globalThis.crypto.subtle.exportKey("raw", k));
  }
  const {subkey} = nodeFingerprint(SECRET, "pseudonym");
  assert.ok(!keys.fingerprints.pseudonym.includes(subkey.toString("hex").slice(0, 16)));
});

test("passphrase keys: PBKDF2-SHA256 with >= 600,000 iterations and a recorded salt, re-derivable", async () => {
  const salt = Uint8Array.from({length: 16}, (_, i) => 200 - i);
  const keys = await deriveKeysFromPassphrase("correct horse battery staple", {salt});
  assert.equal(keys.derivation.source, "passphrase");
  if (keys.derivation.source !== "passphrase") return;
  assert.equal(keys.derivation.iterations, MIN_PBKDF2_ITERATIONS);
  assert.deepEqual(fromBase64(keys.derivation.salt), salt);
  const ikm = pbkdf2Sync("correct horse battery staple", salt, 600_000, 32, "sha256");
  assert.equal(keys.fingerprints.pseudonym, nodeFingerprint(ikm, "pseudonym").fingerprint);
  const again = await deriveKeys(keys.derivation, {passphrase: "correct horse battery staple"});
  assert.deepEqual(again.fingerprints, keys.fingerprints);
  const wrong = await deriveKeys(keys.derivation, {passphrase: "Correct horse battery staple"});
  assert.notEqual(wrong.fingerprints.pseudonym, keys.fingerprints.pseudonym);
  await assert.rejects(deriveKeysFromPassphrase("x", {salt, iterations: 1000}), /at least 600000/);
  const fresh = await deriveKeysFromPassphrase("correct horse battery staple");
  assert.notEqual(fresh.fingerprints.pseudonym, keys.fingerprints.pseudonym, "a fresh random salt gives different keys");
});

test("key files round-trip and bad key files are rejected clearly", async () => {
  assert.deepEqual(parseKeyFile(formatKeyFile(SECRET)), SECRET);
  assert.throws(() => parseKeyFile("hello", "k.key"), /k\.key: not a deid-workbench key file/);
  assert.throws(() => parseKeyFile(JSON.stringify({format: "deid-workbench-key", version: 1, key: "AAAA"}), "k.key"), /at least 32/);
  assert.throws(() => formatKeyFile(new Uint8Array(8)), /at least 32/);
});

test("checkKeyFingerprints names the purpose and both fingerprints on a wrong key", async () => {
  const right = await deriveKeysFromSecret(SECRET);
  const wrong = await deriveKeysFromSecret(new Uint8Array(32).fill(7));
  checkKeyFingerprints(right, right.fingerprints);
  assert.throws(() => checkKeyFingerprints(wrong, right.fingerprints), (e: Error) => {
    assert.match(e.message, /wrong key/);
    assert.ok(e.message.includes(right.fingerprints.pseudonym) && e.message.includes(wrong.fingerprints.pseudonym));
    return true;
  });
});
