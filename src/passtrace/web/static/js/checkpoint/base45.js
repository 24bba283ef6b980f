// Base45 (RFC 9285) decoding: the text layer of a PT1:/HC1: pass.

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
const VALUE = new Map([...ALPHABET].map((ch, i) => [ch, i]));

export class Base45Error extends Error {}

/** Decode Base45 text to bytes; throw Base45Error on any invalid input. */
export function b45decode(text) {
  if (text.length % 3 === 1) throw new Base45Error("bad length");
  const out = new Uint8Array(Math.floor(text.length / 3) * 2 + (text.length % 3 === 2 ? 1 : 0));
  let o = 0;
  for (let i = 0; i < text.length; i += 3) {
    const digits = [];
    for (let j = i; j < Math.min(i + 3, text.length); j++) {
      const v = VALUE.get(text[j]);
      if (v === undefined) throw new Base45Error("bad character");
      digits.push(v);
    }
    if (digits.length === 3) {
      const n = digits[0] + digits[1] * 45 + digits[2] * 2025;
      if (n > 0xffff) throw new Base45Error("triplet out of range");
      out[o++] = n >> 8;
      out[o++] = n & 0xff;
    } else {
      const n = digits[0] + digits[1] * 45;
      if (n > 0xff) throw new Base45Error("pair out of range");
      out[o++] = n;
    }
  }
  return out;
}
