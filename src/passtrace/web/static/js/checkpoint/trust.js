// The offline trust material: root key, root-verified trust list and revocation set
// (checked with the revocation-list key the trust list names).
// Fetched when online, kept in localStorage, re-verified with the root key on every load.

import { hex, importEs256, importKey, openSignedDoc, unb64, verifiable } from "./cose.js";

const STORE = "passtrace.checkpoint.trust";

function saved() {
  try { return JSON.parse(localStorage.getItem(STORE)) || {}; } catch (e) { return {}; }
}

function save(state) {
  localStorage.setItem(STORE, JSON.stringify(state));
}

async function getJson(url) {
  const resp = await fetch(url, { credentials: "same-origin", cache: "no-store" });
  if (!resp.ok) throw new Error(url + ": HTTP " + resp.status);
  return resp.json();
}

function passIdText(bytes) {
  const h = hex(bytes);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * Fetch the root key (once; the page itself comes from the same server, so it is
 * as trustworthy as the page), the newest trust list and the revocations since
 * the version we hold. Throws when offline; what was kept stays usable.
 */
export async function refresh() {
  const state = saved();
  if (!state.root) state.root = await getJson("/api/v1/passes/trust-root");
  const rootKey = await importEs256(unb64(state.root.public_key_der_b64));
  const list = await getJson("/api/v1/passes/trust-list");
  // Refuse a bad list. The root signs it offline; it names the key the server signs
  // revocation lists with ("rl"), so a revocation reaches us without the root.
  const listBody = await openSignedDoc(list.signed, rootKey, state.root.kid, "PT-TL");
  state.trustList = list.signed;
  const rlEntry = listBody.get("rl");
  const rlKey = rlEntry ? await importEs256(rlEntry.get("key")) : rootKey;
  const rlKid = rlEntry ? hex(rlEntry.get("kid")) : state.root.kid;
  const revoked = state.revoked || {};
  let version = state.revVersion || 0;
  let rl = await getJson("/api/v1/passes/revocations?since=" + version);
  let body = await openSignedDoc(rl.signed, rlKey, rlKid, "PT-RL");
  if (body.get("since") > version) {  // a gap: start again from the full list
    version = 0;
    rl = await getJson("/api/v1/passes/revocations?since=0");
    body = await openSignedDoc(rl.signed, rlKey, rlKid, "PT-RL");
  }
  const fresh = body.get("since") === 0 ? {} : revoked;
  for (const [id, expires] of body.get("ids")) fresh[passIdText(id)] = expires;
  const now = Math.floor(Date.now() / 1000);
  for (const [id, expires] of Object.entries(fresh)) if (expires < now) delete fresh[id];
  state.revoked = fresh;
  state.revVersion = Math.max(version, body.get("v"));
  await refreshStatuses(state, rlKey, rlKid);
  state.fetchedAt = Date.now();
  save(state);
  return load();
}

const LEVELS = { 2: "yellow", 3: "red" };

/**
 * The signed status list: the passes of people whose health status is not green
 * (docs/security.md, "Health status offline"). Complete each time, signed with the
 * revocation-list key; an older list never replaces a newer one. A device whose login
 * may not read it (or that is offline) keeps what it had.
 */
async function refreshStatuses(state, rlKey, rlKid) {
  let doc;
  try {
    doc = await getJson("/api/v1/health/status-list");
  } catch (e) {
    return;
  }
  const body = await openSignedDoc(doc.signed, rlKey, rlKid, "PT-SL");
  if (body.get("v") < (state.statusVersion || 0)) return;
  const statuses = {};
  for (const [id, level] of body.get("s")) {
    if (LEVELS[level]) statuses[passIdText(id)] = LEVELS[level];
  }
  state.statuses = statuses;
  state.statusVersion = body.get("v");
  // The people who are not green, by the status reference their status codes carry
  // (status.js). Kept only from a list that has them: absent there means green.
  if (body.has("p")) {
    const people = {};
    for (const [ref, level] of body.get("p")) if (LEVELS[level]) people[hex(ref)] = LEVELS[level];
    state.people = people;
    state.peopleVersion = body.get("v");
  }
}

/** Build the verifier's view from what is kept: {trust: Map kid->{key, notAfter}, revoked: Set,
 *  statuses: Map pass id->level, people: Map status reference->level, peopleVersion}. */
export async function load() {
  const state = saved();
  const trust = new Map();
  if (state.root && state.trustList) {
    const rootKey = await importEs256(unb64(state.root.public_key_der_b64));
    const body = await openSignedDoc(state.trustList, rootKey, state.root.kid, "PT-TL");
    for (const entry of body.get("keys")) {
      // WebCrypto verifies ES256/384/512, EdDSA (Ed25519) and PS256: every alg we sign with.
      if (!verifiable(entry.get("alg"))) continue;
      trust.set(hex(entry.get("kid")), {
        key: await importKey(entry.get("key"), entry.get("alg")),
        notAfter: entry.has("na") ? entry.get("na") : null,
        retiredAt: entry.has("ra") ? entry.get("ra") : null,
      });
    }
  }
  return {
    trust, revoked: new Set(Object.keys(state.revoked || {})),
    statuses: new Map(Object.entries(state.statuses || {})),
    people: new Map(Object.entries(state.people || {})), peopleVersion: state.peopleVersion || 0,
    fetchedAt: state.fetchedAt || null, ready: trust.size > 0,
  };
}
