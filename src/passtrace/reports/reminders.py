"""The reminders job: remind overdue employees, escalate repeat misses, never twice.

It only writes rows (reminder records, in-app notices, outbox messages for the gateway)
and returns: the job runner sends the gateway copies after this transaction commits.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, String, cast, exists, func, select, type_coerce
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql import Subquery

from passtrace.accounts.models import RoleBinding
from passtrace.audit import service as audit_service
from passtrace.audit import shaped as audit_shaped
from passtrace.core.clock import local_today, utcnow
from passtrace.core.db import dialect_insert
from passtrace.core.i18n import N_
from passtrace.core.ids import uuid7
from passtrace.core.runtime import Runtime
from passtrace.enterprises.models import Employee, Enterprise
from passtrace.notices.service import InAppNotifier, Message, WebhookOutboxNotifier
from passtrace.reports.models import DailyReport, ReportReminder
from passtrace.reports.service import deadline_for

CHUNK = 500  # employees read back per statement
ESCALATION_SHAPE = audit_shaped.Shape(action="report.missed_notice", resource_type="employee")


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


def no_report_on(day: date, enterprise_id: uuid.UUID) -> ColumnElement[bool]:
    """Condition on Employee: no report filed for `day`.

    NOT IN, not NOT EXISTS: PostgreSQL reads the day's reports once into a hash
    (ix_daily_reports_enterprise_date) whatever its statistics say. With NOT EXISTS,
    statistics gathered before today (they always are) promise ~1 report today and
    it picks a nested loop comparing every employee with every report of the day.
    A report with an enterprise has an employee, so NOT IN has no NULL surprise.
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


def department_heads(*, session: Session) -> dict[uuid.UUID, list[uuid.UUID]]:
    """The users who head each department that has a head (one query: a few per
    department, however many employees are late)."""
    heads: dict[uuid.UUID, list[uuid.UUID]] = {}
    rows = session.execute(select(RoleBinding.scope_value, RoleBinding.user_id).where(
        RoleBinding.role == "department_head", RoleBinding.scope_type == "department")
        .order_by(RoleBinding.user_id))
    for dept, user_id in rows:
        # A grant does not check its scope value: one that names no department id (typed
        # by hand) heads nothing, and must not stop the job for everyone else.
        try:
            dept_id = uuid.UUID(dept)
        except ValueError:
            continue
        heads.setdefault(dept_id, []).append(user_id)
    return heads


Wanted = tuple[uuid.UUID, str, uuid.UUID]  # (employee, remind | escalate, recipient)


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
        {"id": uuid7(), "created_at": utcnow(), "employee_id": emp, "report_date": day,
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


def _late(day: date, enterprise_ids: list[uuid.UUID] | None) -> Subquery:
    """The active employees without a report for `day` (id, account, department), of
    these enterprises (None: of every enterprise). NOT IN, as no_report_on says why;
    an imported report has no employee (NULL), and one NULL in the list would make NOT IN
    true of nobody, so the list leaves them out (an enterprise filter alone does too)."""
    reports = select(DailyReport.employee_id).where(DailyReport.report_date == day,
                                                    DailyReport.employee_id.is_not(None))
    stmt = select(Employee.id, Employee.user_id, Employee.department_id).where(
        Employee.status == "active")
    if enterprise_ids is not None:
        reports = reports.where(DailyReport.enterprise_id.in_(enterprise_ids))
        stmt = stmt.where(Employee.enterprise_id.in_(enterprise_ids))
    return stmt.where(Employee.id.not_in(reports)).subquery("late")


def _missed(late: Any, day: date) -> ColumnElement[bool]:
    """`late`'s employee filed no on-time report for `day` (missed() in SQL)."""
    return ~exists().where(DailyReport.employee_id == late.c.id,
                           DailyReport.report_date == day, DailyReport.late.is_(False))


def _claims(employee_id: Any, day: date, kind: str) -> Select[Any]:
    return select(ReportReminder.id).where(ReportReminder.employee_id == employee_id,
                                           ReportReminder.report_date == day,
                                           ReportReminder.kind == kind)


def _uuid_text(session: Session, column: Any) -> ColumnElement[str]:
    """A uuid column as str(uuid) writes it (how a binding's scope_value names it):
    PostgreSQL casts; SQLite keeps the 32 hex digits, which get their dashes back."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(column, String)
    h = type_coerce(column, String)
    return func.lower(func.substr(h, 1, 8) + "-" + func.substr(h, 9, 4) + "-"
                      + func.substr(h, 13, 4) + "-" + func.substr(h, 17, 4) + "-"
                      + func.substr(h, 21, 12))


def _wanted(session: Session, day: date, enterprise_ids: list[uuid.UUID] | None
            ) -> tuple[int, int, list[Wanted]]:
    """(overdue, reminders due this run, the ones not sent yet) for the enterprises past
    their deadline: a fixed number of statements, and only what is left to send comes
    back. A re-run (the runner's, every few minutes, with tens of thousands overdue in a
    city) reads counts and an empty list, not every overdue employee: it loaded each one
    with its claim and department for 6-7 s of the server's CPU a run on the tracing
    benchmark's 42,000 employees, and slowed every request meanwhile."""
    late = _late(day, enterprise_ids)
    overdue, with_account = session.execute(
        select(func.count(), func.count(late.c.user_id))).one()
    # Escalations go to each head of a repeat misser's department: the heads (a few per
    # department, read whole), then the repeat missers per department, counted.
    heads = department_heads(session=session)
    due = with_account
    if heads:
        repeat = session.execute(
            select(late.c.department_id, func.count())
            .where(_missed(late, day - timedelta(days=1))).group_by(late.c.department_id)).all()
        due += sum(n * len(heads.get(dept, ())) for dept, n in repeat)
    # What no earlier run claimed. The reminder: its employee's account has no claim for
    # the day. An escalation: fewer claims by its department's current heads than the
    # most heads any department has (a prefilter: _claim's ON CONFLICT keeps it exact
    # when a department has fewer heads).
    wanted: list[Wanted] = [
        (emp, "remind", user) for emp, user in session.execute(
            select(late.c.id, late.c.user_id).where(
                late.c.user_id.is_not(None),
                ~exists(_claims(late.c.id, day, "remind").where(
                    ReportReminder.recipient_user_id == late.c.user_id))))]
    if heads:
        # Only the claims of the department's current heads count: a head who handed
        # over, or the head of the department an employee left, keeps a claim that must
        # not stand for the successor's (their own index, by user, finds their bindings).
        most = max(len(h) for h in heads.values())
        by_a_head = exists().where(
            RoleBinding.user_id == ReportReminder.recipient_user_id,
            RoleBinding.role == "department_head", RoleBinding.scope_type == "department",
            RoleBinding.scope_value == _uuid_text(session, late.c.department_id),
        ).correlate_except(RoleBinding)
        claimed = (_claims(late.c.id, day, "escalate").where(by_a_head)
                   .with_only_columns(func.count(ReportReminder.id)).scalar_subquery())
        wanted += [(emp, "escalate", head) for emp, dept in session.execute(
            select(late.c.id, late.c.department_id).where(
                late.c.department_id.in_(list(heads)), _missed(late, day - timedelta(days=1)),
                claimed < most)) for head in heads[dept]]
    return overdue, due, wanted


def _employees(session: Session, ids: set[uuid.UUID]) -> dict[uuid.UUID, Employee]:
    """These employees with what their messages name (HR's listing, the department)."""
    out: dict[uuid.UUID, Employee] = {}
    wanted = sorted(ids)
    for i in range(0, len(wanted), CHUNK):
        out.update((e.id, e) for e in session.scalars(
            select(Employee).where(Employee.id.in_(wanted[i:i + CHUNK]))
            .options(selectinload(Employee.hr_claim), selectinload(Employee.department))))
    return out


def run(*, session: Session, rt: Runtime, now: datetime | None = None) -> RunStats:
    """Remind everyone past today's deadline without a report; escalate second misses.

    A fixed number of statements whatever the number of enterprises and employees
    (`_wanted`); only the reminders this run claims are read back as employees; nothing
    leaves the process here.
    """
    now = now or utcnow()
    day = local_today(now)
    stats = RunStats()
    enterprises = list(session.scalars(select(Enterprise)))
    due = {e.id: e for e in enterprises if now >= deadline_for(e.report_deadline, day)}
    stats.enterprises = len(due)
    if not due:
        return stats
    overdue, owed, wanted = _wanted(
        session, day, None if len(due) == len(enterprises) else sorted(due))
    stats.overdue = overdue
    won = _claim(session, day, wanted)
    stats.skipped_already_sent = owed - len(won)
    staff = _employees(session, {emp for emp, _, _ in won})
    # In the order the officials read them: by enterprise, reminders before escalations,
    # then by department and staff number (a head's escalations by head).
    order = sorted(won, key=lambda w: (
        due[staff[w[0]].enterprise_id].credit_code, w[1] == "escalate",
        staff[w[0]].department_id, staff[w[0]].employee_no, w[2]))
    messages = [_message(staff[emp], kind, to, day,
                         due[staff[emp].enterprise_id].report_deadline.strftime("%H:%M"))
                for emp, kind, to in order]
    InAppNotifier(session).send_many(messages)
    # The gateway copy, when a gateway is configured, is an outbox row sent after commit.
    if rt.settings.notify_webhook_url:
        hook = WebhookOutboxNotifier(session)
        hook.send_many(messages)
        stats.queued = hook.queued
    stats.escalated = sum(m.kind == "report.escalate" for m in messages)
    # An escalation names the employee (HR's listing) to their department's heads: the
    # employee finds it in their access log, once however many heads were told.
    told = {emp: staff[emp].person_id for emp, kind, _ in order if kind == "escalate"}
    if told:
        audit_shaped.record_shaped(session=session, actor=None, shapes=[ESCALATION_SHAPE],
                                   entries=[(0, emp, pid) for emp, pid in told.items()])
    stats.reminded = sum(m.kind == "report.remind" for m in messages)
    session.flush()
    if stats.reminded or stats.escalated:
        audit_service.record(session=session, actor=None, action="report.remind",
                             resource_type="daily_report", resource_id=day.isoformat(),
                             detail={"reminded": stats.reminded, "escalated": stats.escalated,
                                     "queued": stats.queued})
    return stats
