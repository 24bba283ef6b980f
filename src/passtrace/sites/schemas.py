"""Site request and response shapes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from passtrace.core.imports import ImportReport, ImportResult, import_report

SiteKind = Literal["road_checkpoint", "temporary_intersection", "community_gate",
                   "enterprise_gate", "venue"]


class SiteWrite(BaseModel):
    """A site as an official registers or edits it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=120)
    kind: SiteKind
    area_code: str = Field(min_length=2, max_length=12)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    lanes: list[str] = Field(default_factory=lambda: ["1"], min_length=1, max_length=32)
    opening_hours: list[str] = Field(default_factory=list, max_length=8)
    fever_threshold: float = Field(default=37.3, ge=36.0, le=39.0)
    community_code: str = Field(default="", max_length=12)
    active: bool = True


class SiteRead(BaseModel):
    """A site as staff and officials see it."""

    id: uuid.UUID
    code: str
    name: str
    kind: str
    kind_label: str
    area_code: str
    area_name: str
    latitude: float | None
    longitude: float | None
    lanes: list[str]
    opening_hours: list[str]
    fever_threshold: float
    community_code: str
    active: bool


class SiteList(BaseModel):
    """Sites the caller may see, a page of them (`next`: the cursor of the next page)."""

    items: list[SiteRead]
    next: str | None = None


class ImportRowError(BaseModel):
    """One refused row in the older shape (its first problem); use `problems`."""

    row: int
    code: str
    message: str


class SiteImportReport(ImportReport):
    """What a site import did: the row report every import gives, and sites created/updated.

    `applied` and `errors` are the shape this report had before all imports shared one;
    they stay for existing clients (`applied` is `committed`).
    """

    created: int
    updated: int
    applied: bool = Field(deprecated=True)
    errors: list[ImportRowError] = Field(deprecated=True)


def site_report(result: ImportResult, *, created: int, updated: int) -> SiteImportReport:
    """Describe a site import, messages translated."""
    report = import_report(result)
    first = {p.row: p for p in reversed(report.problems)}
    return SiteImportReport(
        **report.model_dump(), created=created, updated=updated, applied=report.committed,
        errors=[ImportRowError(row=row, code=result.labels.get(row, ""), message=p.message)
                for row, p in sorted(first.items())])


class DeviceCreate(BaseModel):
    """A thermal scanner (or other device) to enrol at a site lane."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=80)
    lane: str = Field(default="1", min_length=1, max_length=16)


class DeviceCreated(BaseModel):
    """The new device and its token, shown once."""

    id: uuid.UUID
    name: str
    lane: str
    token: str


class ReadingIn(BaseModel):
    """A temperature posted by a thermal scanner."""

    model_config = ConfigDict(extra="forbid")

    temperature: float = Field(ge=30.0, le=45.0)
    lane: str | None = Field(default=None, max_length=16)
    read_at: datetime | None = None


class ReadingOut(BaseModel):
    """The latest reading at a lane, if a fresh one exists."""

    temperature: float | None
    read_at: datetime | None
    age_seconds: int | None
