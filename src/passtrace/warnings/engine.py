"""Running the windowed rules for a day, and the risk-visit scan when an area is declared."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from passtrace.areas import risks as area_risks
from passtrace.areas.models import AreaRisk
from passtrace.core.clock import LOCAL_TZ, local_day_bounds, utcnow
from passtrace.warnings import detect, registry
from passtrace.warnings.shards import HashRange


def run_day(*, session: Session, day: date) -> dict[str, int]:
    """Every enabled windowed rule over one local day; returns new alerts per rule."""
    rules = registry.effective(session=session)
    counts: dict[str, int] = {}

    def on(code: str) -> registry.Effective | None:
        rule = rules[code]
        return rule if rule.enabled else None

    simple = {"checkpoint_fever": detect.checkpoint_fever,
              "report_symptoms": detect.report_symptoms,
              "pass_invalid": detect.pass_invalid,
              "pass_outside_area": detect.pass_outside_area,
              "impossible_travel": detect.impossible_travel,
              "pass_two_sites": detect.pass_two_sites,
              "missing_reports": detect.missing_reports,
              "trajectory_mismatch": detect.trajectory_mismatch}
    for code, fn in simple.items():
        if (rule := on(code)) is not None:
            counts[code] = fn(session, rule, day)
    if (rule := on("risk_visit")) is not None:
        start, end = local_day_bounds(day)
        risks = [(r.area_code, r.area_prefix, r.valid_from, r.valid_until)
                 for r in area_risks.overlapping(session=session, start=start, end=end)]
        counts["risk_visit"] = detect.risk_visit(session, rule, day, risks)
    counts["contacts"] = detect.contacts(session, rules["close_contact"],
                                         rules["secondary_contact"], day)
    return counts


@dataclass(frozen=True)
class Declared:
    """What a scan needs of a declaration, to hand to another session (a part applied on
    a connection of its own must not touch the claiming session's ORM object)."""

    id: uuid.UUID
    area_code: str
    area_prefix: str
    created_at: datetime | None

    @classmethod
    def of(cls, risk: AreaRisk) -> Declared:
        return cls(risk.id, risk.area_code, risk.area_prefix, risk.created_at)


def declared_day(risk: AreaRisk | Declared) -> date:
    """The local day a declaration was made: its alerts' day (their dedupe key)."""
    return (risk.created_at or utcnow()).astimezone(LOCAL_TZ).date()


def _scan_args(session: Session, risk: AreaRisk | Declared, days: int | None,
               until: datetime | None) -> tuple[registry.Effective, dict[str, Any]] | None:
    """The risk-visit rule and detect.risk_declared's arguments (None: the rule is off)."""
    rule = registry.effective(session=session)["risk_visit"]
    if not rule.enabled:
        return None
    days = days or rule.params["days"]
    day = declared_day(risk)
    since = local_day_bounds(day - timedelta(days=days - 1))[0]
    return rule, {"risk_id": str(risk.id), "code": risk.area_code,
                  "prefix": risk.area_prefix, "since": since, "until": until or utcnow(),
                  "day": day}


def scan_declared(*, session: Session, risk: AreaRisk | Declared, days: int | None = None,
                  until: datetime | None = None, persons: HashRange | None = None) -> int:
    """Flag everyone who was in a newly declared area in the last N days (default: the
    rule's parameter, 14) up to now (or `until`): one alert per person for the
    declaration, the visits as its evidence (detect.risk_declared). The visit need not
    fall in the risk's window: being there recently is what matters once the area is
    declared. The N days count back from the declaration's day, so a scan run late looks
    at the same days. `persons`: only the visitors whose hash is in that range."""
    found = _scan_args(session, risk, days, until)
    if found is None:
        return 0
    rule, args = found
    return detect.risk_declared(session, rule, **args, persons=persons)


@dataclass(frozen=True)
class Copied:
    """A declaration's visitors as found by one scan (PostgreSQL COPY text lines of
    detect.declared_rows), for the parts to insert on their own connections."""

    rule: registry.Effective
    day: date
    lines: list[bytes]

    def part(self, persons: HashRange) -> Copied:
        """The visitors whose hash is in `persons` (the line's third field)."""
        return Copied(self.rule, self.day, [
            line for line in self.lines if persons.holds(line.split(b"\t", 3)[2].decode())])


def copy_declared(*, session: Session, risk: AreaRisk | Declared, until: datetime,
                  days: int | None = None) -> Copied | None:
    """PostgreSQL: scan a declaration's visitors once, as rows to hand out (None: the
    rule is off)."""
    found = _scan_args(session, risk, days, until)
    if found is None:
        return None
    rule, args = found
    return Copied(rule, args["day"], detect.copy_declared(
        session, detect.declared_rows(session, **args)))
