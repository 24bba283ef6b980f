"""Turn enterprise rows into what people read: masked staff, labels, area names."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from passtrace.areas import service as area_service
from passtrace.core.i18n import get_locale, lazy_gettext
from passtrace.core.pii import PiiVault
from passtrace.enterprises.models import Department, Employee, Enterprise, ResumptionApplication
from passtrace.enterprises.schemas import (
    EmployeeRead,
    EnterpriseRead,
    ResumptionRead,
)

RESUMPTION_LABELS = {
    "pending": lazy_gettext("Waiting for approval"),
    "approved": lazy_gettext("Approved"),
    "returned": lazy_gettext("Returned for changes"),
    "withdrawn": lazy_gettext("Withdrawn"),
}
COLUMN_LABELS = {
    "department": lazy_gettext("Department"),
    "name": lazy_gettext("Name"),
    "id_number": lazy_gettext("ID number"),
    "phone": lazy_gettext("Mobile number"),
    "employee_no": lazy_gettext("Employee no."),
}


def enterprise(session: Session, e: Enterprise) -> EnterpriseRead:
    """Describe an enterprise in the current language."""
    return enterprises(session, [e])[0]


def enterprises(session: Session, rows: list[Enterprise]) -> list[EnterpriseRead]:
    """Describe enterprises, their area names read in one query (not one per row)."""
    names = area_service.names(session=session, codes=list({e.area_code for e in rows}),
                               locale=get_locale())
    return [EnterpriseRead(id=e.id, credit_code=e.credit_code, name=e.name,
                           area_code=e.area_code, area_name=names.get(e.area_code, e.area_code),
                           address=e.address, report_deadline=e.report_deadline,
                           resumed_on=e.resumed_on, created_at=e.created_at) for e in rows]


def employee(emp: Employee, vault: PiiVault | None = None) -> EmployeeRead:
    """Describe an employee by the name and phone HR supplied, not the registry's.

    Masked, unless the caller is the employer and passes the vault: HR and department
    heads read the name their own staff list gave in clear (it is their own data).
    """
    claim = emp.hr_claim
    name = claim.name_masked if claim else "—"
    if claim is not None and vault is not None:
        name = vault.read(claim, "name_enc")
    return EmployeeRead(id=emp.id, person_id=emp.person_id, name=name,
                        id_number=emp.person.id_masked,
                        phone=claim.phone_masked if claim else None,
                        department_id=emp.department_id, department=emp.department.name,
                        employee_no=emp.employee_no, status=emp.status,
                        bound=emp.user_id is not None,
                        invite_expires_at=emp.invite_expires_at)


def column_label(column: str) -> str:
    """Translate an import column name."""
    label = COLUMN_LABELS.get(column)
    return str(label) if label is not None else column


def resumption(session: Session, r: ResumptionApplication, e: Enterprise) -> ResumptionRead:
    """Describe an application, contact masked, department names resolved."""
    return resumptions(session, [(r, e)])[0]


def resumptions(session: Session, rows: list[tuple[ResumptionApplication, Enterprise]]
                ) -> list[ResumptionRead]:
    """Describe applications; the department names of all their enterprises in one query."""
    names = {str(i): n for i, n in session.execute(
        select(Department.id, Department.name).where(
            Department.enterprise_id.in_({e.id for _, e in rows})))} if rows else {}
    return [ResumptionRead(
        id=r.id, enterprise_id=e.id, enterprise_name=e.name, area_code=e.area_code,
        planned_date=r.planned_date, headcount=r.headcount,
        headcount_total=sum(r.headcount.values()),
        departments={k: names.get(k, k) for k in r.headcount},
        measures=r.measures, contact_name=r.contact_name_masked,
        contact_phone=r.contact_phone_masked, status=r.status,
        status_label=str(RESUMPTION_LABELS.get(r.status, r.status)),
        decided_at=r.decided_at, decision_reasons=r.decision_reasons,
        passes_issued=r.passes_issued, created_at=r.created_at) for r, e in rows]
