// COSE_Sign1 (RFC 9052) verification with WebCrypto, and the pass pipeline:
// "PT1:" -> Base45 -> inflate (only when zlib-compressed) -> COSE_Sign1 -> CWT claims.
// Reason codes are those of the codec (docs/pass-format.md).

import { b45decode } from "./base45.js";
import { decode, Tagged } from "./cbor.js";

const TAG_SIGN1 = 18;
// The COSE ECDSA algorithms WebCrypto verifies, each on its one curve (RFC 9053):
// alg id -> the curve and hash. A key verifies only for its own curve's alg, as
// codec/keys.py: a P-256 key never checks a signature labelled ES384.
export const ECDSA_ALGS = new Map([
  [-7, { name: "ES256", curve: "P-256", hash: "SHA-256" }],
  [-35, { name: "ES384", curve: "P-384", hash: "SHA-384" }],
  [-36, { name: "ES512", curve: "P-521", hash: "SHA-512" }],
]);
const CLAIM_PASS = -65537;
const PURPOSES = ["commute", "medical", "supply", "emergency", "other", "household", "visitor"];

export class Rejected extends Error {
  constructor(reason, detail) {
    super(detail || reason);
    this.reason = reason;
  }
}

export function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function bstrHead(n) {
  if (n < 24) return [0x40 | n];
  if (n < 0x100) return [0x58, n];
  if (n < 0x10000) return [0x59, n >> 8, n & 0xff];
  return [0x5a, (n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
}

/** The bytes a COSE_Sign1 signature covers: ["Signature1", protected, h'', payload]. */
export function sigStructure(protectedBytes, payload) {
  const head = [0x84, 0x6a, ...new TextEncoder().encode("Signature1")];
  const parts = [head, bstrHead(protectedBytes.length), protectedBytes, [0x40],
    bstrHead(payload.length), payload];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

/** Parse tagged COSE_Sign1 bytes (18, or 61(18)) without verifying; throw Rejected. */
export function parseSign1(bytes) {
  let obj;
  try {
    obj = decode(bytes);
  } catch (e) {
    throw new Rejected("bad_cose", "not CBOR: " + e.message);
  }
  const tags = [];
  while (obj instanceof Tagged) { tags.push(obj.tag); obj = obj.value; }
  // As codec/pipeline.py decode_pass: a PT1 pass is tag 18 with an empty unprotected map.
  if (!(tags.length === 1 && tags[0] === TAG_SIGN1)) throw new Rejected("bad_cose", "unexpected tags");
  if (!Array.isArray(obj) || obj.length !== 4) throw new Rejected("bad_cose", "not an array of 4");
  const [prot, unprot, payload, signature] = obj;
  if (!(prot instanceof Uint8Array && unprot instanceof Map && payload instanceof Uint8Array
        && signature instanceof Uint8Array)) {
    throw new Rejected("bad_cose", "member of the wrong type");
  }
  if (unprot.size) throw new Rejected("bad_cose", "unprotected header not empty");
  let header = new Map();
  if (prot.length) {
    try { header = decode(prot); } catch (e) { throw new Rejected("bad_cose", "protected header"); }
    if (!(header instanceof Map)) throw new Rejected("bad_cose", "protected header is not a map");
  }
  const kid = header.get(4);
  if (!(kid instanceof Uint8Array)) throw new Rejected("bad_cose", "kid missing or not protected");
  return { protectedBytes: prot, alg: header.get(1), kid, payload, signature };
}

/** Import an SPKI DER public key for an ECDSA alg (ES256, ES384 or ES512 by COSE id). */
export function importEcdsa(der, alg) {
  const known = ECDSA_ALGS.get(alg);
  if (!known) throw new Rejected("unsupported_alg", "alg " + alg);
  return crypto.subtle.importKey("spki", der, { name: "ECDSA", namedCurve: known.curve }, false,
    ["verify"]);
}

// The other pass-signing algorithms of codec/keys.py. A trust list may carry EdDSA
// (Ed25519) and PS256 (RSA-PSS) keys after `passtrace keys rotate --alg`: without them an
// offline checkpoint would refuse every pass the new key signs.
const EDDSA = -8;
const PS256 = -37;
// RFC 8230: PS256 is RSASSA-PSS with SHA-256, MGF1 and a salt as long as the hash.
const PSS = { name: "RSA-PSS", hash: "SHA-256" };

/** The COSE algs this page verifies offline (the trust list's other entries are skipped). */
export function verifiable(alg) {
  return ECDSA_ALGS.has(alg) || alg === EDDSA || alg === PS256;
}

/** Import an SPKI DER public key for any verifiable alg (by COSE id). */
export function importKey(der, alg) {
  if (ECDSA_ALGS.has(alg)) return importEcdsa(der, alg);
  if (alg === EDDSA) return crypto.subtle.importKey("spki", der, { name: "Ed25519" }, false, ["verify"]);
  if (alg === PS256) return crypto.subtle.importKey("spki", der, PSS, false, ["verify"]);
  throw new Rejected("unsupported_alg", "alg " + alg);
}

/** Import an SPKI DER P-256 public key for ES256 verification (the root key). */
export function importEs256(der) {
  return importEcdsa(der, -7);
}

/** Verify a parsed Sign1 with an imported key; the alg must be the key's own. */
export async function verifySign1(msg, key) {
  const data = sigStructure(msg.protectedBytes, msg.payload);
  let params;
  const known = ECDSA_ALGS.get(msg.alg);
  if (known) {
    if (key.algorithm.name !== "ECDSA" || key.algorithm.namedCurve !== known.curve) {
      throw new Rejected("bad_signature", "alg");
    }
    params = { name: "ECDSA", hash: known.hash };
  } else if (msg.alg === EDDSA) {
    if (key.algorithm.name !== "Ed25519") throw new Rejected("bad_signature", "alg");
    params = { name: "Ed25519" };
  } else if (msg.alg === PS256) {
    if (key.algorithm.name !== "RSA-PSS") throw new Rejected("bad_signature", "alg");
    params = { name: "RSA-PSS", saltLength: 32 };
  } else {
    throw new Rejected("unsupported_alg", "alg " + msg.alg);
  }
  let ok;
  try {
    ok = await crypto.subtle.verify(params, key, msg.signature, data);
  } catch (e) {
    ok = false; // a malformed signature (wrong length) is a bad one, as in the codec
  }
  if (!ok) throw new Rejected("bad_signature");
}

export async function inflate(bytes) {
  try {
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
    const out = new Uint8Array(await new Response(stream).arrayBuffer());
    if (out.length > 65536) throw new Error("too big");
    return out;
  } catch (e) {
    throw new Rejected("bad_compression", e.message);
  }
}

function claimsFrom(payload) {
  let cwt;
  try { cwt = decode(payload); } catch (e) { throw new Rejected("bad_claims", "payload"); }
  const bad = (why) => new Rejected("bad_claims", why);
  if (!(cwt instanceof Map)) throw bad("not a map");
  const [iss, exp, nbf, iat, cti, priv] = [1, 4, 5, 6, 7, CLAIM_PASS].map((k) => cwt.get(k));
  if (typeof iss !== "string") throw bad("iss");
  if (![exp, nbf, iat].every(Number.isInteger)) throw bad("times");
  if (!(cti instanceof Uint8Array) || cti.length !== 16) throw bad("cti");
  if (!(priv instanceof Map)) throw bad("pass claim");
  const holder = priv.get("n");
  const last4 = priv.get("i");
  const code = priv.get("p");
  const areas = priv.has("a") ? priv.get("a") : [];
  const sites = priv.has("s") ? priv.get("s") : [];
  const plate = priv.has("v") ? priv.get("v") : null;
  const companions = priv.has("c") ? priv.get("c") : 0;
  if (typeof holder !== "string" || typeof last4 !== "string") throw bad("holder");
  if (!Number.isInteger(code) || code < 1 || code > PURPOSES.length) throw bad("purpose");
  const texts = (v) => Array.isArray(v) && v.every((x) => typeof x === "string");
  if (!texts(areas) || !texts(sites)) throw bad("areas/sites");
  if (plate !== null && typeof plate !== "string") throw bad("plate");
  if (!Number.isInteger(companions) || companions < 0) throw bad("companions");
  const h = hex(cti);
  return {
    passId: `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`,
    holder, idLast4: last4, purpose: PURPOSES[code - 1], issuer: iss,
    validFrom: nbf, validUntil: exp, issuedAt: iat, areas, sites, plate, companions,
  };
}

/**
 * Verify a scanned pass offline. `trust` maps kid hex -> {key (CryptoKey), notAfter}.
 * `revoked` is a Set of pass ids; `now` is epoch seconds. Returns the claims or
 * throws Rejected with one codec reason, checked in the codec's order.
 */
export async function verifyPass(text, trust, revoked, now) {
  text = text.trim();
  let body;
  if (text.startsWith("PT1:")) body = text.slice(4);  // HC1 (EU DCC): conformance only
  else throw new Rejected("bad_prefix");
  let bytes;
  try { bytes = b45decode(body); } catch (e) { throw new Rejected("bad_base45", e.message); }
  if (bytes.length && bytes[0] === 0x78) bytes = await inflate(bytes);
  const msg = parseSign1(bytes);
  if (!verifiable(msg.alg)) throw new Rejected("unsupported_alg", "alg " + msg.alg);
  const entry = trust.get(hex(msg.kid));
  if (!entry) throw new Rejected("unknown_kid");
  await verifySign1(msg, entry.key);
  const claims = claimsFrom(msg.payload);
  if (entry.notAfter != null && (now > entry.notAfter || claims.issuedAt > entry.notAfter)) {
    throw new Rejected("key_retired");
  }
  // Minted after its key stopped signing: a leaked or misused key (as codec/pipeline.py).
  if (entry.retiredAt != null && claims.issuedAt > entry.retiredAt) {
    throw new Rejected("key_retired");
  }
  if (revoked.has(claims.passId)) throw new Rejected("revoked");
  if (now < claims.validFrom) throw new Rejected("not_yet_valid");
  if (now > claims.validUntil) throw new Rejected("expired");
  return claims;
}

function unb64url(text) {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const bin = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

export function unb64(text) {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

/** Verify a signed trust/revocation list (base64url COSE_Sign1) with its key (root or list key); return its map. */
export async function openSignedDoc(doc, rootKey, rootKid, typ) {
  const msg = parseSign1(unb64url(doc.trim()));
  if (hex(msg.kid) !== rootKid) throw new Rejected("unknown_kid", "not signed by the root key");
  await verifySign1(msg, rootKey);
  let body;
  try { body = decode(msg.payload); } catch (e) { throw new Rejected("bad_claims", "payload"); }
  if (!(body instanceof Map) || body.get("typ") !== typ) throw new Rejected("bad_claims", "typ");
  return body;
}
