"""Enterprise request and response shapes."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from passtrace.core.validators import Day

Headcount = Annotated[int, Field(ge=0, le=100_000)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class EnterpriseCreate(_Strict):
    """What an official fills in to register an enterprise."""

    credit_code: str = Field(min_length=1, max_length=30)
    name: str = Field(min_length=1, max_length=120)
    area_code: str = Field(min_length=1, max_length=12)
    address: str = Field(default="", max_length=200)
    report_deadline: time = time(10, 0)


class EnterpriseRead(BaseModel):
    """An enterprise as its staff and officials see it."""

    id: uuid.UUID
    credit_code: str
    name: str
    area_code: str
    area_name: str
    address: str
    report_deadline: time
    resumed_on: date | None
    created_at: datetime


class DepartmentCreate(_Strict):
    """A new department (or a new name for one)."""

    name: str = Field(min_length=1, max_length=80)


class DepartmentRead(BaseModel):
    """A department and how many active staff it has."""

    id: uuid.UUID
    name: str
    staff: int


class EmployeeCreate(_Strict):
    """One employee added by hand."""

    name: str = Field(min_length=1, max_length=40)
    id_number: str = Field(min_length=1, max_length=24)
    phone: str = Field(default="", max_length=20)
    department_id: uuid.UUID
    employee_no: str = Field(default="", max_length=32)


class EmployeeRead(BaseModel):
    """An employee, personal data masked."""

    id: uuid.UUID
    person_id: uuid.UUID
    name: str
    id_number: str
    phone: str | None
    department_id: uuid.UUID
    department: str
    employee_no: str
    status: str
    bound: bool
    invite_expires_at: datetime | None


class EmployeePage(BaseModel):
    """One page of employees and the cursor to the next."""

    items: list[EmployeeRead]
    next: str | None = None


class InviteRead(BaseModel):
    """An invite link; the token is shown this once and only its hash is kept."""

    employee_id: uuid.UUID
    token: str
    url: str
    expires_at: datetime


class InviteAccept(_Strict):
    """The token from an invite link."""

    token: str = Field(min_length=10, max_length=100)


class ResumptionCreate(_Strict):
    """A resumption-of-work application."""

    planned_date: Day
    # {department id: returning headcount}
    headcount: dict[uuid.UUID, Headcount] = Field(min_length=1, max_length=200)
    measures: str = Field(min_length=1, max_length=2000)
    contact_name: str = Field(min_length=1, max_length=40)
    contact_phone: str = Field(min_length=1, max_length=20)


class ResumptionReturn(_Strict):
    """Why an application goes back to the enterprise."""

    reasons: list[Annotated[str, Field(max_length=300)]] = Field(min_length=1, max_length=10)


class ResumptionRead(BaseModel):
    """A resumption application, contact masked."""

    id: uuid.UUID
    enterprise_id: uuid.UUID
    enterprise_name: str
    area_code: str
    planned_date: date
    headcount: dict[str, int]
    headcount_total: int
    departments: dict[str, str]
    measures: str
    contact_name: str
    contact_phone: str
    status: str
    status_label: str
    decided_at: datetime | None
    decision_reasons: list[str]
    passes_issued: dict[str, int]
    created_at: datetime


class CommutePassRequest(_Strict):
    """Commute passes for returning staff, after an approved resumption."""

    employee_ids: list[uuid.UUID] = Field(min_length=1, max_length=2000)
    valid_from: datetime
    valid_until: datetime


class CommutePassReport(BaseModel):
    """What a bulk commute-pass request did."""

    created: int
    skipped: int
    pass_ids: list[uuid.UUID]
    problems: list[str]
