"""The rules: each with a code, a default severity, parameters admins may change, and the
explanation shown to officials and to the person (an English msgid, translated at display).

The table `warning_rules` keeps only what an admin changed; `effective()` merges it over
these defaults, so adding a rule here needs no migration.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from passtrace.core.i18n import N_
from passtrace.warnings.models import RuleSetting


@dataclass(frozen=True)
class Param:
    """A rule parameter: an integer with a default and bounds."""

    default: int
    low: int
    high: int
    label: str


@dataclass(frozen=True)
class Rule:
    """A rule's definition; `windowed` rules run in `warnings run`, the others are raised
    by the domain that sees the event (risk_visit also runs when an area is declared)."""

    code: str
    severity: str
    title: str
    explanation: str
    params: dict[str, Param] = field(default_factory=dict)
    windowed: bool = True
    # (value, explanation): said instead when the alert's evidence lacks that value, so
    # the sentence never shows an empty blank; the first missing value's wins.
    without: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Effective:
    """A rule as it runs now: its definition with an admin's changes applied."""

    rule: Rule
    severity: str
    enabled: bool
    params: dict[str, int]


RULES: dict[str, Rule] = {r.code: r for r in (
    Rule("checkpoint_fever", "high", N_("Fever at a checkpoint or gate"),
         N_("A temperature of %(temperature)s °C was measured at %(site)s on %(day)s "
            "(the site's fever threshold is %(threshold)s °C)."),
         without=(("temperature", N_("A temperature at or above the fever threshold was "
                                     "measured at %(site)s on %(day)s.")),
                  ("threshold", N_("A temperature of %(temperature)s °C was measured at "
                                   "%(site)s on %(day)s, at or above the site's fever "
                                   "threshold.")))),
    Rule("report_symptoms", "medium", N_("Fever or symptoms in a daily report"),
         N_("The daily report of %(day)s recorded a fever or symptoms.")),
    Rule("risk_visit", "medium", N_("Visit to a risk area"),
         N_("On %(day)s there was a visit to %(area)s, a risk area."),
         {"days": Param(14, 1, 28, N_("Days looked back")),
          "yellow_days": Param(7, 1, 28, N_("Days the status stays yellow"))}),
    Rule("close_contact", "high", N_("Close contact of a case"),
         N_("Found on %(day)s to be a close contact of a case; quarantine until "
            "%(until)s."),
         without=(("until", N_("Found on %(day)s to be a close contact of a case.")),)),
    Rule("secondary_contact", "medium", N_("Secondary contact of a case"),
         N_("Found on %(day)s to be a contact of a close contact; quarantine until "
            "%(until)s."),
         without=(("until", N_("Found on %(day)s to be a contact of a close contact.")),)),
    Rule("pass_invalid", "high", N_("Revoked or expired pass presented"),
         N_("A revoked or expired pass was presented at %(site)s on %(day)s.")),
    Rule("pass_outside_area", "medium", N_("Pass used outside its areas"),
         N_("A pass was presented at %(site)s on %(day)s, outside the areas it is valid "
            "in.")),
    Rule("impossible_travel", "high", N_("Impossible travel"),
         N_("On %(day)s the same person was registered at %(site)s and, %(minutes)s "
            "minutes later, at %(other_site)s, %(km)s km away (over %(speed)s km/h)."),
         {"speed_kmh": Param(120, 10, 1000, N_("Speed bound (km/h)"))}),
    Rule("pass_two_sites", "high", N_("One pass at two sites at once"),
         N_("On %(day)s the same pass was presented at %(site)s and at %(other_site)s "
            "within %(minutes)s minutes."),
         {"minutes": Param(5, 1, 120, N_("Minutes"))}),
    Rule("missing_reports", "low", N_("Daily reports missing"),
         N_("No daily report for %(days)s days up to %(day)s."),
         {"days": Param(2, 1, 14, N_("Days running without a report"))}),
    Rule("trajectory_mismatch", "medium", N_("Trajectory does not match the records"),
         N_("The daily report of %(day)s left out a visit a checkpoint or gate recorded, "
            "or contradicts one.")),
    Rule("supply_shortage", "medium", N_("Supply shortage"),
         N_("A supply is running short in %(area)s (%(day)s)."), windowed=False),
)}

def effective(*, session: Session) -> dict[str, Effective]:
    """Every rule with the admins' changes applied (one query)."""
    stored = {s.code: s for s in session.scalars(select(RuleSetting))}
    out: dict[str, Effective] = {}
    for code, rule in RULES.items():
        row = stored.get(code)
        params = {name: p.default for name, p in rule.params.items()}
        if row is not None:
            params.update({k: int(v) for k, v in row.params.items() if k in rule.params})
        out[code] = Effective(rule, row.severity if row else rule.severity,
                              row.enabled if row else True, params)
    return out


def explain_params(evidence: dict[str, Any], day: str) -> dict[str, Any]:
    """The template's values from an alert's evidence (names resolved by present)."""
    return {"day": day, **evidence}
