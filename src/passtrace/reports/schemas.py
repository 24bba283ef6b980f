"""Daily report request and response shapes."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from passtrace.core.validators import Day

Mode = Literal["walk", "car", "bus", "metro", "taxi", "train", "flight"]
Symptom = Literal["fever", "cough", "sore_throat", "fatigue", "loss_of_smell", "diarrhea",
                  "short_breath"]


class StopIn(BaseModel):
    """One place of the day and how the employee got there."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    area_code: str = Field(pattern=r"^\d{6,12}$")
    place: str = Field(default="", max_length=100)
    arrive_at: datetime
    depart_at: datetime | None = None
    mode: Mode | None = None
    ref: str | None = Field(default=None, max_length=16)
    seat: str | None = Field(default=None, max_length=8)


class ReportIn(BaseModel):
    """A full daily report."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    # Optional client-chosen id (UUIDv7): a retried submission returns the first report.
    id: uuid.UUID | None = None
    report_date: Day | None = None  # default: today (Asia/Shanghai)
    temperature: float = Field(allow_inf_nan=False)
    symptoms: list[Symptom] = Field(default_factory=list, max_length=10)
    stayed_home: bool = False
    stops: list[StopIn] = Field(default_factory=list, max_length=20)


class QuickIn(BaseModel):
    """One-tap filing: same as yesterday, or stayed home all day."""

    model_config = ConfigDict(extra="forbid")

    id: uuid.UUID | None = None
    kind: Literal["same_as_yesterday", "stayed_home"]
    report_date: Day | None = None
    temperature: float = Field(allow_inf_nan=False)
    symptoms: list[Symptom] = Field(default_factory=list, max_length=10)


class StopRead(BaseModel):
    """A stop as stored."""

    seq: int
    area_code: str
    area_name: str
    place: str
    arrive_at: datetime
    depart_at: datetime | None
    mode: str | None
    ref: str | None
    seat: str | None


class ReportRead(BaseModel):
    """A report as its filer or a supervisor sees it."""

    id: uuid.UUID
    employee_id: uuid.UUID | None  # None: imported from another system (no employer)
    report_date: date
    temperature: float | None  # None: imported without one
    symptoms: list[str]
    stayed_home: bool
    source: str
    submitted_at: datetime
    amended_at: datetime | None
    late: bool
    stops: list[StopRead]


class ReportPage(BaseModel):
    """A list of reports."""

    items: list[ReportRead]


class DepartmentRate(BaseModel):
    """Today's submissions in one department."""

    department_id: uuid.UUID
    name: str
    headcount: int
    submitted: int
    rate: float


class OverduePerson(BaseModel):
    """Someone who has not filed by the deadline (name masked)."""

    employee_id: uuid.UUID
    name: str
    department: str
    missed_before: bool


class Anomaly(BaseModel):
    """A report that needs a look."""

    report_id: uuid.UUID
    employee_id: uuid.UUID
    name: str
    department: str
    reasons: list[str]
    temperature: float | None


class TrendPoint(BaseModel):
    """Submission rate on one day."""

    day: date
    submitted: int
    headcount: int
    rate: float


class Dashboard(BaseModel):
    """What a supervisor sees for one day."""

    enterprise_id: uuid.UUID
    enterprise_name: str
    day: date
    deadline: datetime
    deadline_passed: bool
    headcount: int
    submitted: int
    rate: float
    departments: list[DepartmentRate]
    overdue: list[OverduePerson]
    overdue_total: int
    anomalies: list[Anomaly]
    trend: list[TrendPoint]
