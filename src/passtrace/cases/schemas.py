"""Case request and response shapes."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from passtrace.core.validators import Day

Classification = Literal["confirmed", "suspected", "asymptomatic"]
Status = Literal["open", "closed"]
AREA_PATTERN = r"^[0-9]{6}([0-9]{3}([0-9]{3})?)?$"


class CaseCreate(BaseModel):
    """A new case: the person by typed ID number or by an existing person id."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id_number: str | None = Field(default=None, max_length=40)
    person_id: uuid.UUID | None = None
    classification: Classification = "confirmed"
    onset_date: Day | None = None
    sampling_date: Day | None = None
    isolation_date: Day | None = None
    # Both or neither: the first and last local day of an edited exposure window.
    window_start: Day | None = None
    window_end: Day | None = None
    area_code: str = Field(pattern=AREA_PATTERN)
    source: str = Field(default="", max_length=200)
    notes: str = Field(default="", max_length=2000)


class CaseUpdate(BaseModel):
    """An edit: only the fields sent change; `version` is the one the edit was made on."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    version: int = Field(ge=1, le=2**31 - 1)
    classification: Classification | None = None
    onset_date: Day | None = None
    sampling_date: Day | None = None
    isolation_date: Day | None = None
    window_start: Day | None = None
    window_end: Day | None = None
    area_code: str | None = Field(default=None, pattern=AREA_PATTERN)
    source: str | None = Field(default=None, max_length=200)
    notes: str | None = Field(default=None, max_length=2000)


class CaseTransition(BaseModel):
    """Close or reopen; with `version`, refused when the case changed since it was read."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    version: int | None = Field(default=None, ge=1, le=2**31 - 1)
    note: str = Field(default="", max_length=500)


class CasePerson(BaseModel):
    """The case's person, masked."""

    person_id: uuid.UUID
    name: str
    id_number: str


class CaseRead(BaseModel):
    """A case as officials over its area see it."""

    id: uuid.UUID
    person: CasePerson
    classification: Classification
    classification_label: str
    status: Status
    status_label: str
    onset_date: date | None
    sampling_date: date | None
    isolation_date: date | None
    window_start: datetime
    window_end: datetime
    window_first_day: date
    window_last_day: date
    area_code: str
    area_name: str
    source: str
    notes: str
    created_at: datetime
    closed_at: datetime | None
    version: int


class CasePage(BaseModel):
    """One page of cases and the cursor to the next."""

    items: list[CaseRead]
    next: str | None = None


class CaseEventRead(BaseModel):
    """One change in a case's history: {field: [before, after]}."""

    id: uuid.UUID
    at: datetime
    action: str
    action_label: str
    actor: str
    changes: dict[str, list[str | int | None]]


class CaseHistory(BaseModel):
    """Every change to a case, oldest first."""

    items: list[CaseEventRead]
