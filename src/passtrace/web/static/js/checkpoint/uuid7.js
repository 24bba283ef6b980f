// UUIDv7 (RFC 9562): 48-bit Unix milliseconds, then a 12-bit counter (monotonic
// within one millisecond on this device) and 62 random bits.

let lastMs = 0;
let counter = 0;

export function uuid7() {
  let ms = Date.now();
  if (ms <= lastMs) {
    counter += 1;
    if (counter > 0xfff) { lastMs += 1; counter = 0; }
    ms = lastMs;
  } else {
    lastMs = ms;
    counter = Math.floor(Math.random() * 0x400);  // leave room to count up
  }
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  for (let i = 5; i >= 0; i--) { b[i] = ms % 256; ms = Math.floor(ms / 256); }
  b[6] = 0x70 | (counter >> 8);
  b[7] = counter & 0xff;
  b[8] = 0x80 | (b[8] & 0x3f);
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
