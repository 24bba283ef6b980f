"""Enterprises: import a staff list from a spreadsheet (the pipeline is core/imports.py).

This module supplies the staff list's row schema (columns, department, employee
number), how a row matches the enterprise's staff, and the bulk write.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from passtrace.audit import service as audit_service
from passtrace.core import imports
from passtrace.core.clock import utcnow
from passtrace.core.errors import Forbidden
from passtrace.core.i18n import N_
from passtrace.core.ids import uuid7
from passtrace.core.imports import ImportResult, Matched, Problem, person_cells
from passtrace.core.runtime import Runtime
from passtrace.core.security import Principal
from passtrace.core.tabular import SheetRow
from passtrace.core.validators import InvalidValue
from passtrace.enterprises import authz
from passtrace.enterprises.models import Department, Employee, Enterprise
from passtrace.enterprises.service import chunks, clean_employee_no
from passtrace.people import claims as person_claims
from passtrace.people.models import Person
from passtrace.people.service import protected_columns

ALIASES: dict[str, tuple[str, ...]] = {
    "department": ("部门", "部门名称", "所属部门", "dept"),
    "name": ("姓名", "full name"),
    "id_number": ("身份证号", "身份证号码", "身份证", "id number", "id no", "id",
                  "id card", "id card number"),
    "phone": ("手机号", "手机号码", "手机", "联系电话", "电话", "mobile", "mobile number",
              "phone number"),
    "employee_no": ("工号", "员工编号", "employee no", "employee number", "staff no",
                    "employee id"),
}
REQUIRED = ("department", "name", "id_number")


@dataclass
class _Candidate:
    row: int
    id_number: str
    name: str
    phone: str | None
    department_id: uuid.UUID
    employee_no: str
    id_hash: str = ""
    person_id: uuid.UUID | None = None
    returning: Employee | None = field(default=None, repr=False)


def _check_row(r: SheetRow, departments_by_name: dict[str, uuid.UUID],
               problems: list[Problem]) -> _Candidate | None:
    bad = len(problems)
    cells = r.cells
    name, id_number, phone = person_cells(r, problems)
    department_id = departments_by_name.get(" ".join(cells["department"].split()))
    if not cells["department"]:
        problems.append(Problem(r.number, "department", N_("The department is empty.")))
    elif department_id is None:
        problems.append(Problem(r.number, "department",
                                N_("There is no department called %(name)s; add it first."),
                                {"name": cells["department"][:80]}))
    try:
        employee_no = clean_employee_no(cells["employee_no"])
    except InvalidValue as exc:
        employee_no = ""
        problems.append(Problem(r.number, "employee_no", exc.message))
    if len(problems) > bad or department_id is None:
        return None
    return _Candidate(r.number, id_number, name, phone, department_id, employee_no)


def import_staff(*, session: Session, rt: Runtime, actor: Principal, e: Enterprise,
                 data: bytes, filename: str = "", partial: bool = False) -> ImportResult:
    """Import a staff list, checking every row first; all or nothing unless partial.

    Re-importing the same list changes nothing (rows already on the staff list are
    'unchanged'). Persons, employees and audit entries are written in bulk: three
    lookups and three multi-row INSERTs whatever the size of the file.
    """
    if not authz.can_manage(actor, e):
        raise Forbidden("Only the enterprise's administrators may do this.")
    depts = {d.name: d.id for d in session.scalars(
        select(Department).where(Department.enterprise_id == e.id))}
    sheet = imports.Sheet(
        ALIASES, REQUIRED, lambda r, problems: _check_row(r, depts, problems),
        unique={"id_number": imports.SAME_ID_NUMBER,
                "employee_no": N_("The same employee number is already on row %(row)s.")})
    return imports.run(
        sheet, data, filename, import_valid=partial,
        match=lambda rows, problems: _match(session, rt, e, depts, rows, problems),
        write=lambda matched, result: _write(session, rt, actor, e, matched, result,
                                             partial=partial))


def _match(session: Session, rt: Runtime, e: Enterprise, depts: dict[str, uuid.UUID],
           rows: list[_Candidate], problems: list[Problem]) -> Matched[_Candidate]:
    """New staff, returning staff (left earlier) and unchanged rows; clashes are problems."""
    for c in rows:
        c.id_hash = rt.vault.lookup_hash(c.id_number)
    people: dict[str, uuid.UUID] = {}
    for chunk in chunks([c.id_hash for c in rows]):
        people.update(session.execute(select(Person.id_hash, Person.id)
                                      .where(Person.id_hash.in_(chunk))).all())
    staff: dict[uuid.UUID, Employee] = {}
    for chunk in chunks(list(people.values())):
        staff.update({emp.person_id: emp for emp in session.scalars(
            select(Employee).where(Employee.enterprise_id == e.id,
                                   Employee.person_id.in_(chunk)))})
    nos_taken: dict[str, uuid.UUID] = {}
    for chunk in chunks([c.employee_no for c in rows if c.employee_no]):
        nos_taken.update(session.execute(select(Employee.employee_no, Employee.person_id).where(
            Employee.enterprise_id == e.id, Employee.employee_no.in_(chunk))).all())
    dept_names = {v: k for k, v in depts.items()}
    matched: Matched[_Candidate] = Matched()
    for c in rows:
        c.person_id = people.get(c.id_hash)
        current = staff.get(c.person_id) if c.person_id else None
        owner = nos_taken.get(c.employee_no) if c.employee_no else None
        if owner is not None and owner != c.person_id:
            problems.append(Problem(c.row, "employee_no",
                                    N_("The employee number %(no)s is already used."),
                                    {"no": c.employee_no}))
        elif current is not None and current.status == "active":
            if (current.department_id, current.employee_no) == (c.department_id,
                                                                c.employee_no):
                matched.unchanged.append(c)
            else:
                problems.append(Problem(
                    c.row, "id_number",
                    N_("Already on the staff list (%(department)s); change the entry there."),
                    {"department": dept_names.get(current.department_id, "")}))
        else:
            c.returning = current
            matched.new.append(c)
    return matched


def _write(session: Session, rt: Runtime, actor: Principal, e: Enterprise,
           matched: Matched[_Candidate], result: ImportResult, *, partial: bool) -> int:
    """Write new people, new and returning staff and HR's claims in bulk, with the audit."""
    new_people: list[dict[str, Any]] = []
    new_staff: list[dict[str, Any]] = []
    returning: list[tuple[Employee, _Candidate]] = []
    # What HR typed for each person it lists: kept as HR's claim, never the person's own.
    claimed = {c.person_id: c for c in matched.unchanged if c.person_id}
    for c in matched.new:
        if c.returning is not None:
            returning.append((c.returning, c))
            claimed[c.returning.person_id] = c
            continue
        person_id = c.person_id
        if person_id is None:
            person_id = uuid7()
            new_people.append({
                "id": person_id, "status": "green", "created_at": utcnow(),
                **protected_columns(rt.vault, c.id_number, c.name, c.phone, c.id_hash)})
        new_staff.append({"id": uuid7(), "enterprise_id": e.id,
                          "department_id": c.department_id, "person_id": person_id,
                          "employee_no": c.employee_no, "status": "active",
                          "created_at": utcnow()})
        claimed[person_id] = c
    if new_people:
        session.execute(insert(Person), new_people)
    if new_staff:
        session.execute(insert(Employee), new_staff)
    for emp, c in returning:
        emp.status, emp.department_id, emp.employee_no = "active", c.department_id, c.employee_no
    person_claims.store_many(session=session, vault=rt.vault, source_kind="enterprise",
                             source_id=e.id,
                             claimed={pid: (c.name, c.phone) for pid, c in claimed.items()})
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
                    "detail": {"rows": result.rows,
                               "imported": len(new_staff) + len(returning),
                               "unchanged": result.unchanged,
                               "refused_rows": imports.refused_rows(result),
                               "partial": partial}})
    audit_service.record_many(session=session, actor=actor, entries=entries)
    return len(new_staff) + len(returning)

