"""Running the rules (for jobs and the CLI), admins' rule changes, and alerts raised by
other domains (supply shortages)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from passtrace.areas.models import AreaRisk
from passtrace.audit import service as audit_service
from passtrace.core.clock import local_today, utcnow
from passtrace.core.config import Settings
from passtrace.core.db import dialect_insert
from passtrace.core.errors import NotFound, ValidationFailed
from passtrace.core.i18n import N_
from passtrace.core.security import Principal
from passtrace.notices.service import standard_notifier
from passtrace.warnings import alerts, effects, engine, registry
from passtrace.warnings.models import SEVERITIES, Alert, RuleSetting


@dataclass
class RunStats:
    """What one run did: new alerts per rule, areas scanned, officials told."""

    days: list[str] = field(default_factory=list)
    new: dict[str, int] = field(default_factory=dict)
    scanned_areas: int = 0
    notified: int = 0
    flags_raised: int = 0

    @property
    def total(self) -> int:
        """All new alerts."""
        return sum(self.new.values())


def scan_pending(*, session: Session) -> tuple[int, int]:
    """Scan the recent visitors of every declared area not scanned yet; (areas, alerts).

    A declaration lifted before its scan ran (declared in error) flags nobody: it is
    only marked scanned.

    Race: two runners at once would both scan the same declaration. Its alerts would
    still be made once (the dedupe key), but both would pay for the scan; the row lock
    (SKIP LOCKED on PostgreSQL: the second runner moves on to other work; SQLite has one
    writer at a time anyway) makes one runner scan it.
    """
    pending = list(session.scalars(
        select(AreaRisk).where(AreaRisk.scanned_at.is_(None))
        .order_by(AreaRisk.created_at).with_for_update(skip_locked=True)))
    found = 0
    for risk in pending:
        if risk.lifted_at is None:
            found += engine.scan_declared(session=session, risk=risk)
        risk.scanned_at = utcnow()
    session.flush()
    return len(pending), found


def run(*, session: Session, settings: Settings, days: list[date] | None = None) -> RunStats:
    """The windowed rules over the given days (default yesterday and today: late uploads
    arrive for a day), the pending declared-area scans, then one notice per official."""
    today = local_today()
    days = days or [today - timedelta(days=1), today]
    stats = RunStats(days=[d.isoformat() for d in days])
    mark = alerts.last_id(session=session)
    # Declarations first: a person who visited a just-declared area gets its alert (all
    # the visits as evidence) rather than the windowed rule's for today's visit alone;
    # the two share the dedupe key, so the second finds nothing new.
    stats.scanned_areas, declared = scan_pending(session=session)
    for day in days:
        for code, count in engine.run_day(session=session, day=day).items():
            stats.new[code] = stats.new.get(code, 0) + count
    # Supplies: a shortage is a state of today, not of a past day's registrations.
    from passtrace.warnings import shortages  # here: shortages imports this module

    short = shortages.raise_for_day(session=session, today=today)
    if short:
        stats.new["supply_shortage"] = stats.new.get("supply_shortage", 0) + short
    if declared:
        stats.new["risk_visit"] = stats.new.get("risk_visit", 0) + declared
    stats.flags_raised = effects.apply_new(session=session, after_id=mark)
    stats.notified = alerts.notify_new(session=session,
                                       notifier=standard_notifier(session, settings),
                                       after_id=mark)
    return stats


def update_rule(*, session: Session, actor: Principal, code: str, severity: str,
                enabled: bool, params: dict[str, int]) -> registry.Effective:
    """An admin changes a rule's severity, parameters or on/off (audited, before/after)."""
    rule = registry.RULES.get(code)
    if rule is None:
        raise NotFound("No such rule.")
    if severity not in SEVERITIES:
        msg = N_("Choose a severity.")
        raise ValidationFailed(msg, fields={"severity": msg})
    for name, value in params.items():
        spec = rule.params.get(name)
        if spec is None:
            msg = N_("This rule has no such parameter.")
            raise ValidationFailed(msg, fields={name[:40]: msg})
        if not spec.low <= value <= spec.high:
            msg = N_("Must be between %(low)s and %(high)s.")
            raise ValidationFailed(msg, fields={name: msg}, low=spec.low, high=spec.high)
    before = registry.effective(session=session)[code]
    # Race: two admins saving at once; the row lock (or the insert's primary key) keeps
    # the audit's "before" true for whichever commits second.
    row = session.get(RuleSetting, code, with_for_update=True)
    if row is None:
        row = RuleSetting(code=code, severity=severity, enabled=enabled, params={},
                          updated_at=utcnow())
        session.add(row)
    row.severity, row.enabled = severity, enabled
    row.params = {**before.params, **params}
    row.updated_at, row.updated_by = utcnow(), actor.user_id
    session.flush()
    after = registry.effective(session=session)[code]
    audit_service.record(session=session, actor=actor, action="rule.update",
                         resource_type="warning_rule", resource_id=code,
                         detail={"before": {"severity": before.severity,
                                            "enabled": before.enabled,
                                            "params": before.params},
                                 "after": {"severity": after.severity,
                                           "enabled": after.enabled,
                                           "params": after.params}})
    return after


def raise_alert(*, session: Session, rule_code: str, subject_kind: str, subject_key: str,
                area_code: str, evidence: dict[str, Any], day: date | None = None,
                person_hash: str | None = None, masked: str = "") -> bool:
    """Raise one alert from another domain (the supplies domain's shortages); False when
    the (rule, subject, day) alert exists already."""
    rule = registry.effective(session=session)[rule_code]
    if not rule.enabled:
        return False
    day = day or local_today()
    stmt = dialect_insert(session)(Alert.__table__).values(
        rule_code=rule_code, severity=rule.severity, subject_kind=subject_kind,
        subject_key=subject_key, person_hash=person_hash, subject_masked=masked,
        area_code=area_code, queue_area=area_code, day=day, evidence=evidence,
        status="open", note="", escalations=0, created_at=utcnow(),
    ).on_conflict_do_nothing(index_elements=["rule_code", "subject_key", "day"])
    done = session.execute(stmt.execution_options(preserve_rowcount=True))
    return bool(done.rowcount)  # type: ignore[attr-defined]
