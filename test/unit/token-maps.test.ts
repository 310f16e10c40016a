import {test} from "node:test";
import assert from "node:assert/strict";
import {createHash, createHmac, randomBytes} from "node:crypto";
import {createTextTable, HOSTS} from "../helpers/hosts.js";
import {applyTransformations, buildTokenMaps} from "../../src/lib/apply-transformations.js";
import {computePackedDateOffsets} from "../../src/lib/date-shift.js";
import {deriveKeysFromSecret, hmacPacked, hmacSha256, utf8, type HmacSigner, type RunKeys} from "../../src/lib/keys.js";
import {computeTokenBodies, TOKEN_BODY_LENGTH} from "../../src/lib/pseudonyms.js";
import {quoteIdentifier, type SqlConnection} from "../../src/lib/sql.js";
import {validateTransformConfig, type TransformConfig} from "../../src/lib/transform-config.js";
import {HmacSha256} from "../../loaders/hmac-sha256.js";
import {attachNodeSigners} from "../../loaders/node-hmac.js";
import {naiveTokenFunctions} from "../naive/naive-tokens.js";

const SECRET = new Uint8Array(32).fill(5);

const {naiveBody, naiveOffset} = naiveTokenFunctions(SECRET);
const ascii = (bytes: Uint8Array) => String.fromCharCode(...bytes);

test("HmacSha256: RFC 4231 test cases 1-4 and node:crypto on every length around the block boundaries", () => {
  const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
  const cases: [Uint8Array, Uint8Array, string][] = [
    [new Uint8Array(20).fill(0x0b), utf8("Hi There"), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"],
    [utf8("Jefe"), utf8("what do ya want for nothing?"), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"],
    [new Uint8Array(20).fill(0xaa), new Uint8Array(50).fill(0xdd), "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"],
    [Uint8Array.from({length: 25}, (_, i) => i + 1), new Uint8Array(50).fill(0xcd), "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"]
  ];
  for (const [key, message, expected] of cases) assert.equal(hex(new HmacSha256(key).sign(message)), expected);
  for (const keyLength of [1, 32, 63, 64]) {
    const key = randomBytes(keyLength);
    const hmac = new HmacSha256(key);
    for (let length = 0; length <= 200; ++length) {
      const message = randomBytes(length);
      assert.equal(hex(hmac.sign(message)), createHmac("sha256", key).update(message).digest("hex"), `key ${keyLength} bytes, message ${length} bytes`);
    }
  }
  // signInto: a message in the middle of a larger buffer, the MAC at an offset
  const key = randomBytes(32);
  const buffer = randomBytes(300);
  const out = new Uint8Array(100);
  new HmacSha256(key).signInto(buffer, 17, 250, out, 40);
  assert.equal(hex(out.subarray(40, 72)), createHmac("sha256", key).update(buffer.subarray(17, 250)).digest("hex"));
  assert.throws(() => new HmacSha256(new Uint8Array(65)), /longer than 64 bytes/);
});

test("the CLI signer's packed HMACs equal WebCrypto's, message by message", async () => {
  const keys = await deriveKeysFromSecret(SECRET);
  const cli = attachNodeSigners(keys, {keyFile: SECRET});
  const messages = ["", "a", "x".repeat(55), "y".repeat(56), "z".repeat(64), "Zoë 🙂", "w".repeat(130)].map(utf8);
  const bytes = new Uint8Array(messages.reduce((n, m) => n + m.length, 0));
  const ends = new Uint32Array(messages.length);
  let at = 0;
  messages.forEach((m, i) => {
    bytes.set(m, at);
    ends[i] = at += m.length;
  });
  for (const purpose of ["pseudonym", "date-shift"] as const) {
    assert.ok(cli.signers?.[purpose]?.signPacked, "the CLI signer signs packed messages");
    const fast = await hmacPacked(cli.signers![purpose]!, {bytes, ends, count: messages.length});
    const slow = await hmacPacked(keys.subkeys[purpose], {bytes, ends, count: messages.length});
    for (const [i, m] of messages.entries()) {
      const expected = await hmacSha256(keys.subkeys[purpose], m);
      assert.deepEqual(fast.subarray(32 * i, 32 * i + 32), expected, `${purpose} message ${i}`);
      assert.deepEqual(slow.subarray(32 * i, 32 * i + 32), expected, `${purpose} message ${i} (WebCrypto fallback)`);
    }
  }
});

test("token bodies and packed date offsets equal the independent node:crypto computation (WebCrypto and CLI signers)", async () => {
  const values = ["1001", "", "o'brien", "Zoë 🙂", "\ud83d", "a,b", "x".repeat(100), "\u001f\u001e"];
  const webcrypto = await deriveKeysFromSecret(SECRET);
  for (const keys of [webcrypto, attachNodeSigners(webcrypto, {keyFile: SECRET})]) {
    const bodies = await computeTokenBodies(keys.signers?.pseudonym ?? keys.subkeys.pseudonym, values, "patient");
    assert.equal(bodies.length, TOKEN_BODY_LENGTH * values.length);
    const expected = values.map((v) => naiveBody(v, "patient"));
    assert.deepEqual(values.map((_, i) => ascii(bodies.subarray(52 * i, 52 * i + 52))), expected);
    const offsets = await computePackedDateOffsets(keys.signers?.["date-shift"] ?? keys.subkeys["date-shift"], bodies, TOKEN_BODY_LENGTH, values.length, 3);
    assert.deepEqual([...offsets], expected.map((b) => naiveOffset(b, 3)));
  }
});

test("packed date offsets: a token whose 8 draws at counter 0 are all rejected draws again with counter 1", async () => {
  const seen: string[] = [];
  const signer: HmacSigner = {
    async signMany(messages) {
      return messages.map((m) => {
        const text = new TextDecoder().decode(m);
        seen.push(text);
        // "t1" at counter 0: every word 0xFFFFFFFF, rejected for range 6; counter 1: zero -> index 0 -> -3.
        // "t2": zero at counter 0 -> -3 as well, never redrawn.
        return new Uint8Array(32).fill(text === "date-shift/v1/t1/0" ? 0xff : 0);
      });
    }
  };
  const offsets = await computePackedDateOffsets(signer, utf8("t1t2"), 2, 2, 3);
  assert.deepEqual([...offsets], [-3, -3]);
  assert.deepEqual(seen, ["date-shift/v1/t1/0", "date-shift/v1/t2/0", "date-shift/v1/t1/0", "date-shift/v1/t1/1"]);
});

// --- token maps -------------------------------------------------------------------------------------

function mapsConfig(): TransformConfig {
  return validateTransformConfig({
    format: "deid-workbench-config", version: 1, toolVersion: "0.1.0", referenceDate: "2026-01-01",
    inputs: [
      {table: "visits", file: "visits.csv", delimiter: ",", patientField: "mrn", fields: [
        {name: "mrn", role: "direct-identifier", type: "string", transform: {action: "pseudonymize", domain: "patient", prefix: "pt_", length: 10}},
        {name: "enc", role: "direct-identifier", type: "string", transform: {action: "pseudonymize", domain: "encounter", prefix: "e-", length: 52}},
        {name: "d", role: "feature", type: "date", transform: {action: "date-shift"}}]},
      {table: "labs", file: "labs.csv", delimiter: ",", patientField: "mrn", fields: [
        {name: "mrn", role: "direct-identifier", type: "string", transform: {action: "pseudonymize", domain: "patient", prefix: "pt_", length: 10}},
        {name: "d", role: "feature", type: "date", transform: {action: "date-shift"}}]}
    ],
    hierarchies: {}, levels: {}, privacyModel: {suppressionLimit: 0, riskThreshold: 0.2},
    restrictedZip3: {name: "none", codes: []}, dateShift: {maxDays: 36500, keepTimeOfDay: false}
  });
}

const AWKWARD = ["o'brien", "a\u001fb", "c\u001ed", "a,b", ",", "line\nbreak", "Zoë 🙂", " padded ", "", "-12", "'; DROP TABLE x; --"];

async function loadMapsTables(conn: SqlConnection): Promise<{patients: Set<string>; encounters: Set<string>}> {
  const visits: (string | null)[][] = [];
  const labs: (string | null)[][] = [];
  for (let i = 0; i < 40; ++i) visits.push([i % 9 === 0 ? null : `${1000 + (i % 23)}`, i % 5 === 0 ? AWKWARD[i % AWKWARD.length] : `E${i}`, "2020-01-01"]);
  AWKWARD.forEach((v, i) => labs.push([v, "2020-01-01"], [`${1000 + 20 + i}`, "2020-01-02"], [null, null]));
  await createTextTable(conn, "visits", ["mrn", "enc", "d"], visits);
  await createTextTable(conn, "labs", ["mrn", "d"], labs);
  const patients = new Set([...visits.map((r) => r[0]), ...labs.map((r) => r[0])].filter((v): v is string => v !== null));
  return {patients, encounters: new Set(visits.map((r) => r[1]).filter((v): v is string => v !== null))};
}

async function mapRows(conn: SqlConnection, table: string): Promise<[string, string | null, number | null][]> {
  const rows = await conn.query(`SELECT value, token, "offset" FROM ${quoteIdentifier(table)} ORDER BY value`);
  return rows.map((r) => [String(r.value), r.token === null ? null : String(r.token), r.offset === null ? null : Number(r.offset)]);
}

async function scratchTables(conn: SqlConnection): Promise<string[]> {
  const rows = await conn.query(`SELECT table_name AS t FROM information_schema.tables WHERE table_name LIKE '__deid_%' ORDER BY 1`);
  return rows.map((r) => String(r.t));
}

for (const host of HOSTS) {
  test(`[${host.name}] token maps: every page size gives the same map, equal to the independent tokens and offsets`, async () => {
    const conn = await host.open();
    try {
      const {patients, encounters} = await loadMapsTables(conn);
      const config = mapsConfig();
      const keys = await deriveKeysFromSecret(SECRET);
      const expectedPatients = [...patients].sort().map((v): [string, string, number] => {
        const body = naiveBody(v, "patient");
        return [v, "pt_" + body.slice(0, 10), naiveOffset(body, 36500)];
      });
      const expectedEncounters = [...encounters].sort().map((v): [string, string, null] => [v, "e-" + naiveBody(v, "encounter"), null]);
      // DuckDB sorts by bytes; JS by UTF-16 units: compare as sets of rows
      const sorted = <T>(rows: T[]) => rows.map((r) => JSON.stringify(r)).sort();
      const variants: [string, RunKeys][] = [["WebCrypto", keys]];
      if (host.name === "native") variants.push(["CLI signer", attachNodeSigners(keys, {keyFile: SECRET})]);
      for (const [signer, runKeys] of variants) {
        for (const pageSize of [1, 2, 7, 1000]) {
          const statistics = {tokensByDomain: {} as Record<string, number>, patientsShifted: 0};
          const maps = await buildTokenMaps(conn, config, {sourceTables: {visits: "visits", labs: "labs"}, keys: runKeys}, statistics, pageSize);
          const what = `${signer}, page size ${pageSize}`;
          assert.deepEqual([...maps.keys()], ["patient", "encounter"]);
          assert.equal(maps.get("patient")!.hasOffsets, true);
          assert.equal(maps.get("encounter")!.hasOffsets, false);
          assert.deepEqual(sorted(await mapRows(conn, maps.get("patient")!.table)), sorted(expectedPatients), what);
          assert.deepEqual(sorted(await mapRows(conn, maps.get("encounter")!.table)), sorted(expectedEncounters), what);
          assert.deepEqual(statistics, {tokensByDomain: {patient: patients.size, encounter: encounters.size}, patientsShifted: patients.size}, what);
          for (const m of maps.values()) await conn.exec(`DROP TABLE ${quoteIdentifier(m.table)}`);
          assert.deepEqual(await scratchTables(conn), [], "no scratch tables left");
        }
      }
    } finally {
      conn.close();
    }
  });

  test(`[${host.name}] token maps: a patient field that is not pseudonymized still gets offsets from its token body`, async () => {
    const conn = await host.open();
    try {
      await createTextTable(conn, "p", ["mrn", "d"], [["7", "2020-01-01"], ["8", "2020-01-01"], ["7", null], [null, "2020-01-01"]]);
      const config = validateTransformConfig({
        format: "deid-workbench-config", version: 1, toolVersion: "0.1.0", referenceDate: "2026-01-01",
        inputs: [{table: "p", file: "p.csv", delimiter: ",", patientField: "mrn", fields: [
          {name: "mrn", role: "direct-identifier", type: "string", transform: {action: "remove"}},
          {name: "d", role: "feature", type: "date", transform: {action: "date-shift"}}]}],
        hierarchies: {}, levels: {}, privacyModel: {suppressionLimit: 0, riskThreshold: 0.2},
        restrictedZip3: {name: "none", codes: []}, dateShift: {maxDays: 20, keepTimeOfDay: false}
      });
      const statistics = {tokensByDomain: {} as Record<string, number>, patientsShifted: 0};
      const maps = await buildTokenMaps(conn, config, {sourceTables: {p: "p"}, keys: await deriveKeysFromSecret(SECRET)}, statistics, 1);
      assert.deepEqual(await mapRows(conn, maps.get("patient")!.table), [["7", null, naiveOffset(naiveBody("7", "patient"), 20)], ["8", null, naiveOffset(naiveBody("8", "patient"), 20)]]);
      assert.deepEqual(statistics, {tokensByDomain: {}, patientsShifted: 2});
    } finally {
      conn.close();
    }
  });
}

// --- collisions -------------------------------------------------------------------------------------

/** A pseudonym signer whose MAC depends on the message through `pick` only (forces collisions). */
function fakePseudonymSigner(pick: (value: string, domain: string) => Uint8Array): HmacSigner {
  return {
    async signMany(messages) {
      return messages.map((m) => {
        const [, , domain, ...rest] = new TextDecoder().decode(m).split("/");
        return pick(rest.join("/"), domain);
      });
    }
  };
}

function collisionConfig(fields: {name: string; domain: string; prefix: string}[]): TransformConfig {
  return validateTransformConfig({
    format: "deid-workbench-config", version: 1, toolVersion: "0.1.0", referenceDate: "2026-01-01",
    inputs: [{table: "t", file: "t.csv", delimiter: ",", fields: fields.map((f) => ({name: f.name, role: "direct-identifier", type: "string", transform: {action: "pseudonymize", domain: f.domain, prefix: f.prefix, length: 16}}))}],
    hierarchies: {}, levels: {}, privacyModel: {suppressionLimit: 0, riskThreshold: 0.2},
    restrictedZip3: {name: "none", codes: []}, dateShift: {maxDays: 10, keepTimeOfDay: false}
  });
}

const sha = (text: string) => new Uint8Array(createHash("sha256").update(text).digest());
const collisionError = (field: string, domain: string) => (e: Error) =>
  e.message === `pseudonym collision in field "${field}": two different values received the same token. Increase the token length for domain "${domain}" in the config (each base32 character adds 5 bits).`;

for (const host of HOSTS) {
  test(`[${host.name}] collisions: the SQL check over all mapping tables finds them, names the field and domain, and cleans up`, async () => {
    const conn = await host.open();
    try {
      const rows = Array.from({length: 300}, (_, i) => [`v${i}`, i % 2 ? `v${i}` : `w${i}`]);
      await createTextTable(conn, "t", ["a", "b"], rows);
      const keys = await deriveKeysFromSecret(SECRET);
      const build = (config: TransformConfig, pick: (value: string, domain: string) => Uint8Array, pageSize: number) =>
        buildTokenMaps(conn, config, {sourceTables: {t: "t"}, keys: {...keys, signers: {pseudonym: fakePseudonymSigner(pick)}}}, {tokensByDomain: {}, patientsShifted: 0}, pageSize);

      // 1. distinct MACs whose first 80 bits (the 16 published characters) agree: a collision within one domain
      const sameHead = (value: string, domain: string) => {
        const mac = sha(domain + value);
        mac.fill(0, 0, 10);
        return mac;
      };
      for (const pageSize of [7, 1000]) {
        await assert.rejects(build(collisionConfig([{name: "a", domain: "x", prefix: "p"}]), sameHead, pageSize), collisionError("t.a", "x"));
        assert.deepEqual(await scratchTables(conn), [], "scratch and mapping tables dropped after the error");
      }

      // 2. MACs that ignore the domain: the values shared by a and b collide across domains x and y with one prefix;
      //    tokens count as issued domain by domain in config order, so the second domain is named
      const byValue = (value: string) => sha(value);
      await assert.rejects(build(collisionConfig([{name: "a", domain: "x", prefix: "p"}, {name: "b", domain: "y", prefix: "p"}]), byValue, 50), collisionError("t.b", "y"));
      await assert.rejects(build(collisionConfig([{name: "b", domain: "y", prefix: "p"}, {name: "a", domain: "x", prefix: "p"}]), byValue, 50), collisionError("t.a", "x"));
      // the same MACs with different prefixes publish different tokens: no collision
      const maps = await build(collisionConfig([{name: "a", domain: "x", prefix: "p"}, {name: "b", domain: "y", prefix: "q"}]), byValue, 50);
      assert.equal(maps.size, 2);
      for (const m of maps.values()) await conn.exec(`DROP TABLE ${quoteIdentifier(m.table)}`);

      // 3. through applyTransformations: the same error
      await assert.rejects(
        applyTransformations(conn, collisionConfig([{name: "a", domain: "x", prefix: "p"}, {name: "b", domain: "x", prefix: "p"}]), {sourceTables: {t: "t"}, keys: {...keys, signers: {pseudonym: fakePseudonymSigner(sameHead)}}}),
        collisionError("t.a, t.b", "x")
      );
      assert.deepEqual(await scratchTables(conn), []);
    } finally {
      conn.close();
    }
  });
}
