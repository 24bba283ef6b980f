"""Analytics API shapes: asking for a run, and a run as the API shows it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from passtrace.core.validators import Day

JobName = Literal["companions", "flows", "site-load", "risk-visitors", "report-coverage"]


class RunCreate(BaseModel):
    job: JobName
    day_from: Day
    day_to: Day
    area_codes: list[str] = Field(default_factory=list, max_length=50)
    case_ids: list[str] = Field(default_factory=list, max_length=200)
    window_minutes: int = Field(default=30, ge=1, le=1440)


class RunRead(BaseModel):
    id: uuid.UUID
    job: str
    params: dict[str, Any]
    status: Literal["queued", "running", "done", "failed"]
    progress: int
    requested_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    rows: int | None
    # Where the result can be downloaded once the run is done (null before).
    result_url: str | None = None
    # A finished companions run: where to POST to add its companions to case contacts.
    add_to_contacts_url: str | None = None


class ContactsCreate(BaseModel):
    """Which of the run's cases gets its companions as contacts (null: every listed case,
    each its own)."""

    model_config = ConfigDict(extra="forbid")

    case_id: uuid.UUID | None = None


class CaseContactsRead(BaseModel):
    """What adding a run's companions did to one case's contacts, counted by person."""

    case_id: uuid.UUID
    added: int  # new close contacts
    merged: int  # contacts found already, now with the run's evidence too
    unchanged: int  # contacts holding this run's evidence already (added before)
    unknown: int  # hashes with no person record: counted, not made into contacts
    tasks_made: int
    contacts_url: str


class ContactsRead(BaseModel):
    """The run and what was added, case by case."""

    run_id: uuid.UUID
    cases: list[CaseContactsRead]
