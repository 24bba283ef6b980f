"""Enterprises: registration, departments, staff (import, invites), resumption of work."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, func, insert, or_, select
from sqlalchemy.orm import Session

from passtrace.areas import service as area_service
from passtrace.audit import service as audit_service
from passtrace.core.areacodes import significant_prefix
from passtrace.core.clock import utcnow
from passtrace.core.errors import (
    Conflict,
    Forbidden,
    InvalidState,
    NotFound,
    ValidationFailed,
)
from passtrace.core.i18n import N_, gettext
from passtrace.core.ids import uuid7
from passtrace.core.pii import mask_id_number, mask_name, mask_phone
from passtrace.core.runtime import Runtime
from passtrace.core.security import Principal, new_token, token_digest
from passtrace.core.validators import (
    InvalidValue,
    validate_credit_code,
    validate_id_number,
    validate_phone,
)
from passtrace.enterprises import authz, sheets
from passtrace.enterprises.models import (
    Department,
    Employee,
    Enterprise,
    ResumptionApplication,
)
from passtrace.enterprises.schemas import EmployeeCreate, EnterpriseCreate, ResumptionCreate
from passtrace.passes import keyring
from passtrace.passes import service as pass_service
from passtrace.passes.models import Pass
from passtrace.people import service as people_service
from passtrace.people.models import Person

INVITE_DAYS = 7
LOCAL_TZ_OFFSET = timedelta(hours=8)  # China Standard Time has no daylight saving
_CHUNK = 500


def local_today() -> Any:
    """Return today's date in China Standard Time."""
    return (utcnow() + LOCAL_TZ_OFFSET).date()


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
                   ) -> tuple[list[Employee], str | None]:
    """List the staff the actor may see (department heads: their department only)."""
    stmt = select(Employee).where(Employee.enterprise_id == e.id)
    if not authz.sees_all_staff(actor, e):
        heads = authz.headed_departments(actor)
        stmt = stmt.where(Employee.department_id.in_(heads))
    if department_id is not None:
        stmt = stmt.where(Employee.department_id == department_id)
    if status:
        stmt = stmt.where(Employee.status == status)
    if cursor:
        try:
            stmt = stmt.where(Employee.id > uuid.UUID(hex=cursor))
        except ValueError:
            raise ValidationFailed("The page cursor is not valid.") from None
    rows = list(session.scalars(stmt.order_by(Employee.id).limit(limit + 1)))
    nxt = rows[limit - 1].id.hex if len(rows) > limit else None
    return rows[:limit], nxt


def get_employee(*, session: Session, actor: Principal, e: Enterprise,
                 employee_id: uuid.UUID) -> Employee:
    """Get one employee the actor may see."""
    emp = session.get(Employee, employee_id)
    if emp is None or emp.enterprise_id != e.id or not authz.can_view_employee(actor, e, emp):
        raise NotFound("No such employee.")
    return emp


def _clean_employee_no(raw: str) -> str:
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
        employee_no = _clean_employee_no(data.employee_no)
    except InvalidValue as exc:
        raise ValidationFailed(exc.message, fields={"employee_no": exc.message}) from None
    person = people_service.register(session=session, vault=rt.vault, actor=actor,
                                     id_number=data.id_number, name=data.name,
                                     phone=data.phone or None)
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


# --- staff import ---------------------------------------------------------------------------

@dataclass
class Problem:
    """One reason a row was refused: an English msgid and its values."""

    row: int
    column: str
    message: str
    params: dict[str, Any] = field(default_factory=dict)

    def translated(self) -> str:
        """Return the message in the current language."""
        return gettext(self.message, **self.params)


@dataclass
class ImportResult:
    """What an import did."""

    rows: int
    valid: int
    imported: int
    unchanged: int
    committed: bool
    problems: list[Problem]


@dataclass
class _Candidate:
    row: int
    id_number: str
    id_hash: str
    name: str
    phone: str | None
    department_id: uuid.UUID
    employee_no: str


def _check_row(r: sheets.StaffRow, departments_by_name: dict[str, uuid.UUID],
               problems: list[Problem]) -> _Candidate | None:
    bad = len(problems)
    cells = r.cells
    name = " ".join(cells["name"].split())
    if not name:
        problems.append(Problem(r.number, "name", N_("The name is empty.")))
    elif len(name) > 40 or any(ord(c) < 32 for c in name):
        problems.append(Problem(r.number, "name",
                                N_("Please enter the name as on the ID card (1-40 characters).")))
    id_number = ""
    if not cells["id_number"]:
        problems.append(Problem(r.number, "id_number", N_("The ID number is empty.")))
    else:
        try:
            id_number = validate_id_number(cells["id_number"])
        except InvalidValue as exc:
            message = exc.message
            if "id_number" in r.numeric:
                message = N_("Excel stored the ID number as a number and lost digits: format "
                             "the column as text and type it again.")
            problems.append(Problem(r.number, "id_number", message))
    phone = None
    if cells["phone"]:
        try:
            phone = validate_phone(cells["phone"])
        except InvalidValue as exc:
            problems.append(Problem(r.number, "phone", exc.message))
    department_id = departments_by_name.get(" ".join(cells["department"].split()))
    if not cells["department"]:
        problems.append(Problem(r.number, "department", N_("The department is empty.")))
    elif department_id is None:
        problems.append(Problem(r.number, "department",
                                N_("There is no department called %(name)s; add it first."),
                                {"name": cells["department"][:80]}))
    try:
        employee_no = _clean_employee_no(cells["employee_no"])
    except InvalidValue as exc:
        employee_no = ""
        problems.append(Problem(r.number, "employee_no", exc.message))
    if len(problems) > bad or department_id is None:
        return None
    return _Candidate(r.number, id_number, "", name, phone, department_id, employee_no)


def _chunks(values: list[Any]) -> list[list[Any]]:
    return [values[i:i + _CHUNK] for i in range(0, len(values), _CHUNK)]


def import_staff(*, session: Session, rt: Runtime, actor: Principal, e: Enterprise,
                 data: bytes, filename: str = "", partial: bool = False) -> ImportResult:
    """Import a staff list, checking every row first; all or nothing unless partial.

    Re-importing the same list changes nothing (rows already on the staff list are
    'unchanged'). Persons, employees and audit entries are written in bulk: three
    lookups and three multi-row INSERTs whatever the size of the file.
    """
    if not authz.can_manage(actor, e):
        raise Forbidden("Only the enterprise's administrators may do this.")
    rows = sheets.read_staff(data, filename)
    depts = {d.name: d.id for d in session.scalars(
        select(Department).where(Department.enterprise_id == e.id))}
    problems: list[Problem] = []
    candidates = [c for r in rows if (c := _check_row(r, depts, problems)) is not None]

    # Duplicates inside the file: the later row is the one reported.
    seen_ids: dict[str, int] = {}
    seen_nos: dict[str, int] = {}
    unique: list[_Candidate] = []
    for c in candidates:
        if c.id_number in seen_ids:
            problems.append(Problem(c.row, "id_number",
                                    N_("The same ID number is already on row %(row)s."),
                                    {"row": seen_ids[c.id_number]}))
            continue
        if c.employee_no and c.employee_no in seen_nos:
            problems.append(Problem(c.row, "employee_no",
                                    N_("The same employee number is already on row %(row)s."),
                                    {"row": seen_nos[c.employee_no]}))
            continue
        seen_ids[c.id_number] = c.row
        if c.employee_no:
            seen_nos[c.employee_no] = c.row
        c.id_hash = rt.vault.lookup_hash(c.id_number)
        unique.append(c)

    # What is already stored: persons by ID hash, this enterprise's staff, employee numbers.
    people: dict[str, uuid.UUID] = {}
    for chunk in _chunks([c.id_hash for c in unique]):
        people.update(session.execute(select(Person.id_hash, Person.id)
                                      .where(Person.id_hash.in_(chunk))).all())
    staff: dict[uuid.UUID, Employee] = {}
    for chunk in _chunks(list(people.values())):
        staff.update({emp.person_id: emp for emp in session.scalars(
            select(Employee).where(Employee.enterprise_id == e.id,
                                   Employee.person_id.in_(chunk)))})
    nos_taken: dict[str, uuid.UUID] = {}
    for chunk in _chunks(list(seen_nos)):
        nos_taken.update(session.execute(select(Employee.employee_no, Employee.person_id).where(
            Employee.enterprise_id == e.id, Employee.employee_no.in_(chunk))).all())
    dept_names = {v: k for k, v in depts.items()}

    new_people: list[dict[str, Any]] = []
    new_staff: list[dict[str, Any]] = []
    returning: list[tuple[Employee, _Candidate]] = []
    unchanged = 0
    for c in unique:
        person_id = people.get(c.id_hash)
        current = staff.get(person_id) if person_id else None
        owner = nos_taken.get(c.employee_no) if c.employee_no else None
        if owner is not None and owner != person_id:
            problems.append(Problem(c.row, "employee_no",
                                    N_("The employee number %(no)s is already used."),
                                    {"no": c.employee_no}))
            continue
        if current is not None and current.status == "active":
            if (current.department_id, current.employee_no) == (c.department_id,
                                                                c.employee_no):
                unchanged += 1
            else:
                problems.append(Problem(
                    c.row, "id_number",
                    N_("Already on the staff list (%(department)s); change the entry there."),
                    {"department": dept_names.get(current.department_id, "")}))
            continue
        if current is not None:
            returning.append((current, c))
            continue
        if person_id is None:
            person_id = uuid7()
            people[c.id_hash] = person_id
            new_people.append({
                "id": person_id, "id_hash": c.id_hash, "id_enc": rt.vault.encrypt(c.id_number),
                "id_masked": mask_id_number(c.id_number),
                "name_enc": rt.vault.encrypt(c.name), "name_masked": mask_name(c.name),
                "phone_enc": rt.vault.encrypt(c.phone) if c.phone else None,
                "phone_masked": mask_phone(c.phone) if c.phone else None,
                "status": "green", "created_at": utcnow()})
        new_staff.append({"id": uuid7(), "enterprise_id": e.id,
                          "department_id": c.department_id, "person_id": person_id,
                          "employee_no": c.employee_no, "status": "active",
                          "created_at": utcnow()})

    problems.sort(key=lambda p: (p.row, sheets.COLUMNS.index(p.column)))
    valid = len(new_staff) + len(returning) + unchanged
    bad_rows = len({p.row for p in problems})
    if problems and not partial:
        return ImportResult(len(rows), valid, 0, unchanged, False, problems)
    if new_people:
        session.execute(insert(Person), new_people)
    if new_staff:
        session.execute(insert(Employee), new_staff)
    for emp, c in returning:
        emp.status, emp.department_id, emp.employee_no = "active", c.department_id, c.employee_no
    session.flush()
    entries: list[dict[str, Any]] = [
        {"action": "person.register", "resource_type": "person", "resource_id": p["id"],
         "subject_person_id": p["id"]} for p in new_people]
    entries += [{"action": "employee.add", "resource_type": "employee", "resource_id": s["id"],
                 "subject_person_id": s["person_id"], "detail": {"enterprise": str(e.id),
                                                                 "via": "import"}}
                for s in new_staff]
    entries += [{"action": "employee.add", "resource_type": "employee", "resource_id": emp.id,
                 "subject_person_id": emp.person_id, "detail": {"enterprise": str(e.id),
                                                                "via": "import"}}
                for emp, _ in returning]
    entries.append({"action": "employee.import", "resource_type": "enterprise",
                    "resource_id": e.id,
                    "detail": {"rows": len(rows), "imported": len(new_staff) + len(returning),
                               "unchanged": unchanged, "refused_rows": bad_rows,
                               "partial": partial}})
    audit_service.record_many(session=session, actor=actor, entries=entries)
    return ImportResult(len(rows), valid, len(new_staff) + len(returning), unchanged, True,
                        problems)


# --- invites --------------------------------------------------------------------------------

def create_invite(*, session: Session, actor: Principal, e: Enterprise,
                  employee_id: uuid.UUID) -> tuple[Employee, str]:
    """Make a new invite link for an employee; returns the token (stored only hashed)."""
    if not authz.can_manage(actor, e):
        raise Forbidden("Only the enterprise's administrators may do this.")
    emp = get_employee(session=session, actor=actor, e=e, employee_id=employee_id)
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


def accept_invite(*, session: Session, actor: Principal, token: str) -> Employee:
    """Bind the actor's account to the employee the invite was made for.

    Only the same person may accept: the account's person id must equal the
    employee's. A refusal is recorded in the audit log; the caller commits it
    before answering (see views), and the invite stays usable for its owner.
    """
    emp = find_invite(session=session, token=token)
    if actor.person_id is None:
        raise InvalidState("Link your ID number to your account before accepting an invite.")
    if actor.person_id != emp.person_id:
        audit_service.record(session=session, actor=actor, action="employee.bind_refused",
                             resource_type="employee", resource_id=emp.id,
                             subject_person_id=emp.person_id,
                             detail={"account_person": str(actor.person_id)})
        raise InviteRefused("This invite was made for someone else. Log in with the account "
                            "registered with your own ID number.")
    emp.user_id = actor.user_id
    emp.invite_hash, emp.invite_expires_at = None, None
    session.flush()
    audit_service.record(session=session, actor=actor, action="employee.bind",
                         resource_type="employee", resource_id=emp.id,
                         subject_person_id=emp.person_id,
                         detail={"enterprise": str(emp.enterprise_id)})
    return emp


def my_employments(*, session: Session, actor: Principal) -> list[tuple[Employee, Enterprise]]:
    """List the enterprises whose staff list the actor's account is linked to."""
    rows = session.execute(select(Employee, Enterprise).join(
        Enterprise, Enterprise.id == Employee.enterprise_id).where(
        Employee.user_id == actor.user_id, Employee.status == "active")).all()
    return list(rows)


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
    if session.scalar(select(ResumptionApplication.id).where(
            ResumptionApplication.enterprise_id == e.id,
            ResumptionApplication.status == "pending")):
        raise Conflict("An application is already waiting for a decision.")
    r = ResumptionApplication(
        enterprise_id=e.id, applicant_user_id=actor.user_id, planned_date=data.planned_date,
        headcount={str(k): v for k, v in data.headcount.items() if v > 0}, measures=measures,
        contact_name_enc=rt.vault.encrypt(contact), contact_name_masked=mask_name(contact),
        contact_phone_enc=rt.vault.encrypt(phone), contact_phone_masked=mask_phone(phone),
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
    r, e = get_resumption(session=session, actor=actor, resumption_id=resumption_id,
                          for_update=True)
    if not authz.can_review_resumption(actor, e):
        raise Forbidden("Only an official responsible for the enterprise's area may decide.")
    if r.status != "pending":
        raise InvalidState("This application was already decided.")
    return r, e


def approve_resumption(*, session: Session, actor: Principal,
                       resumption_id: uuid.UUID) -> ResumptionApplication:
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
    return r


def return_resumption(*, session: Session, actor: Principal, resumption_id: uuid.UUID,
                      reasons: list[str]) -> ResumptionApplication:
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
    return r


def withdraw_resumption(*, session: Session, actor: Principal,
                        resumption_id: uuid.UUID) -> ResumptionApplication:
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
    return r


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
    if r is None or r.decided_by is None:
        raise InvalidState("Commute passes can be requested once the resumption of work "
                           "is approved.")
    if valid_from.tzinfo is None or valid_until.tzinfo is None:
        raise ValidationFailed("Times need a time zone (e.g. +08:00).")
    now = utcnow()
    earliest = datetime.combine(r.planned_date, time(0, 0), tzinfo=UTC) - LOCAL_TZ_OFFSET
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
    for chunk in _chunks(wanted):
        staff += list(session.scalars(select(Employee).where(
            Employee.enterprise_id == e.id, Employee.status == "active",
            Employee.id.in_(chunk))))
    if len(staff) != len(wanted):
        raise ValidationFailed("Some of the chosen people are not on the active staff list.",
                               fields={"employee_ids": N_("Some of the chosen people are not "
                                                          "on the active staff list.")})
    holding: set[uuid.UUID] = set()
    for chunk in _chunks([emp.person_id for emp in staff]):
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


def reveal_allowed(*, session: Session, actor: Principal, person_id: uuid.UUID) -> bool:
    """Tell whether the actor may reveal a person's data because they employ them."""
    if not actor.has("person.reveal"):
        return False
    rows = session.scalars(select(Enterprise).join(
        Employee, Employee.enterprise_id == Enterprise.id).where(
        Employee.person_id == person_id).limit(50))
    return any(authz.can_reveal_staff(actor, e) for e in rows)


def active_staff_count(*, session: Session, e: Enterprise) -> int:
    """Count the enterprise's active staff."""
    return session.scalar(select(func.count()).select_from(Employee).where(
        Employee.enterprise_id == e.id, Employee.status == "active")) or 0

