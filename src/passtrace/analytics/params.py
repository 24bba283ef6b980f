"""Checking a job's parameters (from the CLI or the officials' page) into queries.Params."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from datetime import date

from passtrace.analytics.queries import JOBS, Params
from passtrace.core.errors import ValidationFailed
from passtrace.core.i18n import N_

MAX_DAYS = 92  # a quarter: longer ranges belong to a scheduled export, not one job
_HASH = re.compile(r"^[0-9a-f]{64}$")
_AREA = re.compile(r"^[0-9]{2,12}$")


def check(job: str, *, day_from: date, day_to: date, case_ids: Iterable[str] = (),
          person_hashes: Iterable[str] = (), window_minutes: int = 30,
          area_codes: Iterable[str] = (), evidence: Iterable[str] = ("window", "stays"),
          ) -> Params:
    if job not in JOBS:
        raise ValidationFailed("Unknown analytics job.",
                               fields={"job": N_("Unknown analytics job.")})
    if day_to < day_from:
        raise ValidationFailed("The end date is before the start date.",
                               fields={"day_to": N_("The end date is before the start date.")})
    if (day_to - day_from).days + 1 > MAX_DAYS:
        raise ValidationFailed("A job covers at most %(days)s days.", days=MAX_DAYS)
    if not 1 <= window_minutes <= 1440:
        raise ValidationFailed("The window is 1 to 1440 minutes.")
    ids = []
    for raw in case_ids:
        try:
            ids.append(str(uuid.UUID(raw.strip())))
        except ValueError:
            raise ValidationFailed("A case id is not valid.") from None
    hashes = [h.strip().lower() for h in person_hashes if h.strip()]
    if any(not _HASH.match(h) for h in hashes):
        raise ValidationFailed("A person hash is 64 hexadecimal digits.")
    areas = [a.strip() for a in area_codes if a.strip()]
    if any(not _AREA.match(a) for a in areas):
        raise ValidationFailed("An area code is 2 to 12 digits.")
    kinds = tuple(evidence)
    if not kinds or any(k not in ("window", "stays") for k in kinds):
        raise ValidationFailed("Evidence is window, stays or both.")
    if job == "companions" and not (ids or hashes):
        raise ValidationFailed("Companions needs case ids or person hashes.")
    if job == "risk-visitors" and not areas:
        raise ValidationFailed("Risk visitors needs at least one area code.")
    return Params(day_from=day_from, day_to=day_to, case_ids=tuple(ids),
                  person_hashes=tuple(hashes), window_minutes=window_minutes,
                  area_codes=tuple(areas), evidence=kinds)
