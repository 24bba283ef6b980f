// A minimal, strict CBOR (RFC 8949) reader: what passes, trust lists and
// revocation lists use. Maps become Map objects (keys may be ints or text),
// byte strings Uint8Array, tags {tag, value}. Indefinite lengths are refused.

export class CborError extends Error {}

export class Tagged {
  constructor(tag, value) {
    this.tag = tag;
    this.value = value;
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

class Reader {
  constructor(bytes) {
    this.b = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.i = 0;
    this.depth = 0;
  }

  need(n) {
    if (this.i + n > this.b.length) throw new CborError("truncated");
  }

  argument(info) {
    if (info < 24) return info;
    const sizes = { 24: 1, 25: 2, 26: 4, 27: 8 };
    const size = sizes[info];
    if (!size) throw new CborError("unsupported additional info " + info);
    this.need(size);
    let value;
    if (size === 1) value = this.view.getUint8(this.i);
    else if (size === 2) value = this.view.getUint16(this.i);
    else if (size === 4) value = this.view.getUint32(this.i);
    else {
      const big = this.view.getBigUint64(this.i);
      if (big > BigInt(Number.MAX_SAFE_INTEGER)) throw new CborError("integer too large");
      value = Number(big);
    }
    this.i += size;
    return value;
  }

  item() {
    if (++this.depth > 32) throw new CborError("nested too deep");
    this.need(1);
    const head = this.b[this.i++];
    const major = head >> 5;
    const info = head & 0x1f;
    let result;
    if (major === 7) {
      result = this.simple(info);
    } else {
      const n = this.argument(info);
      switch (major) {
        case 0: result = n; break;
        case 1: result = -1 - n; break;
        case 2: this.need(n); result = this.b.slice(this.i, this.i + n); this.i += n; break;
        case 3:
          this.need(n);
          try {
            result = utf8.decode(this.b.subarray(this.i, this.i + n));
          } catch (e) {
            throw new CborError("invalid UTF-8");
          }
          this.i += n;
          break;
        case 4:
          result = [];
          for (let k = 0; k < n; k++) result.push(this.item());
          break;
        case 5:
          result = new Map();
          for (let k = 0; k < n; k++) {
            const key = this.item();
            if (typeof key === "object" && key !== null) throw new CborError("unsupported map key");
            if (result.has(key)) throw new CborError("duplicate map key");
            result.set(key, this.item());
          }
          break;
        case 6: result = new Tagged(n, this.item()); break;
        default: throw new CborError("bad major type");
      }
    }
    this.depth--;
    return result;
  }

  simple(info) {
    if (info === 20) return false;
    if (info === 21) return true;
    if (info === 22) return null;
    if (info === 23) return undefined;
    if (info === 25) { this.need(2); const v = halfFloat(this.view.getUint16(this.i)); this.i += 2; return v; }
    if (info === 26) { this.need(4); const v = this.view.getFloat32(this.i); this.i += 4; return v; }
    if (info === 27) { this.need(8); const v = this.view.getFloat64(this.i); this.i += 8; return v; }
    throw new CborError("unsupported simple value");
  }
}

function halfFloat(h) {
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  const sign = h & 0x8000 ? -1 : 1;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Decode exactly one CBOR item; trailing bytes are an error. */
export function decode(bytes) {
  const reader = new Reader(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes));
  const value = reader.item();
  if (reader.i !== reader.b.length) throw new CborError("trailing bytes");
  return value;
}
