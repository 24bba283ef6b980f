"""The analytics page's form: text as the browser sends it, parsed into a run request."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from pydantic import Field

from passtrace.analytics.queries import JOBS
from passtrace.core.errors import ValidationFailed
from passtrace.core.i18n import N_
from passtrace.web import forms


@dataclass(frozen=True)
class RunRequest:
    job: str
    day_from: date
    day_to: date
    area_codes: list[str]
    case_ids: list[str]
    window_minutes: int


def _day(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValidationFailed("Enter a date.", fields={name: N_("Enter a date.")}) from None


class RunForm(forms.FormModel):
    """Which job, over which dates and areas (and for companions, which cases)."""

    job: str = "site-load"
    day_from: str = ""
    day_to: str = ""
    # Picked from lists (names, not codes): the areas, and for companions the cases.
    areas: list[str] = Field(default_factory=list, max_length=50)
    cases: list[str] = Field(default_factory=list, max_length=200)
    window_minutes: str = "30"

    def parse(self) -> RunRequest:
        if self.job not in JOBS:
            raise ValidationFailed("Unknown analytics job.",
                                   fields={"job": N_("Unknown analytics job.")})
        try:
            minutes = int(self.window_minutes.strip() or "30")
        except ValueError:
            message = N_("The window is 1 to 1440 minutes.")
            raise ValidationFailed(message, fields={"window_minutes": message}) from None
        return RunRequest(job=self.job, day_from=_day(self.day_from, "day_from"),
                          day_to=_day(self.day_to, "day_to"),
                          area_codes=[a for a in self.areas if a.strip()],
                          case_ids=[c for c in self.cases if c.strip()],
                          window_minutes=minutes)


class ContactsForm(forms.FormModel):
    """Which of a companions run's cases gets its companions ("": each listed case)."""

    case: str = ""

    def parse(self) -> str:
        return self.case.strip()


def case_id(raw: str) -> uuid.UUID | None:
    """The picked case (None: each listed case); called inside the form's attempt, so a
    bad value is shown on the page like any refusal."""
    if not raw:
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        message = N_("That case is not one of this run's cases.")
        raise ValidationFailed(message, fields={"case": message}) from None
