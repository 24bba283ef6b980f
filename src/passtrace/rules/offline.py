"""Judging a device's offline decision again at upload: disagreements and masks.

The server recomputes each uploaded row's decision with `rules.decide.decide` from
the facts it knows; this module compares that with what the device decided and names
the disagreement with a stable alert kind, the code the early-warning platform reads
(see docs/checkpoint.md, "Offline rows judged again").
"""

from __future__ import annotations

import re

from passtrace.core.i18n import N_

# Alert kind -> what an official is told. The codes are stable: other systems key on them.
ALERT_KINDS: dict[str, str] = {
    "offline_allowed_denied": N_("Let through offline, but the rules deny it."),
    "offline_denied_allowed": N_("Refused offline, but the rules allow it."),
}

# The only reason a device gives for a typed ID number it cannot look up offline: the
# server's verdict on such a row is the plan, not a disagreement.
OFFLINE_LOOKUP = "unknown_person"

# A masked name as core.pii.mask_name makes it: one character, then only asterisks.
_MASK = re.compile(r"^\S\*+$")


def is_masked_name(text: str) -> bool:
    """Tell whether a holder text is a mask (张*, 欧**) or empty, never a clear name."""
    return not text or bool(_MASK.match(text))


def server_verdict(*, reasons: list[str], device_reasons: list[str],
                   overridden: bool) -> str:
    """The stored decision: the rules' outcome, with a guard's override where it stands.

    A guard who overrode a denial offline saw the device's reasons: the override stands
    when the server finds nothing the guard did not see (as an online override, the
    reasons are kept beside "allow"); anything more, and the rules' denial stands.
    """
    if not reasons:
        return "allow"
    if overridden and set(reasons) <= set(device_reasons):
        return "allow"
    return "deny"


def disagreement(*, device_decision: str, device_reasons: list[str],
                 decision: str) -> str | None:
    """Return the alert kind when the device's decision and the server's differ, else None."""
    if device_decision == decision:
        return None
    if device_decision == "allow":
        return "offline_allowed_denied"
    if set(device_reasons) <= {OFFLINE_LOOKUP}:
        return None  # a typed ID number queued for the server to decide
    return "offline_denied_allowed"
