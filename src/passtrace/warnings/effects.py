"""Status effects: the rules that change a person's health status raise a flag through
`health.service.raise_flag` for each new alert about a known person.

- close contact: red until the contact's quarantine ends (the day after quarantine_until);
- risk-area visit: yellow for the rule's `yellow_days` (7) from when it was found;
- fever (at a checkpoint, or in a daily report): yellow until an official records a
  negative test (resolving the alert as `negative` clears it, `clear_fever`).

The flag's dedupe key is the alert's (`alert:<id>`), so a re-run raises nothing twice;
a person unknown to the registry (a bare typed ID hash) has no status to change.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from passtrace.core.clock import local_midnight, utcnow
from passtrace.core.errors import NotFound
from passtrace.core.security import Principal
from passtrace.health import service as health
from passtrace.people.models import Person
from passtrace.reports.models import FEVER_AT
from passtrace.warnings import registry
from passtrace.warnings.models import Alert

FEVER_RULES = ("checkpoint_fever", "report_symptoms")
EFFECT_RULES = ("close_contact", "risk_visit", *FEVER_RULES)


def flag_key(alert_id: int) -> str:
    """The health flag raised for an alert."""
    return f"alert:{alert_id}"


def _effect(alert: Alert, rules: dict[str, registry.Effective],
            now: datetime) -> tuple[str, str, datetime | None] | None:
    """(level, reason, until) for an alert, or None when its rule changes no status."""
    if alert.rule_code == "close_contact":
        try:
            last = date.fromisoformat(str(alert.evidence.get("until", "")))
        except ValueError:
            return None
        return "red", "close_contact", local_midnight(last + timedelta(days=1))
    if alert.rule_code == "risk_visit":
        days = rules["risk_visit"].params.get("yellow_days", 7)
        return "yellow", "risk_area_visit", now + timedelta(days=days)
    if alert.rule_code == "checkpoint_fever":
        return "yellow", "fever_checkpoint", None
    if alert.rule_code == "report_symptoms":
        temperature = alert.evidence.get("temperature")
        if isinstance(temperature, int | float) and temperature >= FEVER_AT:
            return "yellow", "fever_report", None
    return None  # symptoms without a fever: the alert alone, no status change


def apply_new(*, session: Session, after_id: int) -> int:
    """Raise the flags of the alerts created after `after_id`; how many were new."""
    rows = session.execute(
        select(Alert, Person.id).join(Person, Person.id_hash == Alert.person_hash)
        .where(Alert.id > after_id, Alert.rule_code.in_(EFFECT_RULES))
        .order_by(Alert.id)).all()
    if not rows:
        return 0
    rules = registry.effective(session=session)
    now = utcnow()
    raised = 0
    for alert, person_id in rows:
        effect = _effect(alert, rules, now)
        if effect is None or (effect[2] is not None and effect[2] <= now):
            continue  # nothing to change, or the quarantine is over already
        level, reason, until = effect
        raised += health.raise_flag(
            session=session, person_id=person_id, level=level,
            source=f"warnings.{alert.rule_code}", reason=reason,
            evidence={"alert": alert.id, "rule": alert.rule_code,
                      "day": alert.day.isoformat()},
            until=until, dedupe_key=flag_key(alert.id))
    return raised


def clear_fever(*, session: Session, actor: Principal, alert: Alert) -> int:
    """A negative test: clear the fever flags of the person's fever alerts up to this
    alert's day (a later fever stays); how many were cleared."""
    if alert.person_hash is None:
        return 0
    ids = session.scalars(select(Alert.id).where(
        Alert.person_hash == alert.person_hash, Alert.rule_code.in_(FEVER_RULES),
        Alert.day <= alert.day))
    cleared = 0
    for alert_id in ids:
        try:
            cleared += health.clear_flag(session=session, dedupe_key=flag_key(alert_id),
                                         actor=actor, reason="negative_test")
        except NotFound:
            continue  # no flag: symptoms only, or the person is not in the registry
    return cleared

