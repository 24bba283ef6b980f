// The checkpoint page: read a pass (camera, wedge scanner) or an ID number,
// decide online (the server) or offline (this device, same rules), show the
// result, queue offline registrations and upload them when the network returns.

import { Rejected, verifyPass } from "./cose.js";
import { codecReason, decide } from "./decide.js";
import { checkId, normalizeId } from "./idnumber.js";
import * as queue from "./queue.js";
import { bindWedge, startCamera } from "./scanner.js";
import { levelNow, verifyStatus } from "./status.js";
import * as trustStore from "./trust.js";
import { uuid7 } from "./uuid7.js";

const config = JSON.parse(document.getElementById("checkpoint-config").textContent);
const site = config.site;
const T = config.text;
const $ = (id) => document.getElementById(id);
const BATCH = 500;
const KEY = "passtrace.checkpoint.";

let direction = config.direction;
let trust = { trust: new Map(), revoked: new Set(), statuses: new Map(), ready: false };
let current = null;  // the result on screen: {id, queued, online, uploadable}
let camera = null;
let tempEdited = false;
let syncing = null;
let busy = Promise.resolve();

function fmt(text, params) {
  return text.replace(/%\((\w+)\)s/g, (_, name) => String(params[name]));
}

function deviceKey() {
  let key = localStorage.getItem(KEY + "device");
  if (!key) {
    const raw = crypto.getRandomValues(new Uint8Array(8));
    key = "web-" + Array.from(raw, (b) => b.toString(16).padStart(2, "0")).join("");
    localStorage.setItem(KEY + "device", key);
  }
  return key;
}

function jsonHeaders() {
  return { "Content-Type": "application/json", "X-CSRF-Token": config.csrf };
}

function errorMessage(data, resp) {
  return (data && data.error && data.error.message) || String(resp.status);
}

async function post(url, body) {
  return fetch(url, {
    method: "POST", credentials: "same-origin", headers: jsonHeaders(), body: JSON.stringify(body),
  });
}

// --- "already inside": this device's own record, per pass id, per site ---------------------

function insideMap() {
  try { return JSON.parse(localStorage.getItem(KEY + "inside." + site.code)) || {}; } catch (e) { return {}; }
}

function noteMovement(passId, dir, decision) {
  if (!passId || decision !== "allow" || (dir !== "in" && dir !== "out")) return;
  const map = insideMap();
  if (dir === "in") map[passId] = 1; else delete map[passId];
  localStorage.setItem(KEY + "inside." + site.code, JSON.stringify(map));
}

// --- status line ---------------------------------------------------------------------------

async function showStatus() {
  const online = navigator.onLine;
  const badge = $("net-state");
  badge.textContent = online ? T.online : T.offline;
  badge.className = "badge " + (online ? "online" : "offline");
  $("queue-length").textContent = String(await queue.count());
  const refused = await queue.count("refused");
  $("refused").hidden = refused === 0;
  $("refused").textContent = fmt(T.refused, { num: refused });
  const last = localStorage.getItem(KEY + "lastSync");
  $("last-sync").textContent = last ? new Date(Number(last)).toLocaleString() : T.never;
  $("trust-warning").hidden = trust.ready;
  $("trust-warning").textContent = T.trust_missing;
}

// --- result screen -------------------------------------------------------------------------

function showResult(r) {
  const box = $("result");
  box.hidden = false;
  box.className = "cp-result " + ({ allow: "allow", check: "check" }[r.decision] || "deny");
  box.dataset.decision = r.decision;
  box.dataset.source = r.source;
  $("verdict").textContent = { allow: T.allow, deny: T.deny, check: T.check }[r.decision] || "";
  const messages = r.reasons.map((x) => x.message);
  $("first-reason").textContent = messages[0] || "";
  $("result-direction").textContent = { in: T.went_in, out: T.went_out,
    through: T.went_through }[r.direction] || "";
  const more = $("more-reasons");
  more.replaceChildren(...messages.slice(1).map((m) => {
    const li = document.createElement("li");
    li.textContent = m;
    return li;
  }));
  // At a community gate: who this is to the compound, then the compound's rules.
  const notes = r.notes || [];
  $("result-notes").hidden = notes.length === 0;
  $("result-notes").replaceChildren(...notes.map((text) => {
    const li = document.createElement("li");
    li.textContent = text;
    return li;
  }));
  $("result-holder").textContent = r.holder || "";
  $("result-last4").textContent = r.idLast4 || "—";
  $("result-temp").textContent = r.temperature != null ? r.temperature.toFixed(1) + " °C" : "";
  $("result-note").textContent = r.note || "";
  showPass(r.pass || null);
  $("override-button").hidden = !(r.decision !== "allow" && r.decision !== "error"
    && r.overridable);
  $("override-form").hidden = true;
  box.scrollIntoView({ block: "start" });
}

// What the guard compares with the person and the vehicle: the pass's plate,
// companions, validity window and areas (named in the reader's language).
function areaName(code) {
  if (config.area_names[code]) return config.area_names[code];
  if (site.community_code && code === site.community_code) return site.name;
  return T.area_elsewhere;
}

function localTime(epochSeconds) {
  return new Date(epochSeconds * 1000).toLocaleString(document.documentElement.lang || undefined,
    { timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
}

function showPass(claims) {
  const box = $("result-pass");
  box.hidden = !claims;
  if (!claims) return;
  $("pass-plate").textContent = claims.plate || T.no_plate;
  $("pass-companions").textContent = String(claims.companions || 0);
  $("pass-valid").textContent = `${localTime(claims.validFrom)} – ${localTime(claims.validUntil)}`;
  const names = claims.sites.length ? [site.name] : claims.areas.map(areaName);
  const separator = (document.documentElement.lang || "").startsWith("zh") ? "、" : ", ";
  $("pass-areas").textContent = [...new Set(names)].join(separator);
}

/** The claims of a scanned pass when it verifies on this device, for display only. */
async function readClaims(token, when) {
  if (!token || !trust.ready) return null;
  try {
    return await verifyPass(token, trust.trust, trust.revoked, Math.floor(when / 1000));
  } catch (e) {
    return null;
  }
}

function reasonsFromCodes(codes) {
  return codes.map((code) => ({ code, message: config.reasons[code] || code }));
}

function clearResult() {
  $("result").hidden = true;
  current = null;
  $("wedge").focus();
}

// --- checking one person -------------------------------------------------------------------

function readTemperature() {
  const raw = $("temperature").value.trim().replace(",", ".");
  if (!raw) return { value: null };
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 30 || value > 45) return { error: T.temp_invalid };
  return { value: Math.round(value * 10) / 10 };
}

async function checkOnline(reg) {
  const resp = await post("/api/v1/registrations", reg);
  if (resp.status >= 500) throw new Error("server error " + resp.status);
  const data = await resp.json().catch(() => ({}));
  if (!resp.ok) {
    return { error: fmt(T.request_failed, { message: errorMessage(data, resp) }) };
  }
  noteMovement(data.pass_id, data.direction, data.decision);
  return {
    id: data.id, decision: data.decision, reasons: data.reasons, holder: data.holder,
    idLast4: data.id_last4, temperature: data.temperature, source: "server",
    direction: data.direction,
    notes: data.notes || [],
    note: data.overridden ? fmt(T.override_saved, { reason: data.override_reason }) : "",
    overridable: true, online: true,
  };
}

async function checkOffline(reg) {
  const now = new Date(reg.occurred_at);
  let claims = null;
  let passRejected = null;
  if (reg.token) {
    try {
      claims = await verifyPass(reg.token, trust.trust, trust.revoked, Math.floor(now / 1000));
    } catch (e) {
      passRejected = e instanceof Rejected ? codecReason(e.reason) : "not_a_pass";
    }
  }
  if (reg.direction === "auto") {
    // This device's own record of who went in: out if inside, otherwise in.
    reg.direction = claims && insideMap()[claims.passId] ? "out" : "in";
  }
  const outcome = decide({
    site, now, direction: reg.direction, temperature: reg.temperature, pass: claims,
    passRejected, inside: Boolean(claims && insideMap()[claims.passId]),
    personStatus: claims ? trust.statuses.get(claims.passId) || null : null,
  });
  const row = {
    id: reg.id, site: site.code, lane: reg.lane, occurred_at: reg.occurred_at,
    direction: reg.direction, method: reg.method, temperature: reg.temperature,
    decision: outcome.decision, reasons: outcome.reasons,
  };
  if (claims) Object.assign(row, { pass_id: claims.passId, holder: claims.holder, id_last4: claims.idLast4 });
  // The pass text goes up with the row: the server verifies its signature again and
  // judges the pass as it knows it (revoked since the last trust-list download?).
  if (reg.token && reg.token.length <= 2000) row.token = reg.token;
  if (reg.id_number) Object.assign(row, { id_number: reg.id_number, id_last4: reg.id_number.slice(-4) });
  // A denial is always recorded (a forged pass is evidence of misuse); an allowed
  // check must be tied to a pass or an ID number.
  const identified = Boolean(row.pass_id || row.id_number);
  const uploadable = identified || outcome.decision === "deny";
  if (uploadable) await queue.put(row);
  if (claims) noteMovement(claims.passId, reg.direction, outcome.decision);
  if (!claims && !passRejected && reg.id_number) {
    // Offline a typed ID number cannot be looked up: "no such person" would be wrong for
    // a real pass holder. The guard checks the pass or the ID card by eye; the row is
    // queued and the server, which knows the person, judges it at upload.
    const onlyLookup = outcome.reasons.every((code) => code === "unknown_person");
    return {
      id: reg.id, decision: onlyLookup ? "check" : outcome.decision,
      reasons: onlyLookup ? [{ code: "offline_id", message: T.offline_id_check }]
        : reasonsFromCodes(outcome.reasons.filter((code) => code !== "unknown_person")),
      holder: "", idLast4: row.id_last4, temperature: reg.temperature,
      direction: reg.direction, source: "device", note: T.offline_id_queued, overridable: true, online: false,
    };
  }
  return {
    id: reg.id, decision: outcome.decision, reasons: reasonsFromCodes(outcome.reasons),
    holder: row.holder || "", idLast4: row.id_last4 || "", temperature: reg.temperature,
    direction: reg.direction, source: "device", note: uploadable ? T.decided_offline : T.not_uploadable,
    overridable: identified, online: false,
  };
}

async function check(input) {
  const temp = readTemperature();
  if (temp.error) {
    $("temperature-hint").textContent = temp.error;
    $("temperature").focus();
    return;
  }
  const reg = {
    id: uuid7(), site: site.code, lane: config.lane, device_key: deviceKey(),
    occurred_at: new Date().toISOString(), direction, temperature: temp.value, ...input,
  };
  let result = null;
  if (navigator.onLine) {
    try {
      // Keep the server's order: what waited in the queue happened first.
      if (await queue.count() > 0) await sync();
      if (await queue.count() === 0) {
        result = await checkOnline({ ...reg, sent_at: new Date().toISOString() });
      }
    } catch (e) {
      result = null;  // the network failed: decide here
    }
  }
  if (!result) result = await checkOffline(reg);
  if (!result.error && reg.token) result.pass = await readClaims(reg.token, new Date(reg.occurred_at));
  if (result.error) {
    showResult({ decision: "error", reasons: [], source: "server", note: result.error });
    return;
  }
  current = result;
  showResult(result);
  // A direction chosen by hand was an exception for this person: the next one is
  // judged by their state again.
  if (config.direction === "auto") setDirection("auto");
  $("temperature").value = "";
  $("temperature-hint").textContent = "";
  tempEdited = false;
  await showStatus();
}

function enqueueCheck(input) {
  if (input.token && isStatusCode(input.token)) {
    busy = busy.then(() => checkStatusCode(input.token.trim())).catch((e) => console.error(e));
    return busy;
  }
  $("status-result").hidden = true;
  // One check at a time, in the order they were read.
  busy = busy.then(() => check(input)).catch((e) => console.error(e));
  return busy;
}

async function override(reason) {
  if (!current) return;
  const row = current.online ? null : await queue.get(current.id);
  if (row) {
    row.decision = "allow";
    row.override_reason = reason;
    await queue.put(row);
    noteMovement(row.pass_id, row.direction, "allow");
    current = { ...current, decision: "allow", note: fmt(T.override_saved, { reason }), overridable: false };
    showResult(current);
    return;
  }
  try {
    const resp = await post(`/api/v1/registrations/${current.id}/override`, { reason });
    const data = await resp.json().catch(() => ({}));
    if (!resp.ok) {
      $("result-note").textContent = fmt(T.request_failed, { message: errorMessage(data, resp) });
      return;
    }
    noteMovement(data.pass_id, data.direction, data.decision);
    current = { ...current, decision: data.decision, reasons: data.reasons,
      note: fmt(T.override_saved, { reason: data.override_reason }), overridable: false };
    showResult(current);
  } catch (e) {
    $("result-note").textContent = T.override_needs_network;
  }
}

// --- a health-status code ------------------------------------------------------------------

const STATUS_REFUSALS = {
  expired: "status_expired", bad_signature: "status_forged", unknown_kid: "status_unknown_key",
  key_retired: "status_unknown_key", unsupported_alg: "status_unknown_key",
};

function showStatusCode(r) {
  $("result").hidden = true;
  const box = $("status-result");
  box.hidden = false;
  box.className = "cp-result " + (r.level === "green" ? "allow" : r.level === "yellow" ? "check" : "deny");
  box.dataset.level = r.level;
  box.dataset.source = r.source;
  $("status-level").textContent = r.level === "refused" ? T.deny : T["level_" + r.level];
  $("status-message").textContent = r.message || "";
  $("status-details").hidden = r.level === "refused";
  $("status-holder").textContent = r.holder || "";
  $("status-last4").textContent = r.idLast4 || "";
  $("status-updated").textContent = r.updatedAt ? localTime(r.updatedAt) : "";
  $("status-until").textContent = r.validUntil ? localTime(r.validUntil) : "";
  $("status-note").textContent = r.source === "device" && r.level !== "refused" ? T.status_checked_here : "";
  box.scrollIntoView({ block: "start" });
}

async function statusOnline(text) {
  const resp = await post("/api/v1/health/status-code/check", { code: text });
  if (resp.status >= 500) throw new Error("server error " + resp.status);
  const data = await resp.json().catch(() => ({}));
  if (resp.status === 422) return { level: "refused", source: "server", message: errorMessage(data, resp) };
  if (!resp.ok) throw new Error("HTTP " + resp.status);  // not allowed online: decide here
  const epoch = (iso) => Math.floor(Date.parse(iso) / 1000);
  return {
    level: data.level, source: "server", holder: data.holder, idLast4: data.id_last4,
    updatedAt: epoch(data.updated_at), validUntil: epoch(data.valid_until),
    message: data.changed_since ? T.status_changed : "",
  };
}

async function statusOffline(text) {
  try {
    const claims = await verifyStatus(text, trust.trust, Math.floor(Date.now() / 1000));
    const level = levelNow(claims, trust.people, trust.peopleVersion);
    return {
      level, source: "device", holder: claims.holder, idLast4: claims.idLast4,
      updatedAt: claims.updatedAt, validUntil: claims.expiresAt,
      message: level !== claims.level ? T.status_changed : "",
    };
  } catch (e) {
    const key = e instanceof Rejected ? STATUS_REFUSALS[e.reason] : null;
    return { level: "refused", source: "device", message: T[key || "status_not_code"] };
  }
}

/** A status code is shown, not registered: it is the person's colour, not a pass. */
async function checkStatusCode(text) {
  let result = null;
  if (navigator.onLine) {
    try { result = await statusOnline(text); } catch (e) { result = null; }
  }
  showStatusCode(result || await statusOffline(text));
}

function isStatusCode(text) {
  return text.trim().toUpperCase().startsWith("ST1:");
}

// --- sync ----------------------------------------------------------------------------------

async function syncOnce() {
  for (;;) {
    const rows = await queue.oldest(site.code, BATCH);
    if (!rows.length) break;
    const pending = await queue.count();
    const resp = await post("/api/v1/registrations/batch", {
      site: site.code, device_key: deviceKey(), sent_at: new Date().toISOString(),
      pending, registrations: rows.map(({ site: _s, ...row }) => row),
    });
    if (!resp.ok) throw new Error("batch refused: HTTP " + resp.status);
    const data = await resp.json();
    const byId = new Map(rows.map((r) => [r.id, r]));
    const ack = [];
    const refused = [];
    for (const res of data.results) {
      if (res.status === "stored" || res.status === "duplicate") ack.push(res.id);
      else if (byId.has(res.id)) refused.push({ row: byId.get(res.id), error: res.error });
    }
    await queue.settle(ack, refused);
    localStorage.setItem(KEY + "lastSync", String(Date.now()));
    if (!ack.length && !refused.length) break;  // nothing moved: do not spin
  }
}

let retryMs = 1000;

function sync() {
  if (!syncing) {
    syncing = syncOnce().then(() => { retryMs = 1000; }, (e) => {
      // A failed upload is retried soon, backing off up to 30 s; the rows stay queued.
      if (navigator.onLine) setTimeout(() => sync().catch(() => {}), retryMs);
      retryMs = Math.min(retryMs * 2, 30000);
      throw e;
    }).finally(() => { syncing = null; showStatus(); });
  }
  return syncing;
}

async function heartbeat() {
  if (!navigator.onLine) return;
  try {
    await post("/api/v1/checkpoint/heartbeat", {
      site: site.code, device_key: deviceKey(), pending: await queue.count(),
    });
  } catch (e) { /* offline after all */ }
}

async function refreshTrust() {
  try {
    trust = await trustStore.refresh();
  } catch (e) {
    try { trust = await trustStore.load(); } catch (e2) { /* nothing kept yet */ }
  }
  showStatus();
}

async function pollTemperature() {
  if (!navigator.onLine || tempEdited || !$("result").hidden) return;
  try {
    const resp = await fetch(`/api/v1/sites/${encodeURIComponent(site.code)}/lanes/`
      + `${encodeURIComponent(config.lane)}/reading`, { credentials: "same-origin" });
    if (!resp.ok) return;
    const reading = await resp.json();
    if (reading.temperature != null && !tempEdited) {
      $("temperature").value = reading.temperature.toFixed(1);
      $("temperature-hint").textContent = fmt(T.temp_from_scanner, { age: reading.age_seconds });
    }
  } catch (e) { /* offline */ }
}

// --- wiring --------------------------------------------------------------------------------

function setDirection(value) {
  direction = value;
  document.querySelectorAll("[data-direction]").forEach((b) => {
    b.setAttribute("aria-pressed", String(b.dataset.direction === value));
  });
}

function wire() {
  document.querySelectorAll("[data-direction]").forEach((b) => {
    b.addEventListener("click", () => setDirection(b.dataset.direction));
  });
  setDirection(direction);
  $("temperature").addEventListener("input", () => {
    tempEdited = true;
    $("temperature-hint").textContent = "";
  });
  bindWedge($("wedge"), (text) => {
    const id = normalizeId(text);
    if (!text.includes(":") && id.length === 18) enqueueCheck({ method: "wedge", id_number: id });
    else enqueueCheck({ method: "wedge", token: text });
  });
  $("id-number").addEventListener("input", () => {
    const value = $("id-number").value;
    const problem = normalizeId(value) ? checkId(value) : null;
    const fb = $("id-feedback");
    fb.textContent = problem ? T[problem] : (normalizeId(value) ? T.id_ok : "");
    fb.className = problem ? "field-error" : "muted";
    fb.dataset.valid = String(!problem && Boolean(normalizeId(value)));
  });
  $("id-x").addEventListener("click", () => {
    const field = $("id-number");
    field.value = (field.value + "X").slice(0, 20);
    field.dispatchEvent(new Event("input"));
    field.focus();
  });
  $("id-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const value = $("id-number").value;
    const problem = checkId(value);
    if (problem) { $("id-feedback").textContent = T[problem]; return; }
    $("id-number").value = "";
    $("id-feedback").textContent = "";
    enqueueCheck({ method: "id_typed", id_number: normalizeId(value) });
  });
  $("camera-button").addEventListener("click", async () => {
    try {
      camera = await startCamera($("camera"), (text) => enqueueCheck({ method: "qr", token: text }));
      $("camera-button").hidden = true;
      $("camera-stop").hidden = false;
      $("camera-hint").textContent = T.camera_on;
    } catch (e) {
      $("camera-hint").textContent = T.camera_error;
    }
  });
  $("camera-stop").addEventListener("click", () => {
    if (camera) camera.stop();
    camera = null;
    $("camera-button").hidden = false;
    $("camera-stop").hidden = true;
    $("camera-hint").textContent = "";
  });
  $("next-button").addEventListener("click", clearResult);
  $("status-next").addEventListener("click", () => {
    $("status-result").hidden = true;
    $("wedge").focus();
  });
  $("override-button").addEventListener("click", () => {
    $("override-form").hidden = false;
    $("override-reason").focus();
  });
  $("override-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const reason = $("override-reason").value.trim();
    if (reason.length < 2) return;
    $("override-reason").value = "";
    override(reason);
  });
  window.addEventListener("online", () => { showStatus(); sync().catch(() => {}); refreshTrust(); });
  window.addEventListener("offline", showStatus);
}

async function main() {
  wire();
  try { trust = await trustStore.load(); } catch (e) { /* first visit */ }
  await showStatus();
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/checkpoint/sw.js", { scope: "/checkpoint" })
      .catch(() => {});
  }
  document.body.dataset.checkpointReady = "true";
  if (navigator.onLine) {
    await refreshTrust();
    sync().catch(() => {});
    heartbeat();
  }
  setInterval(() => { if (navigator.onLine) sync().catch(() => {}); }, 20000);
  setInterval(heartbeat, 60000);
  setInterval(() => { if (navigator.onLine) refreshTrust(); }, 10 * 60000);
  setInterval(pollTemperature, 5000);
  pollTemperature();
}

main();
