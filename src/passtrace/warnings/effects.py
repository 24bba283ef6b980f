"""Status effects: the rules that change a person's health status raise a flag for each
new alert about a known person.

- close contact: red until the contact's quarantine ends (the day after quarantine_until);
- risk-area visit: yellow for the rule's `yellow_days` (7) from when it was found;
- fever (at a checkpoint, or in a daily report): yellow until an official records a
  negative test (resolving the alert as `negative` clears it, `clear_fever`).

The flags of one run are raised together (`health.bulk.raise_selected`), with the outcome
`health.service.raise_flag` would give for each in turn.

The flag's dedupe key is the alert's (`alert:<id>`; of the first alert, when one run
finds several calling for the same flag), so a re-run raises nothing twice;
a person unknown to the registry (a bare typed ID hash) has no status to change.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Date, DateTime, Numeric, String, case, cast, func, literal, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement, Select

from passtrace.core.clock import LOCAL_TZ, local_midnight, utcnow
from passtrace.core.errors import NotFound
from passtrace.core.security import Principal
from passtrace.health import bulk
from passtrace.health import service as health
from passtrace.people.models import Person
from passtrace.reports.models import FEVER_AT
from passtrace.warnings import detect, registry
from passtrace.warnings.models import Alert

FEVER_RULES = ("checkpoint_fever", "report_symptoms")
EFFECT_RULES = ("close_contact", "risk_visit", *FEVER_RULES)
FLAG_PREFIX = "alert:"


def flag_key(alert_id: int) -> str:
    """The health flag raised for an alert."""
    return f"{FLAG_PREFIX}{alert_id}"


def _local_midnight_after(session: Session, day_text: Any) -> ColumnElement[Any]:
    """local_midnight(day + 1) in SQL for a 'YYYY-MM-DD' text (NULL if it is not one)."""
    if session.get_bind().dialect.name == "postgresql":
        as_date = case((day_text.op("~")(r"^\d{4}-\d{2}-\d{2}$"), cast(day_text, Date)))
        return func.timezone(LOCAL_TZ.key, cast(as_date + 1, DateTime))
    # SQLite keeps UTC as 'YYYY-MM-DD HH:MM:SS.ffffff'; the local zone has a fixed offset
    # (China keeps no summer time), taken from the clock so both paths agree.
    offset = local_midnight(date(2001, 1, 2)) - datetime(2001, 1, 2, tzinfo=UTC)
    shifted = func.datetime(func.date(day_text), "+1 day",
                            f"{int(offset.total_seconds())} seconds")
    return case((shifted.is_not(None), shifted + ".000000"))


def _json_text(session: Session, column: Any, key: str) -> ColumnElement[Any]:
    if session.get_bind().dialect.name == "postgresql":
        return column.op("->>")(key)
    return func.json_extract(column, f"$.{key}")


def flag_rows(*, session: Session, after_id: int,
              only: Sequence[ColumnElement[bool]] = ()) -> Select[Any]:
    """The flags the alerts created after `after_id` (and matching `only`) call for, as a
    SELECT in alert order
    (health.bulk.raise_selected's columns):
    - close contact: red until the day after the quarantine ends (none once it is over);
    - risk-area visit: yellow for the rule's `yellow_days` from now;
    - fever at a checkpoint: yellow until cleared;
    - a daily report with a fever (symptoms alone: the alert, no flag): yellow until
      cleared.
    One flag per person and effect: alerts of one run calling for the same flag raise
    it for the first of them."""
    now = utcnow()
    days = registry.effective(session=session)["risk_visit"].params.get("yellow_days", 7)
    when = Alert.__table__.c.created_at.type
    rule = Alert.rule_code
    contact_until = _local_midnight_after(session, _json_text(session, Alert.evidence, "until"))
    temperature = cast(_json_text(session, Alert.evidence, "temperature"), Numeric)
    level = case((rule == "close_contact", "red"), else_="yellow")
    reason = case((rule == "close_contact", "close_contact"),
                  (rule == "risk_visit", "risk_area_visit"),
                  (rule == "checkpoint_fever", "fever_checkpoint"), else_="fever_report")
    until = case((rule == "close_contact", contact_until),
                 (rule == "risk_visit", literal(now + timedelta(days=days), when)),
                 else_=literal(None, when))
    every = (select(
        Person.id.label("person_id"), level.label("level"),
        (literal("warnings.", String) + rule).label("source"), reason.label("reason"),
        detect.json_object(session, alert=Alert.id, rule=rule,
                           day=cast(Alert.day, String)).label("evidence"),
        until.label("until"),
        (literal(FLAG_PREFIX, String) + cast(Alert.id, String)).label("dedupe_key"),
        Alert.area_code.label("area_code"), Alert.id.label("ord"),
        # A person's alerts of one run that call for the same flag (a visit on each of
        # seven days to a county just declared) raise it once, for the first of them:
        # the others would add a copy changing nothing (same level, same end) that the
        # person would see, and could appeal, seven times.
        func.row_number().over(partition_by=[Person.id, level, reason, until],
                               order_by=Alert.id).label("nth"))
        .join(Person, Person.id_hash == Alert.person_hash)
        .where(Alert.id > after_id, rule.in_(EFFECT_RULES),
               # symptoms without a fever: the alert alone, no status change
               or_(rule != "report_symptoms", temperature >= FEVER_AT),
               # a quarantine over already changes nothing
               or_(rule != "close_contact", contact_until > literal(now, when)),
               *only)
        .subquery("every"))
    return select(*[every.c[name] for name in (
        "person_id", "level", "source", "reason", "evidence", "until", "dedupe_key",
        "area_code", "ord")]
    ).where(every.c.nth == 1)


def apply_new(*, session: Session, after_id: int,
              only: Sequence[ColumnElement[bool]] = ()) -> int:
    """Raise the flags of the alerts created after `after_id` (and matching `only`: one
    part of a declaration's visitors); how many were new.

    All of them at once (health.bulk: a declared county's scan makes hundreds of
    thousands), with the outcome of health.service.raise_flag for each in alert order."""
    return bulk.raise_selected(
        session=session, rows=flag_rows(session=session, after_id=after_id, only=only))


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

