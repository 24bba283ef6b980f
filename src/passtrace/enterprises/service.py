"""Enterprises: registration, departments and staff."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session, selectinload

from passtrace.areas import service as area_service
from passtrace.audit import service as audit_service
from passtrace.core.errors import (
    Conflict,
    Forbidden,
    InvalidState,
    NotFound,
    ValidationFailed,
)
from passtrace.core.i18n import N_
from passtrace.core.pagination import paginate_query
from passtrace.core.runtime import Runtime
from passtrace.core.security import Principal
from passtrace.core.validators import InvalidValue, validate_credit_code
from passtrace.enterprises import authz
from passtrace.enterprises.models import Department, Employee, Enterprise
from passtrace.enterprises.schemas import EmployeeCreate, EnterpriseCreate
from passtrace.people import service as people_service
from passtrace.people.models import PersonClaim

_CHUNK = 500


def chunks(values: list[Any]) -> list[list[Any]]:
    """Split values into lists short enough for one IN (...) query."""
    return [values[i:i + _CHUNK] for i in range(0, len(values), _CHUNK)]


# --- enterprises ----------------------------------------------------------------------------

def register(*, session: Session, actor: Principal, data: EnterpriseCreate) -> Enterprise:
    """Register an enterprise in an area the actor is responsible for."""
    fields: dict[str, str] = {}
    try:
        code = validate_credit_code(data.credit_code)
    except InvalidValue as exc:
        fields["credit_code"] = exc.message
    name = " ".join(data.name.split())
    if len(name) < 2:
        fields["name"] = N_("Enter the enterprise's registered name.")
    if fields:
        raise ValidationFailed(next(iter(fields.values())), fields=fields)
    area = area_service.get(session=session, code=data.area_code)
    if area is None:
        raise ValidationFailed("Unknown area code %(area)s.", area=data.area_code,
                               fields={"area_code": N_("Unknown area code %(area)s.")})
    if not actor.covers_area("enterprise.register", area.code):
        raise Forbidden("You may register enterprises only in your own area.")
    if session.scalar(select(Enterprise.id).where(Enterprise.credit_code == code)):
        raise Conflict("An enterprise with the credit code %(credit_code)s is already "
                       "registered.", credit_code=code,
                       fields={"credit_code": N_("An enterprise with the credit code "
                                                 "%(credit_code)s is already registered.")})
    e = Enterprise(credit_code=code, name=name, area_code=area.code,
                   address=" ".join(data.address.split()), report_deadline=data.report_deadline)
    session.add(e)
    session.flush()
    audit_service.record(session=session, actor=actor, action="enterprise.register",
                         resource_type="enterprise", resource_id=e.id,
                         detail={"credit_code": code, "area": area.code})
    return e


def get_visible(*, session: Session, actor: Principal, enterprise_id: uuid.UUID) -> Enterprise:
    """Get an enterprise the actor may see; others get 'not found'."""
    e = session.get(Enterprise, enterprise_id)
    if e is None:
        raise NotFound("No such enterprise.")
    if authz.sees_all_staff(actor, e):
        return e
    heads = authz.headed_departments(actor)
    if heads and session.scalar(select(Department.id).where(
            Department.enterprise_id == e.id, Department.id.in_(heads)).limit(1)):
        return e
    raise NotFound("No such enterprise.")


def get_managed(*, session: Session, actor: Principal, enterprise_id: uuid.UUID) -> Enterprise:
    """Get an enterprise the actor runs; viewers who may not change it get 'forbidden'."""
    e = get_visible(session=session, actor=actor, enterprise_id=enterprise_id)
    if not authz.can_manage(actor, e):
        raise Forbidden("Only the enterprise's administrators may do this.")
    return e


def _visible_filter(actor: Principal) -> Any:
    scopes = actor.area_scopes("enterprise.view")
    if scopes is None:
        return None
    conds: list[Any] = [Enterprise.area_code.startswith(s, autoescape=True) for s in scopes]
    codes = [b.scope_value for b in actor.bindings
             if b.scope_type == "enterprise" and actor.covers("enterprise.manage", "enterprise",
                                                               b.scope_value)]
    if codes:
        conds.append(Enterprise.credit_code.in_(codes))
    heads = authz.headed_departments(actor)
    if heads:
        conds.append(Enterprise.id.in_(select(Department.enterprise_id)
                                       .where(Department.id.in_(heads))))
    return or_(*conds) if conds else False


def list_visible(*, session: Session, actor: Principal, limit: int = 200) -> list[Enterprise]:
    """List the enterprises the actor may see, by name."""
    stmt = select(Enterprise)
    cond = _visible_filter(actor)
    if cond is False:
        return []
    if cond is not None:
        stmt = stmt.where(cond)
    return list(session.scalars(stmt.order_by(Enterprise.name).limit(limit)))


# --- departments ----------------------------------------------------------------------------

def _clean_department_name(raw: str) -> str:
    name = " ".join(raw.split())
    if not name or len(name) > 80:
        raise ValidationFailed("A department name has 1 to 80 characters.",
                               fields={"name": N_("A department name has 1 to 80 characters.")})
    return name


def departments(*, session: Session, actor: Principal,
                e: Enterprise) -> list[tuple[Department, int]]:
    """List the departments the actor may see, each with its active headcount."""
    rows = list(session.scalars(select(Department).where(Department.enterprise_id == e.id)
                                .order_by(Department.name)))
    visible = authz.visible_department_ids(actor, e, rows)
    counts = dict(session.execute(
        select(Employee.department_id, func.count()).where(
            Employee.enterprise_id == e.id, Employee.status == "active")
        .group_by(Employee.department_id)).all())
    return [(d, counts.get(d.id, 0)) for d in rows if d.id in visible]


def _department(session: Session, e: Enterprise, department_id: uuid.UUID) -> Department:
    d = session.get(Department, department_id)
    if d is None or d.enterprise_id != e.id:
        raise NotFound("No such department.")
    return d


def _name_taken(session: Session, e: Enterprise, name: str) -> None:
    if session.scalar(select(Department.id).where(Department.enterprise_id == e.id,
                                                  Department.name == name)):
        raise Conflict("There is already a department called %(name)s.", name=name,
                       fields={"name": N_("There is already a department called %(name)s.")})


def create_department(*, session: Session, actor: Principal, e: Enterprise,
                      name: str) -> Department:
    """Add a department."""
    if not authz.can_manage(actor, e):
        raise Forbidden("Only the enterprise's administrators may do this.")
    name = _clean_department_name(name)
    _name_taken(session, e, name)
    d = Department(enterprise_id=e.id, name=name)
    session.add(d)
    session.flush()
    audit_service.record(session=session, actor=actor, action="department.create",
                         resource_type="department", resource_id=d.id,
                         detail={"enterprise": str(e.id), "name": name})
    return d


def rename_department(*, session: Session, actor: Principal, e: Enterprise,
                      department_id: uuid.UUID, name: str) -> Department:
    """Rename a department."""
    if not authz.can_manage(actor, e):
        raise Forbidden("Only the enterprise's administrators may do this.")
    d = _department(session, e, department_id)
    name = _clean_department_name(name)
    if name != d.name:
        _name_taken(session, e, name)
        old, d.name = d.name, name
        session.flush()
        audit_service.record(session=session, actor=actor, action="department.rename",
                             resource_type="department", resource_id=d.id,
                             detail={"from": old, "to": name})
    return d


def delete_department(*, session: Session, actor: Principal, e: Enterprise,
                      department_id: uuid.UUID) -> None:
    """Delete an empty department."""
    if not authz.can_manage(actor, e):
        raise Forbidden("Only the enterprise's administrators may do this.")
    d = _department(session, e, department_id)
    if session.scalar(select(Employee.id).where(Employee.department_id == d.id).limit(1)):
        raise InvalidState("The department still has staff (current or former); move them "
                           "first.")
    session.delete(d)
    session.flush()
    audit_service.record(session=session, actor=actor, action="department.delete",
                         resource_type="department", resource_id=department_id,
                         detail={"name": d.name})


# --- employees ------------------------------------------------------------------------------

def list_employees(*, session: Session, actor: Principal, e: Enterprise,
                   department_id: uuid.UUID | None = None, status: str | None = "active",
                   cursor: str | None = None, limit: int = 100,
                   where: Sequence[ColumnElement[bool]] = (),
                   ) -> tuple[list[Employee], str | None]:
    """List the staff the actor may see (department heads: their department only);
    `where` adds a search's conditions (enterprises/staff_search.py)."""
    stmt = select(Employee).where(Employee.enterprise_id == e.id)
    if not authz.sees_all_staff(actor, e):
        heads = authz.headed_departments(actor)
        stmt = stmt.where(Employee.department_id.in_(heads))
    if department_id is not None:
        stmt = stmt.where(Employee.department_id == department_id)
    if status:
        stmt = stmt.where(Employee.status == status)
    stmt = stmt.where(*where).options(selectinload(Employee.hr_claim))
    # The commute-pass form lists a whole staff on one page: a higher cap than the API's.
    return paginate_query(session, stmt, [Employee.id], cursor=cursor, limit=limit,
                          max_limit=5000)


def record_staff_views(*, session: Session, actor: Principal, rows: list[Employee],
                       via: str) -> None:
    """Log a list's read in the access log of each employee shown (the page only)."""
    audit_service.record_reads(session=session, actor=actor, action="employee.view",
                               resource_type="employee",
                               people=[(emp.id, emp.person_id) for emp in rows],
                               detail={"via": via})


def get_employee(*, session: Session, actor: Principal, e: Enterprise,
                 employee_id: uuid.UUID) -> Employee:
    """Get one employee the actor may see."""
    emp = session.get(Employee, employee_id)
    if emp is None or emp.enterprise_id != e.id or not authz.can_view_employee(actor, e, emp):
        raise NotFound("No such employee.")
    return emp


def clean_employee_no(raw: str) -> str:
    value = raw.strip()
    if len(value) > 32 or any(ord(c) < 32 for c in value):
        raise InvalidValue("An employee number has at most 32 characters.")
    return value


def add_employee(*, session: Session, rt: Runtime, actor: Principal, e: Enterprise,
                 data: EmployeeCreate) -> Employee:
    """Add one employee: find the person by ID number, or register them."""
    if not authz.can_manage(actor, e):
        raise Forbidden("Only the enterprise's administrators may do this.")
    d = _department(session, e, data.department_id)
    try:
        employee_no = clean_employee_no(data.employee_no)
    except InvalidValue as exc:
        raise ValidationFailed(exc.message, fields={"employee_no": exc.message}) from None
    person = people_service.register(session=session, vault=rt.vault, actor=actor,
                                     id_number=data.id_number, name=data.name,
                                     phone=data.phone or None, source=("enterprise", e.id))
    existing = session.scalar(select(Employee).where(Employee.enterprise_id == e.id,
                                                     Employee.person_id == person.id))
    if existing is not None and existing.status == "active":
        raise Conflict("This person is already on the staff list (%(department)s).",
                       department=existing.department.name,
                       fields={"id_number": N_("This person is already on the staff list "
                                               "(%(department)s).")})
    if employee_no and session.scalar(select(Employee.id).where(
            Employee.enterprise_id == e.id, Employee.employee_no == employee_no,
            Employee.person_id != person.id)):
        raise Conflict("The employee number %(no)s is already used.", no=employee_no,
                       fields={"employee_no": N_("The employee number %(no)s is already "
                                                 "used.")})
    if existing is not None:  # a former employee comes back
        emp = existing
        emp.status, emp.department_id, emp.employee_no = "active", d.id, employee_no
    else:
        emp = Employee(enterprise_id=e.id, department_id=d.id, person_id=person.id,
                       employee_no=employee_no, status="active")
        session.add(emp)
    session.flush()
    session.refresh(emp)
    audit_service.record(session=session, actor=actor, action="employee.add",
                         resource_type="employee", resource_id=emp.id,
                         subject_person_id=person.id,
                         detail={"enterprise": str(e.id), "department": str(d.id)})
    return emp


def mark_left(*, session: Session, actor: Principal, e: Enterprise,
              employee_id: uuid.UUID) -> Employee:
    """Record that an employee left: off the staff list, invite and login link dropped."""
    if not authz.can_manage(actor, e):
        raise Forbidden("Only the enterprise's administrators may do this.")
    emp = get_employee(session=session, actor=actor, e=e, employee_id=employee_id)
    if emp.status != "active":
        raise InvalidState("This employee already left.")
    emp.status, emp.invite_hash, emp.invite_expires_at = "left", None, None
    session.flush()
    audit_service.record(session=session, actor=actor, action="employee.leave",
                         resource_type="employee", resource_id=emp.id,
                         subject_person_id=emp.person_id)
    return emp


def reveal_grant(*, session: Session, actor: Principal, person_id: uuid.UUID
                 ) -> bool | PersonClaim:
    """The enterprises' grant to people.flows (wired in passtrace.wiring): an official over
    an employer's area reads the registry, HR only the claim it supplied."""
    found = staff_reveal_source(session=session, actor=actor, person_id=person_id)
    if isinstance(found, bool):
        return found
    # HR with no claim on file (a list from before claims were kept) reveals nothing.
    return found.hr_claim or False


def staff_reveal_source(*, session: Session, actor: Principal,
                        person_id: uuid.UUID) -> Employee | bool:
    """What an employment lets the actor reveal of a person.

    True: the registry's values (an official over one of the person's employers' areas
    is a government role). An Employee: only what that enterprise's HR supplied, for a
    current employee (an employer is not the government: it reads back its own staff
    list, never the registry, and nothing once the person left). False: nothing.
    """
    if not actor.has("person.reveal"):
        return False
    rows = session.execute(select(Employee, Enterprise).join(
        Enterprise, Employee.enterprise_id == Enterprise.id).where(
        Employee.person_id == person_id).limit(50)).all()
    if any(authz.is_area_official(actor, "person.reveal", e) for _, e in rows):
        return True
    for emp, e in rows:
        if emp.status == "active" and authz.can_reveal_staff(actor, e):
            return emp
    return False


