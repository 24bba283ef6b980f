"""Enterprise forms as the browser sends them (text), parsed into the API's schemas."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from passtrace.enterprises.schemas import (
    CommutePassRequest,
    EmployeeCreate,
    EnterpriseCreate,
    ResumptionCreate,
)
from passtrace.passes.forms import local_datetime
from passtrace.web.forms import FormModel, text

HEADCOUNT_PREFIX = "headcount-"  # one field per department: headcount-<department id>


class EnterpriseForm(FormModel):
    """Register an enterprise (officials); `parse()` gives EnterpriseCreate."""

    credit_code: str = ""
    name: str = ""
    area_code: str = ""
    address: str = ""
    report_deadline: str = "10:00"

    def parse(self) -> EnterpriseCreate:
        """Validate with the API's rules."""
        return EnterpriseCreate.model_validate(
            {**self.model_dump(), "report_deadline": text(self.report_deadline) or "10:00"})


class DepartmentForm(FormModel):
    """Add a department from the enterprise page (the service cleans and checks the name)."""

    name: str = ""


class EmployeeForm(FormModel):
    """Add one employee by hand; `parse()` gives EmployeeCreate."""

    name: str = ""
    id_number: str = ""
    phone: str = ""
    department_id: str = ""
    employee_no: str = ""

    def parse(self) -> EmployeeCreate:
        """Validate with the API's rules."""
        return EmployeeCreate.model_validate(self.model_dump())


class ResumptionForm(BaseModel):
    """A resumption application; the headcounts arrive as headcount-<department id>."""

    model_config = ConfigDict(extra="allow")  # the headcount fields, named at run time

    planned_date: str = ""
    measures: str = ""
    contact_name: str = ""
    contact_phone: str = ""

    def headcount(self) -> dict[str, str]:
        """{department id: headcount} for the departments given a number."""
        return {k.removeprefix(HEADCOUNT_PREFIX): str(v).strip()
                for k, v in (self.model_extra or {}).items()
                if k.startswith(HEADCOUNT_PREFIX) and str(v).strip()}

    def parse(self) -> ResumptionCreate:
        """Validate with the API's rules."""
        return ResumptionCreate.model_validate({
            "planned_date": self.planned_date, "headcount": self.headcount(),
            "measures": self.measures, "contact_name": self.contact_name,
            "contact_phone": self.contact_phone})


class ReturnForm(FormModel):
    """Send an application back: reasons, one per line (the service checks them)."""

    reasons: str = ""

    def lines(self) -> list[str]:
        """The reasons, at most ten."""
        return self.reasons.splitlines()[:10]


class CommuteForm(FormModel):
    """Commute passes for chosen staff; `parse()` gives CommutePassRequest."""

    employee_ids: list[str] = Field(default_factory=list)
    valid_from: str = ""
    valid_until: str = ""

    def parse(self) -> CommutePassRequest:
        """Validate with the API's rules (times are typed in local time)."""
        return CommutePassRequest.model_validate({
            "employee_ids": self.employee_ids[:2001], "valid_from": local_datetime(self.valid_from),
            "valid_until": local_datetime(self.valid_until)})
