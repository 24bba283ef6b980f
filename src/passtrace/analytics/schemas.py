"""Analytics API shapes: asking for a run, and a run as the API shows it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

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
