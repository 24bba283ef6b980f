// The checkpoint decision, offline: the same rules and reason codes as
// passtrace/rules/decide.py (keep the two in step).
//
// Offline the device cannot know whether the server has the pass as approved: a
// pass that verifies and is not on the (cached) revocation list counts as approved.
// The holder's health status comes from the signed status list synced with the
// trust material (trust.js): a pass on it is denied as red or yellow, like online.
// "Already inside" is tracked locally, per pass id, from this device's records.

// Order = severity, as REASONS in decide.py.
export const SEVERITY = [
  "not_a_pass", "bad_signature", "unknown_key", "revoked", "not_approved", "expired",
  "not_yet_valid", "unknown_person", "no_valid_pass", "site_not_allowed", "area_not_allowed",
  "not_resident", "visit_used", "status_red", "status_yellow", "fever", "already_inside",
  "site_closed", "curfew", "household_out_limit", "outing_quota",
];

// Codec rejection reasons -> what the guard is told (CODEC_REASONS in decide.py).
const CODEC_REASONS = {
  bad_signature: "bad_signature", unknown_kid: "unknown_key", key_retired: "unknown_key",
  unsupported_alg: "unknown_key", revoked: "revoked", expired: "expired",
  not_yet_valid: "not_yet_valid",
};

export function codecReason(reason) {
  return CODEC_REASONS[reason] || "not_a_pass";
}

/** Strip trailing zero pairs of a 6-digit division code: 520100 -> 5201 (core/areacodes.py). */
export function significantPrefix(code) {
  if (code.length !== 6) return code;
  let s = code;
  while (s.length > 2 && s.endsWith("00")) s = s.slice(0, -2);
  return s;
}

export function contains(ancestor, code) {
  return code.startsWith(significantPrefix(ancestor));
}

/** Named sites narrow a pass; otherwise one of its areas must contain the site's area.
 *  A household or visitor pass names its compound's code: good at each of its gates. */
export function passCoversSite(pass, site) {
  if (site.community_code && pass.areas.includes(site.community_code)) return null;
  if (pass.sites.length) return pass.sites.includes(site.code) ? null : "site_not_allowed";
  return pass.areas.some((a) => contains(a, site.area_code)) ? null : "area_not_allowed";
}

function minutes(hhmm) {
  const [h, m] = hhmm.split(":").map(Number);
  return h * 60 + m;
}

/** Is the site open at `now` (a Date), local time Asia/Shanghai; no hours = always open. */
export function openAt(hours, now) {
  if (!hours || !hours.length) return true;
  const parts = new Intl.DateTimeFormat("en-GB", {
    timeZone: "Asia/Shanghai", hour: "2-digit", minute: "2-digit", second: "2-digit",
    hourCycle: "h23",
  }).formatToParts(now);
  const get = (t) => Number(parts.find((p) => p.type === t).value);
  const local = get("hour") * 60 + get("minute") + get("second") / 60;
  return hours.some((range) => {
    const [start, end] = range.split("-");
    const lo = minutes(start);
    const hi = end === "24:00" ? 24 * 60 : minutes(end);
    return lo <= local && local < hi;
  });
}

const round1 = (x) => Math.round(x * 10) / 10;

/**
 * facts: {site: {code, area_code, fever_threshold, opening_hours}, now: Date,
 *   direction, temperature (number|null), pass: claims|null, passRejected: code|null,
 *   inside: bool, personStatus: "red"|"yellow"|null (the status list's)}. Returns {decision, reasons} with reasons most serious first.
 */
export function decide(facts) {
  const reasons = [];
  const nowS = facts.now.getTime() / 1000;
  if (facts.passRejected) {
    reasons.push(facts.passRejected);
  } else if (facts.pass) {
    const p = facts.pass;
    if (nowS >= p.validUntil) reasons.push("expired");
    else if (nowS < p.validFrom) reasons.push("not_yet_valid");
    const where = passCoversSite(p, facts.site);
    if (where) reasons.push(where);
  } else {
    // A typed ID number: offline the device cannot look the person up.
    reasons.push("unknown_person");
  }
  if (facts.personStatus === "red") reasons.push("status_red");
  else if (facts.personStatus === "yellow") reasons.push("status_yellow");
  if (facts.temperature != null && round1(facts.temperature) >= round1(facts.site.fever_threshold)) {
    reasons.push("fever");
  }
  if (facts.direction === "in" && facts.inside) reasons.push("already_inside");
  if (!openAt(facts.site.opening_hours, facts.now)) reasons.push("site_closed");
  const unique = [...new Set(reasons)].sort((a, b) => SEVERITY.indexOf(a) - SEVERITY.indexOf(b));
  return { decision: unique.length ? "deny" : "allow", reasons: unique };
}
