"""Reason codes a checkpoint decision can give, most serious first.

The checkpoint page's offline verifier (web/static/js/checkpoint/decide.js) uses
the same codes in the same order; tests/web/test_decide_parity.py compares them.
"""

from __future__ import annotations

from passtrace.core.i18n import N_

# Reason code -> one-line message for the result screen. Order = severity.
REASONS: dict[str, str] = {
    "not_a_pass": N_("This is not a pass issued by this platform."),
    "bad_signature": N_("The pass is forged or damaged: its signature does not verify."),
    "unknown_key": N_("The pass was signed by a key this checkpoint does not trust."),
    "revoked": N_("The pass has been revoked."),
    "not_approved": N_("The pass has not been approved."),
    "expired": N_("The pass has expired."),
    "not_yet_valid": N_("The pass is not valid yet."),
    "unknown_person": N_("Unknown person with no pass."),
    "no_valid_pass": N_("This person has no valid pass."),
    "site_not_allowed": N_("The pass is not valid at this site."),
    "area_not_allowed": N_("The pass is not valid in this area."),
    "not_resident": N_("Not a resident of this compound and no visitor pass for it."),
    "visit_used": N_("This one-time visitor pass has been used."),
    "status_red": N_("Health status red: do not let through; report to the duty officer."),
    "status_yellow": N_("Health status yellow: do not let through."),
    "fever": N_("Temperature at or above the fever threshold: re-check and report."),
    "already_inside": N_("This pass is already inside: it entered and has not left."),
    "site_closed": N_("The site is closed at this hour."),
    "curfew": N_("Curfew: residents may not go out at this hour."),
    "household_out_limit": N_("Too many members of this household are out already."),
    "outing_quota": N_("This household has used up its outings for now."),
}
SEVERITY = {code: i for i, code in enumerate(REASONS)}

# Codec rejection reasons (codec.errors.REASONS) -> what the guard is told.
CODEC_REASONS = {
    "bad_signature": "bad_signature",
    "unknown_kid": "unknown_key",
    "key_retired": "unknown_key",
    "unsupported_alg": "unknown_key",
    "revoked": "revoked",
    "expired": "expired",
    "not_yet_valid": "not_yet_valid",
}
