"""The alert queue: list, read, assign, acknowledge, resolve or dismiss; rates; escalation.

Every transition locks the alert row (core.db.locked): two officials resolving one
alert at once would otherwise both pass the "still open" check and the second would
overwrite the first's resolution; with the lock the second sees it closed (409).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.orm import Session

from passtrace.areas.models import Area
from passtrace.audit import service as audit_service
from passtrace.core.clock import utcnow
from passtrace.core.config import Settings
from passtrace.core.db import locked
from passtrace.core.errors import InvalidState, NotFound, ValidationFailed
from passtrace.core.i18n import N_
from passtrace.core.security import Principal
from passtrace.notices.service import Message, Notifier
from passtrace.people.models import Person
from passtrace.warnings import authz, effects, officials
from passtrace.warnings.models import RESOLUTIONS, SEVERITIES, Alert

CLOSED = ("resolved", "dismissed")
NEW_ALERTS = N_("%(count)s new alerts in your warnings queue.")
ESCALATED = N_("An alert was not acknowledged in time and is now in your queue.")
ALREADY_CLOSED = N_("This alert is already closed.")


def _person_id(session: Session, alert: Alert) -> uuid.UUID | None:
    if alert.person_hash is None:
        return None
    return session.scalar(select(Person.id).where(Person.id_hash == alert.person_hash))


def queue(*, session: Session, actor: Principal, status: str | None = None,
          rule: str | None = None, severity: str | None = None,
          before_id: int | None = None, limit: int = 50) -> list[Alert]:
    """Alerts queued in the actor's areas, newest first; each person shown is audited."""
    stmt = select(Alert).order_by(Alert.id.desc()).limit(limit)
    scopes = authz.queue_scopes(actor)
    if scopes is not None:
        if not scopes:
            return []
        stmt = stmt.where(or_(*[Alert.queue_area.startswith(s, autoescape=True)
                                for s in scopes]))
    if status:
        stmt = stmt.where(Alert.status == status)
    if rule:
        stmt = stmt.where(Alert.rule_code == rule)
    if severity:
        stmt = stmt.where(Alert.severity == severity)
    if before_id is not None:
        stmt = stmt.where(Alert.id < before_id)
    rows = list(session.scalars(stmt))
    hashes = {a.person_hash for a in rows if a.person_hash}
    ids = {h: i for h, i in session.execute(
        select(Person.id_hash, Person.id).where(Person.id_hash.in_(hashes)))} if hashes else {}
    audit_service.record_reads(session=session, actor=actor, action="alert.list",
                               resource_type="alert",
                               people=[(a.id, ids.get(a.person_hash or "")) for a in rows])
    return rows


def read(*, session: Session, actor: Principal, alert_id: int,
         for_update: bool = False) -> Alert:
    """One alert the actor may see (404 otherwise), audited as a read of its person."""
    alert = locked(session, Alert, alert_id) if for_update else session.get(Alert, alert_id)
    if alert is None or not authz.can_view(actor, alert):
        raise NotFound("No such alert.")
    if not for_update:
        audit_service.record(session=session, actor=actor, action="alert.read",
                             resource_type="alert", resource_id=str(alert.id),
                             subject_person_id=_person_id(session, alert))
    return alert


def _for_change(session: Session, actor: Principal, alert_id: int) -> Alert:
    alert = read(session=session, actor=actor, alert_id=alert_id, for_update=True)
    if not authz.can_manage(actor, alert):
        raise NotFound("No such alert.")
    if alert.status in CLOSED:
        raise InvalidState(ALREADY_CLOSED)
    return alert


def _audit(session: Session, actor: Principal, alert: Alert, action: str,
           **detail: object) -> None:
    audit_service.record(session=session, actor=actor, action=action, resource_type="alert",
                         resource_id=str(alert.id), subject_person_id=_person_id(session, alert),
                         detail={"rule": alert.rule_code, **detail})


def assign(*, session: Session, actor: Principal, alert_id: int,
           user_id: uuid.UUID) -> Alert:
    """Give an alert to an official of its area."""
    alert = _for_change(session, actor, alert_id)
    if not officials.is_official_of(session=session, user_id=user_id,
                                    area_code=alert.queue_area):
        msg = N_("Choose an official of the alert's area.")
        raise ValidationFailed(msg, fields={"user_id": msg})
    alert.assigned_to = user_id
    session.flush()
    _audit(session, actor, alert, "alert.assign", assignee=str(user_id))
    return alert


def acknowledge(*, session: Session, actor: Principal, alert_id: int) -> Alert:
    """Acknowledge an open alert (stops its escalation); acknowledging twice is a no-op."""
    alert = _for_change(session, actor, alert_id)
    if alert.status == "open":
        alert.status, alert.acknowledged_at = "acknowledged", utcnow()
        alert.acknowledged_by = actor.user_id
        if alert.assigned_to is None:
            alert.assigned_to = actor.user_id
        session.flush()
        _audit(session, actor, alert, "alert.acknowledge")
    return alert


def _close(session: Session, actor: Principal, alert_id: int, status: str,
           resolution: str | None, note: str) -> Alert:
    alert = _for_change(session, actor, alert_id)
    now = utcnow()
    if alert.acknowledged_at is None:
        alert.acknowledged_at, alert.acknowledged_by = now, actor.user_id
    alert.status, alert.closed_at, alert.closed_by = status, now, actor.user_id
    alert.resolution, alert.note = resolution, note
    session.flush()
    _audit(session, actor, alert, f"alert.{'resolve' if status == 'resolved' else 'dismiss'}",
           resolution=resolution, note=note)
    return alert


def resolve(*, session: Session, actor: Principal, alert_id: int, resolution: str,
            note: str = "") -> Alert:
    """Close an alert with what was done; a negative test on a fever alert clears the
    person's fever flags (their status turns back unless something else holds it)."""
    if resolution not in RESOLUTIONS:
        msg = N_("Choose what was done.")
        raise ValidationFailed(msg, fields={"resolution": msg})
    alert = _close(session, actor, alert_id, "resolved", resolution, note.strip())
    if resolution == "negative" and alert.rule_code in effects.FEVER_RULES:
        effects.clear_fever(session=session, actor=actor, alert=alert)
    return alert


def dismiss(*, session: Session, actor: Principal, alert_id: int, reason: str) -> Alert:
    """Close an alert as a false alarm; the reason is required (it feeds the rate page)."""
    if not reason.strip():
        msg = N_("Say why this is a false alarm.")
        raise ValidationFailed(msg, fields={"reason": msg})
    return _close(session, actor, alert_id, "dismissed", "false_alarm", reason.strip())


@dataclass
class RuleRate:
    """Closed alerts of one rule in the actor's areas, and how many were false alarms."""

    rule: str
    closed: int
    dismissed: int

    @property
    def rate(self) -> float:
        """The false-alarm share (0 with nothing closed)."""
        return self.dismissed / self.closed if self.closed else 0.0


def false_alarm_rates(*, session: Session, actor: Principal) -> list[RuleRate]:
    """Per rule: closed alerts and the share dismissed as false alarms (one GROUP BY)."""
    stmt = (select(Alert.rule_code, func.count(),
                   func.sum(case((Alert.status == "dismissed", 1), else_=0)))
            .where(Alert.status.in_(CLOSED)).group_by(Alert.rule_code)
            .order_by(Alert.rule_code))
    scopes = authz.queue_scopes(actor)
    if scopes is not None:
        if not scopes:
            return []
        stmt = stmt.where(or_(*[Alert.queue_area.startswith(s, autoescape=True)
                                for s in scopes]))
    return [RuleRate(rule, int(closed), int(dismissed or 0))
            for rule, closed, dismissed in session.execute(stmt)]


def sla(settings: Settings, severity: str) -> timedelta:
    """How long an alert of a severity may stay unacknowledged."""
    minutes = {"high": settings.alert_sla_high_minutes,
               "medium": settings.alert_sla_medium_minutes,
               "low": settings.alert_sla_low_minutes}[severity]
    return timedelta(minutes=minutes)


def escalate_overdue(*, session: Session, settings: Settings, notifier: Notifier,
                     now: datetime | None = None, limit: int = 1000) -> int:
    """Move open alerts past their SLA to the next area up and tell its officials.

    Race: two runners escalating the same alert would move it two levels; the UPDATE
    matches the escalation count it read, so the second changes nothing.
    """
    now = now or utcnow()
    moved = 0
    for severity in SEVERITIES:
        due = now - sla(settings, severity)
        rows = session.execute(
            select(Alert.id, Alert.queue_area, Alert.escalations)
            .where(Alert.status == "open", Alert.severity == severity,
                   func.coalesce(Alert.escalated_at, Alert.created_at) <= due)
            .order_by(Alert.id).limit(limit)).all()
        if not rows:
            continue
        parents = {code: parent for code, parent in session.execute(
            select(Area.code, Area.parent_code).where(
                Area.code.in_({r.queue_area for r in rows})))}
        for alert_id, area, count in rows:
            parent = parents.get(area)
            if not parent:
                continue  # already at the top: it stays with the province
            done = session.execute(
                update(Alert).where(Alert.id == alert_id, Alert.escalations == count,
                                    Alert.status == "open")
                .values(queue_area=parent, escalations=count + 1, escalated_at=now)
            ).rowcount  # type: ignore[attr-defined]
            if not done:
                continue
            moved += 1
            for user_id in officials.of_area(session=session, area_code=parent, exact=True):
                notifier.send(Message(user_id=user_id, kind="alert.escalated", text=ESCALATED,
                                      dedupe_key=f"alert:{alert_id}:esc:{count + 1}:{user_id}",
                                      link=f"/warnings/alerts/{alert_id}"))
    return moved


def notify_new(*, session: Session, notifier: Notifier, after_id: int) -> int:
    """Tell each official how many alerts arrived in their queue since `after_id`."""
    rows = session.execute(select(Alert.queue_area, func.count(), func.max(Alert.id))
                           .where(Alert.id > after_id).group_by(Alert.queue_area)).all()
    per_user: dict[uuid.UUID, tuple[int, int]] = {}
    for area, count, last in rows:
        for user_id in officials.of_area(session=session, area_code=area):
            seen, top = per_user.get(user_id, (0, 0))
            per_user[user_id] = (seen + count, max(top, last))
    for user_id, (count, last) in per_user.items():
        notifier.send(Message(user_id=user_id, kind="alert.new", text=NEW_ALERTS,
                              params={"count": count}, link="/warnings/alerts",
                              dedupe_key=f"alerts:new:{last}:{user_id}"))
    return len(per_user)


def last_id(*, session: Session) -> int:
    """The newest alert's id (0 with none): the mark `notify_new` counts from."""
    return session.scalar(select(func.max(Alert.id))) or 0

