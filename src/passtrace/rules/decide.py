"""The checkpoint decision: one place, every reason explained.

`decide(facts)` is pure: the service gathers the facts (the verified pass,
the person's status, whether they are already inside, the temperature) and
this function turns them into allow/deny with every reason that applies, most
serious first. The checkpoint page's offline verifier (static/js/checkpoint)
applies the same rules with the same reason codes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time

from passtrace.core.areacodes import contains
from passtrace.core.clock import LOCAL_TZ
from passtrace.core.i18n import gettext
from passtrace.rules.reasons import CODEC_REASONS, REASONS, SEVERITY
from passtrace.rules.temperature import round_temperature, tenths

# Re-exported: callers take the whole decision vocabulary from one module.
__all__ = ["CODEC_REASONS", "REASONS", "SEVERITY", "Facts", "GateFacts", "Outcome", "PassFacts",
           "SiteRules", "decide", "pass_covers_site", "round_temperature", "tenths"]

@dataclass(frozen=True)
class SiteRules:
    """What the decision needs to know about the site."""

    code: str
    area_code: str
    fever_threshold: float
    opening_hours: tuple[str, ...] = ()
    community_code: str = ""  # a community gate's compound


@dataclass(frozen=True)
class PassFacts:
    """A pass that verified (or was found on the server) and what it allows."""

    valid_from: datetime
    valid_until: datetime
    areas: tuple[str, ...]
    sites: tuple[str, ...]
    status: str = "approved"  # as the server knows it; offline: approved unless revoked


@dataclass(frozen=True)
class GateFacts:
    """At a community gate: who this is to the compound and the household's outing state.

    Gathered by the site kind's fact provider (communities for a compound's gate,
    see registrations.site_kinds); a rule whose limit is None does not apply.
    """

    resident: bool = False
    visitor: bool = False  # holds a visitor pass for this compound
    visit_used: bool = False  # ... which already went in and out
    curfew: bool = False  # now is within the compound's curfew hours
    members_out: int = 0
    max_out: int | None = None
    outings_used: int = 0
    outings_allowed: int | None = None


@dataclass(frozen=True)
class Facts:
    """Everything the decision looks at, gathered by the caller."""

    site: SiteRules
    now: datetime
    direction: str
    temperature: float | None = None
    pass_facts: PassFacts | None = None
    pass_rejected: str | None = None  # a REASONS code when the pass did not verify
    person_known: bool = False
    person_status: str | None = None  # green | yellow | red
    inside: bool = False  # the last allowed in/out of this person at this site was "in"
    community: GateFacts | None = None  # only at a community gate, known online


@dataclass
class Outcome:
    """allow/deny with the reason codes, most serious first."""

    reasons: list[str] = field(default_factory=list)

    @property
    def decision(self) -> str:
        """Return "allow" when no reason applies."""
        return "deny" if self.reasons else "allow"

    def messages(self) -> list[str]:
        """Return the reasons as translated one-liners."""
        return [gettext(REASONS[r]) for r in self.reasons]


def _open_at(hours: tuple[str, ...], now: datetime) -> bool:
    if not hours:
        return True
    local = now.astimezone(LOCAL_TZ).time()
    for rng in hours:
        start, _, end = rng.partition("-")
        lo = time.fromisoformat(start)
        hi = time.max if end == "24:00" else time.fromisoformat(end)
        if lo <= local < hi or (end == "24:00" and local >= lo):
            return True
    return False


def pass_covers_site(pass_facts: PassFacts, site: SiteRules) -> str | None:
    """Return None if the pass is good here, else the reason code.

    Named sites narrow a pass: if it lists sites, this site must be one of them;
    otherwise one of its areas must contain the site's area. A household or visitor
    pass names its compound's code among its areas: good at every gate of it.
    """
    if site.community_code and site.community_code in pass_facts.areas:
        return None
    if pass_facts.sites:
        return None if site.code in pass_facts.sites else "site_not_allowed"
    if any(contains(area, site.area_code) for area in pass_facts.areas):
        return None
    return "area_not_allowed"


def _gate_reasons(gate: GateFacts, direction: str) -> list[str]:
    """The compound's own rules: who may come in, and the outing rules for going out."""
    if not (gate.resident or gate.visitor):
        return ["not_resident"]
    reasons = []
    if gate.visitor and not gate.resident and direction == "in" and gate.visit_used:
        reasons.append("visit_used")
    if gate.resident and direction == "out":
        if gate.curfew:
            reasons.append("curfew")
        if gate.max_out is not None and gate.members_out >= gate.max_out:
            reasons.append("household_out_limit")
        if gate.outings_allowed is not None and gate.outings_used >= gate.outings_allowed:
            reasons.append("outing_quota")
    return reasons


def decide(facts: Facts) -> Outcome:
    """Apply every rule; the outcome lists each one that failed."""
    reasons: list[str] = []
    gate = facts.community
    # A resident's right to pass their own gate is living there, not a pass: only a
    # scanned pass that fails on its own terms (forged, revoked, expired) counts.
    resident = gate is not None and gate.resident
    if facts.pass_rejected:
        reasons.append(facts.pass_rejected)
    elif facts.pass_facts is not None:
        p = facts.pass_facts
        if p.status == "revoked":
            reasons.append("revoked")
        elif p.status != "approved":
            reasons.append("not_approved")
        if facts.now >= p.valid_until:
            reasons.append("expired")
        elif facts.now < p.valid_from:
            reasons.append("not_yet_valid")
        where = pass_covers_site(p, facts.site)
        if where and not resident:
            reasons.append(where)
    elif resident:
        pass
    elif facts.person_known:
        reasons.append("no_valid_pass")
    else:
        reasons.append("unknown_person")
    if facts.person_status == "red":
        reasons.append("status_red")
    elif facts.person_status == "yellow":
        reasons.append("status_yellow")
    if facts.temperature is not None and tenths(facts.temperature) >= tenths(
            facts.site.fever_threshold):
        reasons.append("fever")
    if facts.direction == "in" and facts.inside and not resident:
        reasons.append("already_inside")
    if not _open_at(facts.site.opening_hours, facts.now):
        reasons.append("site_closed")
    if gate is not None:
        reasons.extend(_gate_reasons(gate, facts.direction))
    return Outcome(reasons=sorted(dict.fromkeys(reasons), key=SEVERITY.__getitem__))
