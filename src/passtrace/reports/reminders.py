"""The reminders job: remind overdue employees, escalate repeat misses, never twice."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from passtrace.accounts.models import RoleBinding
from passtrace.audit import service as audit_service
from passtrace.core.clock import utcnow
from passtrace.core.i18n import N_
from passtrace.core.runtime import Runtime
from passtrace.enterprises.models import Employee, Enterprise
from passtrace.notices.service import (
    DeliveryFailed,
    InAppNotifier,
    Message,
    Notifier,
    WebhookNotifier,
)
from passtrace.reports.models import DailyReport, ReportReminder
from passtrace.reports.service import deadline_for, local_today


@dataclass
class RunStats:
    """What one run of the job did."""

    enterprises: int = 0
    overdue: int = 0
    reminded: int = 0
    escalated: int = 0
    skipped_already_sent: int = 0
    webhook_failed: int = 0
    details: list[str] = field(default_factory=list)


def overdue_employees(*, session: Session, enterprise_id: uuid.UUID, day: date,
                      department_ids: set[uuid.UUID] | None = None) -> list[Employee]:
    """Active employees of an enterprise with no report for the day."""
    stmt = select(Employee).where(Employee.enterprise_id == enterprise_id,
                                  Employee.status == "active",
                                  no_report_on(day, enterprise_id))
    if department_ids is not None:
        stmt = stmt.where(Employee.department_id.in_(department_ids))
    return list(session.scalars(stmt.order_by(Employee.department_id, Employee.employee_no)))


def no_report_on(day: date, enterprise_id: uuid.UUID) -> ColumnElement[bool]:
    """Condition on Employee: no report filed for `day`.

    NOT IN, not NOT EXISTS: PostgreSQL reads the day's reports once into a hash
    (ix_daily_reports_enterprise_date) whatever its statistics say. With NOT EXISTS,
    statistics gathered before today (they always are) promise ~1 report today and
    it picks a nested loop comparing every employee with every report of the day.
    employee_id is never NULL, so NOT IN has no NULL surprise.
    """
    return Employee.id.not_in(select(DailyReport.employee_id).where(
        DailyReport.enterprise_id == enterprise_id, DailyReport.report_date == day))


def missed(*, session: Session, employee_ids: list[uuid.UUID], day: date) -> set[uuid.UUID]:
    """Of these employees, who missed the deadline of `day` (no report, or a late one)."""
    if not employee_ids:
        return set()
    on_time = set(session.scalars(select(DailyReport.employee_id).where(
        DailyReport.employee_id.in_(employee_ids), DailyReport.report_date == day,
        DailyReport.late.is_(False))))
    return set(employee_ids) - on_time


def department_heads(*, session: Session, department_id: uuid.UUID) -> list[uuid.UUID]:
    """The users who head a department."""
    return list(session.scalars(select(RoleBinding.user_id).where(
        RoleBinding.role == "department_head", RoleBinding.scope_type == "department",
        RoleBinding.scope_value == str(department_id))))


def default_notifiers(session: Session, rt: Runtime) -> tuple[Notifier, Notifier | None]:
    """In-app always; the webhook when a gateway URL is configured."""
    url = rt.settings.notify_webhook_url
    hook = WebhookNotifier(url, attempts=rt.settings.notify_webhook_attempts,
                           backoff_s=rt.settings.notify_webhook_backoff_s) if url else None
    return InAppNotifier(session), hook


def _claim(session: Session, emp: Employee, day: date, kind: str,
           recipient: uuid.UUID) -> ReportReminder | None:
    """Record the reminder first; None when an earlier run already delivered it."""
    row = session.scalars(select(ReportReminder).where(
        ReportReminder.employee_id == emp.id, ReportReminder.report_date == day,
        ReportReminder.kind == kind, ReportReminder.recipient_user_id == recipient)).first()
    if row is not None:
        return row if row.webhook_status == "failed" else None
    try:
        with session.begin_nested():
            row = ReportReminder(employee_id=emp.id, report_date=day, kind=kind,
                                 recipient_user_id=recipient)
            session.add(row)
    except IntegrityError:
        return None  # a concurrent run claimed it
    return row


def _deliver(row: ReportReminder, message: Message, in_app: Notifier,
             hook: Notifier | None, stats: RunStats) -> None:
    if row.webhook_status != "failed":
        in_app.send(message)
    if hook is None:
        return
    try:
        hook.send(message)
        row.webhook_status = "sent"
    except DeliveryFailed as exc:
        row.webhook_status = "failed"
        stats.webhook_failed += 1
        stats.details.append(f"webhook {message.dedupe_key}: {exc}")
    row.attempts += getattr(hook, "last_attempts", 1)


def run(*, session: Session, rt: Runtime, now: datetime | None = None,
        notifiers: tuple[Notifier, Notifier | None] | None = None) -> RunStats:
    """Remind everyone past today's deadline without a report; escalate second misses."""
    now = now or utcnow()
    day = local_today(now)
    in_app, hook = notifiers or default_notifiers(session, rt)
    stats = RunStats()
    for ent in session.scalars(select(Enterprise).order_by(Enterprise.credit_code)):
        if now < deadline_for(ent.report_deadline, day):
            continue
        stats.enterprises += 1
        late_people = overdue_employees(session=session, enterprise_id=ent.id, day=day)
        stats.overdue += len(late_people)
        repeat = missed(session=session, employee_ids=[e.id for e in late_people],
                        day=day - timedelta(days=1))
        deadline = ent.report_deadline.strftime("%H:%M")
        for emp in late_people:
            if emp.user_id is not None:
                row = _claim(session, emp, day, "remind", emp.user_id)
                if row is None:
                    stats.skipped_already_sent += 1
                else:
                    _deliver(row, Message(
                        user_id=emp.user_id, kind="report.remind",
                        text=N_("Your daily report for %(date)s was due at %(deadline)s. "
                                "Please file it now."),
                        params={"date": day.isoformat(), "deadline": deadline},
                        dedupe_key=f"remind:{emp.id}:{day}", link="/reports/today"),
                        in_app, hook, stats)
                    stats.reminded += 1
            if emp.id not in repeat:
                continue
            for head in department_heads(session=session, department_id=emp.department_id):
                row = _claim(session, emp, day, "escalate", head)
                if row is None:
                    stats.skipped_already_sent += 1
                    continue
                _deliver(row, Message(
                    user_id=head, kind="report.escalate",
                    text=N_("%(name)s (%(department)s) has missed the daily report deadline "
                            "twice in a row (%(date)s)."),
                    params={"name": emp.listed_name, "department": emp.department.name,
                            "date": day.isoformat()},
                    dedupe_key=f"escalate:{emp.id}:{day}:{head}", link="/reports/dashboard"),
                    in_app, hook, stats)
                stats.escalated += 1
    session.flush()
    if stats.reminded or stats.escalated or stats.webhook_failed:
        audit_service.record(session=session, actor=None, action="report.remind",
                             resource_type="daily_report", resource_id=day.isoformat(),
                             detail={"reminded": stats.reminded, "escalated": stats.escalated,
                                     "webhook_failed": stats.webhook_failed})
    return stats
