"""Enterprises: invite links that let an employee link their account to the staff list."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from passtrace.audit import service as audit_service
from passtrace.core.clock import utcnow
from passtrace.core.db import locked
from passtrace.core.errors import Forbidden, InvalidState, NotFound
from passtrace.core.security import Principal, new_token, token_digest
from passtrace.enterprises import authz
from passtrace.enterprises.models import Employee, Enterprise
from passtrace.enterprises.service import get_employee

INVITE_DAYS = 7


# --- invites --------------------------------------------------------------------------------

def create_invite(*, session: Session, actor: Principal, e: Enterprise,
                  employee_id: uuid.UUID) -> tuple[Employee, str]:
    """Make a new invite link for an employee; returns the token (stored only hashed)."""
    if not authz.can_manage(actor, e):
        raise Forbidden("Only the enterprise's administrators may do this.")
    emp = get_employee(session=session, actor=actor, e=e, employee_id=employee_id)
    # Race: see accept_invite; re-issuing reads user_id, which an accept may be setting.
    emp = locked(session, Employee, emp.id) or emp
    if emp.status != "active":
        raise InvalidState("This employee already left.")
    if emp.user_id is not None:
        raise InvalidState("This employee already linked their account.")
    token = new_token()
    emp.invite_hash = token_digest(token)
    emp.invite_expires_at = utcnow() + timedelta(days=INVITE_DAYS)
    session.flush()
    audit_service.record(session=session, actor=actor, action="employee.invite",
                         resource_type="employee", resource_id=emp.id,
                         subject_person_id=emp.person_id,
                         detail={"expires_at": emp.invite_expires_at.isoformat()})
    return emp, token


def find_invite(*, session: Session, token: str) -> Employee:
    """Find the employee an unexpired invite token belongs to."""
    emp = session.scalar(select(Employee).where(Employee.invite_hash == token_digest(token)))
    if (emp is None or emp.status != "active" or emp.invite_expires_at is None
            or emp.invite_expires_at <= utcnow()):
        raise NotFound("This invite link is not valid or has expired; ask your employer "
                       "for a new one.")
    return emp


class InviteRefused(Forbidden):
    """The invite belongs to another person; the refusal itself is audited."""


@dataclass
class Acceptance:
    """What accepting an invite did: the employee, and the refusal if it was refused."""

    employee: Employee
    # Set when the invite was someone else's: nothing was bound, the attempt is in the
    # audit log. Returned rather than raised, because a raised error rolls back the
    # request's transaction and the audit entry with it.
    refused: InviteRefused | None = None


def accept_invite(*, session: Session, actor: Principal, token: str) -> Acceptance:
    """Bind the actor's account to the employee the invite was made for.

    Only the same person may accept: the account's person id must equal the
    employee's. A refusal is recorded in the audit log and returned (see
    Acceptance.refused), so it commits with the request like any other change;
    the invite stays usable for its owner.
    """
    emp = find_invite(session=session, token=token)
    if actor.person_id is None:
        raise InvalidState("Link your ID number to your account before accepting an invite.")
    if actor.person_id != emp.person_id:
        audit_service.record(session=session, actor=actor, action="employee.bind_refused",
                             resource_type="employee", resource_id=emp.id,
                             subject_person_id=emp.person_id,
                             detail={"account_person": str(actor.person_id)})
        return Acceptance(emp, InviteRefused(
            "This invite was made for someone else. Log in with the account registered "
            "with your own ID number."))
    # Race: an accept at the same moment as the admin re-issuing the invite or marking
    # the employee as left would bind a left employee, or leave a fresh invite on an
    # already linked one. The row is held and the invite checked again after the lock.
    locked_emp = locked(session, Employee, emp.id)
    if (locked_emp is None or locked_emp.invite_hash != token_digest(token)
            or locked_emp.status != "active"):
        raise NotFound("This invite link is not valid or has expired; ask your employer "
                       "for a new one.")
    emp = locked_emp
    emp.user_id = actor.user_id
    emp.invite_hash, emp.invite_expires_at = None, None
    session.flush()
    audit_service.record(session=session, actor=actor, action="employee.bind",
                         resource_type="employee", resource_id=emp.id,
                         subject_person_id=emp.person_id,
                         detail={"enterprise": str(emp.enterprise_id)})
    return Acceptance(emp)


