// A person's health-status code ("ST1:", codec/status.py) read at the checkpoint, offline:
// the same pipeline as a pass (Base45 -> inflate when compressed -> COSE_Sign1 signed with
// a pass key of the trust list -> CWT), with the status claim instead of the pass claim.
// What the code says is the level when it was issued; the synced status list, when it is
// newer than the code, says the level since (a person turned red after the code was
// issued is shown red). health/codecheck.py does the same on the server.

import { b45decode } from "./base45.js";
import { decode } from "./cbor.js";
import { hex, inflate, parseSign1, Rejected, verifiable, verifySign1 } from "./cose.js";

const CLAIM_STATUS = -65538;
const LEVELS = { 1: "green", 2: "yellow", 3: "red" };

function claimsFrom(payload) {
  let cwt;
  try { cwt = decode(payload); } catch (e) { throw new Rejected("bad_claims", "payload"); }
  const bad = (why) => new Rejected("bad_claims", why);
  if (!(cwt instanceof Map)) throw bad("not a map");
  const [iss, exp, iat, cti, priv] = [1, 4, 6, 7, CLAIM_STATUS].map((k) => cwt.get(k));
  if (typeof iss !== "string" || ![exp, iat].every(Number.isInteger)) throw bad("iss/times");
  if (!(cti instanceof Uint8Array) || cti.length !== 16) throw bad("cti");
  if (!(priv instanceof Map)) throw bad("status claim");
  const level = LEVELS[priv.get("s")];
  const [holder, last4, updated] = [priv.get("n"), priv.get("i"), priv.get("u")];
  const ref = priv.has("r") ? priv.get("r") : new Uint8Array(0);
  if (!level || typeof holder !== "string" || typeof last4 !== "string") throw bad("status");
  if (!Number.isInteger(updated)) throw bad("updated");
  if (!(ref instanceof Uint8Array) || (ref.length !== 0 && ref.length !== 16)) throw bad("ref");
  return { level, holder, idLast4: last4, updatedAt: updated, issuedAt: iat, expiresAt: exp,
    ref: hex(ref) };
}

/**
 * Verify a status code offline. `trust` maps kid hex -> {key, notAfter, retiredAt} (the
 * pass keys, trust.js); `now` is epoch seconds. Returns the claims or throws Rejected.
 */
export async function verifyStatus(text, trust, now) {
  text = text.trim();
  if (!text.startsWith("ST1:")) throw new Rejected("bad_prefix");
  let bytes;
  try { bytes = b45decode(text.slice(4)); } catch (e) { throw new Rejected("bad_base45", e.message); }
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
  if (entry.retiredAt != null && claims.issuedAt > entry.retiredAt) throw new Rejected("key_retired");
  if (now > claims.expiresAt) throw new Rejected("expired");
  return claims;
}

/**
 * The holder's level as this device knows it: the status list is complete as of its
 * version (milliseconds), so when it was made after the code was issued it wins, and a
 * holder it does not name is green. An older list, or a code without a reference, leaves
 * what the code says.
 */
export function levelNow(claims, people, peopleVersion) {
  if (!claims.ref || !peopleVersion || peopleVersion / 1000 <= claims.issuedAt) {
    return claims.level;
  }
  return people.get(claims.ref) || "green";
}
