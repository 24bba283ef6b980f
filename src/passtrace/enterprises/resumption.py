"""Enterprises: resumption of work (apply, review) and the commute passes it allows."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from passtrace.audit import service as audit_service
from passtrace.core.areacodes import significant_prefix
from passtrace.core.clock import local_midnight, local_today, utcnow
from passtrace.core.db import lock_row, locked
from passtrace.core.errors import (
    Conflict,
    Forbidden,
    InvalidState,
    NotFound,
    ValidationFailed,
)
from passtrace.core.i18n import N_
from passtrace.core.ids import uuid7
from passtrace.core.pii import mask_name, mask_phone
from passtrace.core.runtime import Runtime
from passtrace.core.security import Principal
from passtrace.core.validators import InvalidValue, validate_phone
from passtrace.enterprises import authz
from passtrace.enterprises.models import Employee, Enterprise, ResumptionApplication
from passtrace.enterprises.schemas import ResumptionCreate
from passtrace.enterprises.service import chunks, departments
from passtrace.passes import keyring
from passtrace.passes import service as pass_service
from passtrace.passes.models import Pass
from passtrace.people import service as people_service

# --- resumption of work ---------------------------------------------------------------------

def resumptions_of(*, session: Session, actor: Principal, e: Enterprise,
                   limit: int = 20) -> list[ResumptionApplication]:
    """List an enterprise's applications, newest first (admins and area officials)."""
    if not authz.sees_all_staff(actor, e):
        raise NotFound("No such application.")
    return list(session.scalars(select(ResumptionApplication).where(
        ResumptionApplication.enterprise_id == e.id).order_by(
        ResumptionApplication.id.desc()).limit(limit)))


def get_resumption(*, session: Session, actor: Principal, resumption_id: uuid.UUID,
                   for_update: bool = False) -> tuple[ResumptionApplication, Enterprise]:
    """Get an application the actor may see, with its enterprise."""
    r = session.get(ResumptionApplication, resumption_id, with_for_update=for_update)
    e = session.get(Enterprise, r.enterprise_id) if r is not None else None
    if r is None or e is None or not authz.sees_all_staff(actor, e):
        raise NotFound("No such application.")
    return r, e


def apply_resumption(*, session: Session, rt: Runtime, actor: Principal, e: Enterprise,
                     data: ResumptionCreate) -> ResumptionApplication:
    """Apply to resume work on a date, with returning headcount per department."""
    if not authz.can_manage(actor, e):
        raise Forbidden("Only the enterprise's administrators may do this.")
    fields: dict[str, str] = {}
    if data.planned_date < local_today():
        fields["planned_date"] = N_("The planned date cannot be in the past.")
    staff = {d.id: (d, n) for d, n in departments(session=session, actor=actor, e=e)}
    unknown = [k for k in data.headcount if k not in staff]
    over = [str(staff[k][0].name) for k, v in data.headcount.items()
            if k in staff and v > staff[k][1]]
    if unknown:
        fields["headcount"] = N_("Choose departments of this enterprise.")
    elif over:
        fields["headcount"] = N_("More returning staff than on the staff list of "
                                 "%(department)s.")
    elif sum(data.headcount.values()) < 1:
        fields["headcount"] = N_("At least one person must be returning.")
    measures = data.measures.strip()
    if len(measures) < 10:
        fields["measures"] = N_("Describe the prevention measures (at least 10 characters).")
    try:
        contact = people_service.clean_name(data.contact_name)
    except ValidationFailed:
        fields["contact_name"] = N_("Please enter the contact person's name (1-40 characters).")
        contact = ""
    try:
        phone = validate_phone(data.contact_phone)
    except InvalidValue as exc:
        fields["contact_phone"] = exc.message
        phone = ""
    if fields:
        raise ValidationFailed(next(iter(fields.values())), fields=fields,
                               department="、".join(over))
    # Race: two admins applying at once both found no pending application and both
    # filed one. The enterprise's row is held until commit, so the second one sees
    # the first's application and is told one is already waiting.
    lock_row(session, Enterprise, e.id)
    if session.scalar(select(ResumptionApplication.id).where(
            ResumptionApplication.enterprise_id == e.id,
            ResumptionApplication.status == "pending")):
        raise Conflict("An application is already waiting for a decision.")
    row = {"id": uuid7()}
    r = ResumptionApplication(
        id=row["id"], enterprise_id=e.id, applicant_user_id=actor.user_id,
        planned_date=data.planned_date,
        headcount={str(k): v for k, v in data.headcount.items() if v > 0}, measures=measures,
        contact_name_enc=rt.vault.encrypt(
            contact, ad=ResumptionApplication.pii_ad_for("contact_name_enc", row)),
        contact_name_masked=mask_name(contact),
        contact_phone_enc=rt.vault.encrypt(
            phone, ad=ResumptionApplication.pii_ad_for("contact_phone_enc", row)),
        contact_phone_masked=mask_phone(phone),
        status="pending", decision_reasons=[], passes_issued={})
    session.add(r)
    session.flush()
    audit_service.record(session=session, actor=actor, action="resumption.apply",
                         resource_type="resumption", resource_id=r.id,
                         detail={"enterprise": str(e.id),
                                 "planned_date": data.planned_date.isoformat(),
                                 "headcount": sum(r.headcount.values())})
    return r


def _pending(session: Session, actor: Principal,
             resumption_id: uuid.UUID) -> tuple[ResumptionApplication, Enterprise]:
    # Race: two officials deciding at once (approve and return) would both see
    # "pending"; the row lock makes the second see the first's decision (409).
    r, e = get_resumption(session=session, actor=actor, resumption_id=resumption_id,
                          for_update=True)
    if not authz.can_review_resumption(actor, e):
        raise Forbidden("Only an official responsible for the enterprise's area may decide.")
    if r.status != "pending":
        raise InvalidState("This application was already decided.")
    return r, e


def approve_resumption(*, session: Session, actor: Principal,
                       resumption_id: uuid.UUID) -> tuple[ResumptionApplication, Enterprise]:
    """Approve: the enterprise may resume on the planned date and request commute passes."""
    r, e = _pending(session, actor, resumption_id)
    r.status, r.decided_by, r.decided_at, r.decision_reasons = (
        "approved", actor.user_id, utcnow(), [])
    e.resumed_on = r.planned_date
    session.flush()
    audit_service.record(session=session, actor=actor, action="resumption.approve",
                         resource_type="resumption", resource_id=r.id,
                         detail={"enterprise": str(e.id),
                                 "resumed_on": r.planned_date.isoformat()})
    return r, e


def return_resumption(*, session: Session, actor: Principal, resumption_id: uuid.UUID,
                      reasons: list[str]) -> tuple[ResumptionApplication, Enterprise]:
    """Send an application back with the reasons to fix."""
    clean = [" ".join(x.split()) for x in reasons]
    clean = [x for x in clean if x]
    if not clean or any(len(x) < 2 for x in clean):
        raise ValidationFailed("Give at least one reason (2 characters or more each).",
                               fields={"reasons": N_("Give at least one reason "
                                                     "(2 characters or more each).")})
    r, e = _pending(session, actor, resumption_id)
    r.status, r.decided_by, r.decided_at, r.decision_reasons = (
        "returned", actor.user_id, utcnow(), clean)
    session.flush()
    audit_service.record(session=session, actor=actor, action="resumption.return",
                         resource_type="resumption", resource_id=r.id,
                         reason="; ".join(clean), detail={"enterprise": str(e.id)})
    return r, e


def withdraw_resumption(*, session: Session, actor: Principal,
                        resumption_id: uuid.UUID) -> tuple[ResumptionApplication, Enterprise]:
    """The enterprise withdraws its pending application."""
    r, e = get_resumption(session=session, actor=actor, resumption_id=resumption_id,
                          for_update=True)
    if not authz.can_manage(actor, e):
        raise Forbidden("Only the enterprise's administrators may do this.")
    if r.status != "pending":
        raise InvalidState("This application was already decided.")
    r.status = "withdrawn"
    session.flush()
    audit_service.record(session=session, actor=actor, action="resumption.withdraw",
                         resource_type="resumption", resource_id=r.id)
    return r, e


def _queue_stmt(actor: Principal,
                status: str | None) -> Select[ResumptionApplication, Enterprise]:
    scopes = actor.area_scopes("resumption.review")
    if scopes is not None and not scopes:
        raise Forbidden("Your account has no jurisdiction over enterprises.")
    stmt = select(ResumptionApplication, Enterprise).join(
        Enterprise, Enterprise.id == ResumptionApplication.enterprise_id)
    if scopes is not None:
        stmt = stmt.where(or_(*[Enterprise.area_code.startswith(s, autoescape=True)
                                for s in scopes]))
    if status:
        stmt = stmt.where(ResumptionApplication.status == status)
    return stmt


def review_queue(*, session: Session, actor: Principal, status: str | None = "pending",
                 limit: int = 200) -> list[tuple[ResumptionApplication, Enterprise]]:
    """List applications in the actor's area, oldest pending first."""
    stmt = _queue_stmt(actor, status).order_by(ResumptionApplication.id).limit(limit)
    return [(r, e) for r, e in session.execute(stmt).all()]


def count_pending(*, session: Session, actor: Principal) -> int:
    """Count pending applications in the actor's area (0 without jurisdiction)."""
    if actor.area_scopes("resumption.review") == []:
        return 0
    stmt = _queue_stmt(actor, "pending")
    return session.scalar(select(func.count()).select_from(stmt.subquery())) or 0


# --- commute passes -------------------------------------------------------------------------

@dataclass
class CommuteResult:
    """What a bulk commute-pass request did."""

    created: list[Pass]
    skipped: int


def approved_resumption(*, session: Session, e: Enterprise) -> ResumptionApplication | None:
    """Return the enterprise's latest approved application, if any."""
    return session.scalar(select(ResumptionApplication).where(
        ResumptionApplication.enterprise_id == e.id,
        ResumptionApplication.status == "approved").order_by(
        ResumptionApplication.id.desc()).limit(1))


def request_commute_passes(*, session: Session, rt: Runtime, actor: Principal, e: Enterprise,
                           employee_ids: list[uuid.UUID], valid_from: datetime,
                           valid_until: datetime) -> CommuteResult:
    """Issue commute passes for returning staff after an approved resumption.

    The passes are created already approved and signed, in the name of the
    official who approved the resumption, not sent through the review queue
    one by one. That official reviewed exactly what these passes carry: the
    enterprise, its area, the date work resumes and how many people return
    from each department. The enterprise cannot go beyond that decision: the
    purpose is always "commute", the only area is the enterprise's own, the
    window starts no earlier than the approved date and follows the normal
    pass rules (at most pass_max_days long), and each department gets at most
    the approved headcount of passes. Anything outside those bounds is refused
    here; an employee who needs more applies for an ordinary pass, which goes
    through the queue. Every pass is audited with both the requester (actor)
    and the approving official, and appears in the holder's access log; the
    official can revoke any of them as usual.
    Staff who already hold a valid commute pass overlapping the window are
    skipped, so a repeated request does not double-issue.
    """
    if not authz.can_manage(actor, e):
        raise Forbidden("Only the enterprise's administrators may do this.")
    r = approved_resumption(session=session, e=e)
    if r is not None:
        # Race: two bulk requests at once both read passes_issued before either wrote
        # it, and each issued up to the full headcount (4 passes for 2 approved). The
        # application's row is held until commit, so the second request counts the
        # first one's passes (and skips staff who now hold one).
        r = locked(session, ResumptionApplication, r.id)
    if r is None or r.status != "approved" or r.decided_by is None:
        raise InvalidState("Commute passes can be requested once the resumption of work "
                           "is approved.")
    if valid_from.tzinfo is None or valid_until.tzinfo is None:
        raise ValidationFailed("Times need a time zone (e.g. +08:00).")
    now = utcnow()
    earliest = local_midnight(r.planned_date)
    fields: dict[str, str] = {}
    max_days = rt.settings.pass_max_days
    if valid_until <= valid_from:
        fields["valid_until"] = N_("The end of the validity window must be after its start.")
    elif valid_until - valid_from > timedelta(days=max_days):
        fields["valid_until"] = N_("A pass may be valid for at most %(days)s days.")
    elif valid_until <= now:
        fields["valid_until"] = N_("The validity window is already over.")
    if valid_from < earliest:
        fields["valid_from"] = N_("Commute passes start on the approved date of resumption "
                                  "(%(date)s) or later.")
    elif valid_from < now - timedelta(days=1):
        fields["valid_from"] = N_("The validity window cannot start more than a day ago.")
    if fields:
        raise ValidationFailed(next(iter(fields.values())), fields=fields, days=max_days,
                               date=r.planned_date.isoformat())
    wanted = list(dict.fromkeys(employee_ids))
    staff: list[Employee] = []
    for chunk in chunks(wanted):
        staff += list(session.scalars(select(Employee).where(
            Employee.enterprise_id == e.id, Employee.status == "active",
            Employee.id.in_(chunk))))
    if len(staff) != len(wanted):
        raise ValidationFailed("Some of the chosen people are not on the active staff list.",
                               fields={"employee_ids": N_("Some of the chosen people are not "
                                                          "on the active staff list.")})
    if any(emp.user_id is None for emp in staff):
        # A signed pass speaks for a person: only for staff who linked their own, proofed
        # account (an invite accepted), never for a name HR typed.
        msg = N_("Commute passes are only for employees who linked their own account; send "
                 "the others an invite first.")
        raise ValidationFailed(msg, fields={"employee_ids": msg})
    holding: set[uuid.UUID] = set()
    for chunk in chunks([emp.person_id for emp in staff]):
        holding.update(session.scalars(select(Pass.person_id).where(
            Pass.person_id.in_(chunk), Pass.purpose == "commute",
            Pass.status.in_(("pending", "approved")), Pass.valid_from < valid_until,
            Pass.valid_until > valid_from)))
    todo = [emp for emp in staff if emp.person_id not in holding]
    per_dept: dict[str, int] = {}
    for emp in todo:
        per_dept[str(emp.department_id)] = per_dept.get(str(emp.department_id), 0) + 1
    names = {d.id: d.name for d, _ in departments(session=session, actor=actor, e=e)}
    for dept, n in per_dept.items():
        allowed = r.headcount.get(dept, 0) - r.passes_issued.get(dept, 0)
        if n > allowed:
            raise ValidationFailed(
                "The approved headcount for %(department)s allows %(allowed)s more "
                "commute passes; %(wanted)s were chosen.",
                department=names.get(uuid.UUID(dept), dept), allowed=max(allowed, 0),
                wanted=n)
    key = keyring.current_signer(session=session, vault=rt.vault)
    area = [e.area_code]
    created: list[Pass] = []
    for emp in todo:
        p = Pass(id=uuid7(), person_id=emp.person_id, applicant_user_id=actor.user_id,
                 purpose="commute", reason=f"复工复产 / resumption of work: {e.name}",
                 valid_from=valid_from, valid_until=valid_until, areas=area, sites=[],
                 plate=None, companions=0, area_prefix=significant_prefix(e.area_code),
                 status="approved", decided_by=r.decided_by, decided_at=now,
                 decision_reason=f"复工复产审批 / resumption approved ({r.planned_date})")
        p.person = emp.person
        pass_service.sign(session=session, rt=rt, p=p, key=key)
        created.append(p)
    session.add_all(created)
    session.flush()
    r.passes_issued = {k: r.passes_issued.get(k, 0) + per_dept.get(k, 0)
                       for k in set(r.passes_issued) | set(per_dept)}
    session.flush()
    audit_service.record_many(session=session, actor=actor, entries=[
        {"action": "pass.issue", "resource_type": "pass", "resource_id": p.id,
         "subject_person_id": p.person_id,
         "detail": {"resumption": str(r.id), "approved_by": str(r.decided_by),
                    "purpose": "commute", "areas": area}} for p in created])
    return CommuteResult(created=created, skipped=len(staff) - len(todo))
