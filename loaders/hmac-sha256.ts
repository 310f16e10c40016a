/**
 * HMAC-SHA-256 (RFC 2104 over FIPS 180-4 SHA-256) in plain TypeScript, for the CLI's token and
 * date-offset step: millions of short messages under one key. The key's inner and outer pad blocks
 * are compressed once, so one HMAC of a message under 56 bytes costs two compressions and no
 * allocation; about 3x faster than one node:crypto createHmac per message (measured: 0.7 vs 1.9 µs).
 * The result is checked against node:crypto and the WebCrypto key fingerprint before use
 * (loaders/node-hmac.ts) and by test/unit/token-maps.test.ts (RFC 4231 vectors, random messages).
 */

// FIPS 180-4 section 4.2.2: the first 32 bits of the fractional parts of the cube roots of the first 64 primes
const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
  0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
  0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
  0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
]);
// FIPS 180-4 section 5.3.3
const IV = new Int32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);

const W = new Int32Array(64);

/** One SHA-256 compression of the 64-byte block at bytes[at..at+64) into state. */
function compress(state: Int32Array, bytes: Uint8Array, at: number): void {
  for (let i = 0; i < 16; ++i, at += 4) W[i] = (bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3];
  for (let i = 16; i < 64; ++i) {
    const x = W[i - 15];
    const y = W[i - 2];
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    W[i] = (W[i - 16] + s0 + W[i - 7] + s1) | 0;
  }
  let a = state[0], b = state[1], c = state[2], d = state[3], e = state[4], f = state[5], g = state[6], h = state[7];
  for (let i = 0; i < 64; ++i) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + S1 + ((e & f) ^ (~e & g)) + K[i] + W[i]) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  state[0] = (state[0] + a) | 0;
  state[1] = (state[1] + b) | 0;
  state[2] = (state[2] + c) | 0;
  state[3] = (state[3] + d) | 0;
  state[4] = (state[4] + e) | 0;
  state[5] = (state[5] + f) | 0;
  state[6] = (state[6] + g) | 0;
  state[7] = (state[7] + h) | 0;
}

function writeWord(out: Uint8Array, at: number, word: number): void {
  out[at] = word >>> 24;
  out[at + 1] = word >>> 16;
  out[at + 2] = word >>> 8;
  out[at + 3] = word;
}

/** HMAC-SHA-256 under one key of at most 64 bytes (the run's subkeys are 32). */
export class HmacSha256 {
  private readonly inner = new Int32Array(8);
  private readonly outer = new Int32Array(8);
  private readonly state = new Int32Array(8);
  private readonly tail = new Uint8Array(128);

  constructor(key: Uint8Array) {
    // RFC 2104: keys longer than the block would be hashed first; never needed here
    if (key.length > 64) throw new Error("HmacSha256: keys longer than 64 bytes are not supported");
    const pad = new Uint8Array(64);
    for (const [state, byte] of [[this.inner, 0x36], [this.outer, 0x5c]] as const) {
      pad.fill(byte);
      for (let i = 0; i < key.length; ++i) pad[i] ^= key[i];
      state.set(IV);
      compress(state, pad, 0);
    }
  }

  /** The MAC of bytes[start..end) written to out[at..at+32). */
  signInto(bytes: Uint8Array, start: number, end: number, out: Uint8Array, at: number): void {
    if (end - start > 0x1000_0000) throw new Error("HmacSha256: messages longer than 256 MiB are not supported");
    const st = this.state;
    const tail = this.tail;
    st.set(this.inner);
    let i = start;
    for (; i + 64 <= end; i += 64) compress(st, bytes, i);
    const rest = end - i;
    tail.fill(0);
    for (let j = 0; j < rest; ++j) tail[j] = bytes[i + j];
    tail[rest] = 0x80;
    const blocks = rest + 9 <= 64 ? 1 : 2;
    // message length in bits, after the 64-byte inner pad block
    const bits = (end - start + 64) * 8;
    writeWord(tail, blocks * 64 - 4, bits);
    compress(st, tail, 0);
    if (blocks === 2) compress(st, tail, 64);
    tail.fill(0, 0, 64);
    for (let w = 0; w < 8; ++w) writeWord(tail, 4 * w, st[w]);
    tail[32] = 0x80;
    writeWord(tail, 60, (64 + 32) * 8);
    st.set(this.outer);
    compress(st, tail, 0);
    for (let w = 0; w < 8; ++w) writeWord(out, at + 4 * w, st[w]);
  }

  sign(message: Uint8Array): Uint8Array {
    const out = new Uint8Array(32);
    this.signInto(message, 0, message.length, out, 0);
    return out;
  }
}
