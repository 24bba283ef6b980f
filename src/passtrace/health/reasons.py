"""Why a flag was raised, in plain words: one translated explanation per reason key.

Rules (the warnings package) raise flags with these keys; a rule with a reason of its
own registers it with `register` (at import), so the person is never shown a code.
"""

from __future__ import annotations

from passtrace.core.i18n import N_, gettext

_EXPLANATIONS: dict[str, str] = {
    "fever_checkpoint": N_("A temperature at or above the fever threshold was measured "
                           "at a checkpoint or gate."),
    "fever_report": N_("Your daily report gave a fever."),
    "symptoms_report": N_("Your daily report gave symptoms."),
    "risk_area_visit": N_("You were in a risk area recently."),
    "close_contact": N_("You were in close contact with a case."),
    "secondary_contact": N_("You were in contact with a close contact of a case."),
    "case": N_("You are recorded as a case."),
    "pass_misuse": N_("A pass of yours was used in a way it does not allow."),
    "impossible_travel": N_("A pass of yours was used at places too far apart for the "
                            "time between them."),
    "missing_reports": N_("Daily reports are missing for several days running."),
    "unreported_visit": N_("A place you were recorded at is missing from your daily "
                           "reports."),
    "manual": N_("Two officials set your status by hand."),
}
_FALLBACK = N_("A health rule flagged a risk.")


def register(reason: str, explanation: str) -> None:
    """Add (or replace) the explanation of a reason key; `explanation` is an N_() msgid."""
    _EXPLANATIONS[reason] = explanation


def explain(reason: str) -> str:
    """The reason in plain words, in the current language (never the key itself)."""
    return gettext(_EXPLANATIONS.get(reason, _FALLBACK))
