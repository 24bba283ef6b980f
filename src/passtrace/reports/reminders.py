"""The reminders job: remind overdue employees, escalate repeat misses, never twice.

It only writes rows (reminder records, in-app notices, outbox messages for the gateway)
and returns: the job runner sends the gateway copies after this transaction commits.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session, selectinload

from passtrace.accounts.models import RoleBinding
from passtrace.audit import service as audit_service
from passtrace.core.clock import local_today, utcnow
from passtrace.core.db import dialect_insert
from passtrace.core.i18n import N_
from passtrace.core.ids import uuid7
from passtrace.core.runtime import Runtime
from passtrace.enterprises.models import Employee, Enterprise
from passtrace.notices.service import InAppNotifier, Message, WebhookOutboxNotifier
from passtrace.reports.models import DailyReport, ReportReminder
from passtrace.reports.service import deadline_for


@dataclass
class RunStats:
    """What one run of the job did."""

    enterprises: int = 0
    overdue: int = 0
    reminded: int = 0
    escalated: int = 0
    skipped_already_sent: int = 0
    # Gateway copies queued in the outbox (0 when no webhook is configured).
    queued: int = 0


def overdue_employees(*, session: Session, enterprise_id: uuid.UUID, day: date,
                      department_ids: set[uuid.UUID] | None = None) -> list[Employee]:
    """Active employees of an enterprise with no report for the day."""
    stmt = select(Employee).where(Employee.enterprise_id == enterprise_id,
                                  Employee.status == "active",
                                  no_report_on(day, enterprise_id))
    if department_ids is not None:
        stmt = stmt.where(Employee.department_id.in_(department_ids))
    # The escalation names the employee as HR listed them, in their department: load both
    # with the list (two statements, however many are late).
    stmt = stmt.options(selectinload(Employee.hr_claim), selectinload(Employee.department))
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


def department_heads(*, session: Session, department_ids: set[uuid.UUID]
                     ) -> dict[uuid.UUID, list[uuid.UUID]]:
    """The users who head each of these departments (one query)."""
    heads: dict[uuid.UUID, list[uuid.UUID]] = {d: [] for d in department_ids}
    if not department_ids:
        return heads
    rows = session.execute(select(RoleBinding.scope_value, RoleBinding.user_id).where(
        RoleBinding.role == "department_head", RoleBinding.scope_type == "department",
        RoleBinding.scope_value.in_([str(d) for d in department_ids]))
        .order_by(RoleBinding.user_id))
    for dept, user_id in rows:
        heads[uuid.UUID(dept)].append(user_id)
    return heads


Wanted = tuple[Employee, str, uuid.UUID]  # (employee, remind | escalate, recipient)


def _claim(session: Session, day: date, wanted: list[Wanted]) -> set[tuple[uuid.UUID, str,
                                                                          uuid.UUID]]:
    """Record the reminders first, in one statement; returns the ones this run won.

    Race: two runs (a cron run beside the runner) reminding the same person at once.
    The unique (employee, date, kind, recipient) key with ON CONFLICT DO NOTHING lets
    exactly one insert each; the other run gets nothing back and sends nothing.
    """
    if not wanted:
        return set()
    stmt = dialect_insert(session)(ReportReminder).on_conflict_do_nothing(
        index_elements=["employee_id", "report_date", "kind", "recipient_user_id"],
    ).returning(ReportReminder.employee_id, ReportReminder.kind,
                ReportReminder.recipient_user_id)
    rows = session.execute(stmt, [
        {"id": uuid7(), "created_at": utcnow(), "employee_id": emp.id, "report_date": day,
         "kind": kind, "recipient_user_id": to} for emp, kind, to in wanted])
    return {(e, k, to) for e, k, to in rows}


def _message(emp: Employee, kind: str, to: uuid.UUID, day: date, deadline: str) -> Message:
    if kind == "remind":
        return Message(
            user_id=to, kind="report.remind",
            text=N_("Your daily report for %(date)s was due at %(deadline)s. "
                    "Please file it now."),
            params={"date": day.isoformat(), "deadline": deadline},
            dedupe_key=f"remind:{emp.id}:{day}", link="/reports/today")
    return Message(
        user_id=to, kind="report.escalate",
        text=N_("%(name)s (%(department)s) has missed the daily report deadline "
                "twice in a row (%(date)s)."),
        params={"name": emp.listed_name, "department": emp.department.name,
                "date": day.isoformat()},
        dedupe_key=f"escalate:{emp.id}:{day}:{to}", link="/reports/dashboard")


def run(*, session: Session, rt: Runtime, now: datetime | None = None) -> RunStats:
    """Remind everyone past today's deadline without a report; escalate second misses.

    A constant number of statements per enterprise past its deadline (overdue staff with
    person and department joined, yesterday's misses, their heads, the claims), none
    per employee; nothing leaves the process here.
    """
    now = now or utcnow()
    day = local_today(now)
    in_app = InAppNotifier(session)
    # The gateway copy, when a gateway is configured, is an outbox row sent after commit.
    hook = WebhookOutboxNotifier(session) if rt.settings.notify_webhook_url else None
    stats = RunStats()
    for ent in session.scalars(select(Enterprise).order_by(Enterprise.credit_code)):
        if now < deadline_for(ent.report_deadline, day):
            continue
        stats.enterprises += 1
        late_people = overdue_employees(session=session, enterprise_id=ent.id, day=day)
        stats.overdue += len(late_people)
        repeat = missed(session=session, employee_ids=[e.id for e in late_people],
                        day=day - timedelta(days=1))
        heads = department_heads(session=session, department_ids={
            e.department_id for e in late_people if e.id in repeat})
        wanted: list[Wanted] = [(e, "remind", e.user_id) for e in late_people
                                if e.user_id is not None]
        wanted += [(e, "escalate", head) for e in late_people if e.id in repeat
                   for head in heads[e.department_id]]
        won = _claim(session, day, wanted)
        stats.skipped_already_sent += len(wanted) - len(won)
        deadline = ent.report_deadline.strftime("%H:%M")
        messages = [_message(emp, kind, to, day, deadline) for emp, kind, to in wanted
                    if (emp.id, kind, to) in won]
        in_app.send_many(messages)
        if hook is not None:
            hook.send_many(messages)
        stats.escalated += sum(m.kind == "report.escalate" for m in messages)
        stats.reminded += sum(m.kind == "report.remind" for m in messages)
    stats.queued = hook.queued if hook is not None else 0
    session.flush()
    if stats.reminded or stats.escalated:
        audit_service.record(session=session, actor=None, action="report.remind",
                             resource_type="daily_report", resource_id=day.isoformat(),
                             detail={"reminded": stats.reminded, "escalated": stats.escalated,
                                     "queued": stats.queued})
    return stats
