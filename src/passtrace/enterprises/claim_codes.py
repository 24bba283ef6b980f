"""An employer's HR hands its current employees claim codes, so each can link their own
account; an unlinked account loses the employer links it made."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from passtrace.accounts.binding import issue_claim_code
from passtrace.core.errors import InvalidState
from passtrace.core.runtime import Runtime
from passtrace.core.security import Principal
from passtrace.enterprises import service as enterprise_service
from passtrace.enterprises.models import Employee, Enterprise


def issue_for_employee(*, session: Session, rt: Runtime, actor: Principal,
                       enterprise_id: uuid.UUID, employee_id: uuid.UUID) -> tuple[str, datetime]:
    """An employer's HR gives one of its current employees a claim code."""
    e = enterprise_service.get_managed(session=session, actor=actor, enterprise_id=enterprise_id)
    emp = enterprise_service.get_employee(session=session, actor=actor, e=e,
                                          employee_id=employee_id)
    if emp.status != "active":
        raise InvalidState("This employee already left.")
    return issue_claim_code(session, rt, actor, emp.person_id, "enterprise", e.id)


def employer_areas(session: Session, person_id: uuid.UUID) -> Iterable[str]:
    """The areas of the enterprises a person is on the staff list of."""
    return session.scalars(select(Enterprise.area_code).join(
        Employee, Employee.enterprise_id == Enterprise.id).where(Employee.person_id == person_id))


def drop_employee_links(session: Session, user_id: uuid.UUID) -> None:
    """An unlinked account's employer links were made through the wrong binding too."""
    session.execute(update(Employee).where(Employee.user_id == user_id)
                    .values(user_id=None).execution_options(synchronize_session=False))
