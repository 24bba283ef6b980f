"""Warnings forms as the browser sends them (text), parsed into the API's schemas."""

from __future__ import annotations

from datetime import datetime

from passtrace.core.clock import local_midnight
from passtrace.warnings.schemas import AreaRiskIn, DismissIn, ResolveIn
from passtrace.web.forms import FormModel, text


def _day(value: str) -> datetime | str | None:
    """A date typed in a form is local midnight; anything else goes to the schema as is."""
    value = value.strip()
    if not value:
        return None
    try:
        return local_midnight(datetime.strptime(value, "%Y-%m-%d").date())
    except ValueError:
        return value


class DeclareForm(FormModel):
    """Declare a risk area (/warnings/risk-areas)."""

    area_code: str = ""
    level: str = ""
    valid_from: str = ""
    valid_until: str = ""
    note: str = ""

    def parse(self) -> AreaRiskIn:
        """Validate with the API's rules."""
        return AreaRiskIn.model_validate({
            "area_code": self.area_code.strip(), "level": self.level,
            "valid_from": _day(self.valid_from), "valid_until": _day(self.valid_until),
            "note": self.note})


class ResolveForm(FormModel):
    """Resolve an alert."""

    resolution: str = ""
    note: str = ""

    def parse(self) -> ResolveIn:
        """Validate with the API's rules."""
        return ResolveIn.model_validate({"resolution": self.resolution, "note": self.note})


class DismissForm(FormModel):
    """Dismiss an alert as a false alarm."""

    reason: str = ""

    def parse(self) -> DismissIn:
        """Validate with the API's rules."""
        return DismissIn.model_validate({"reason": text(self.reason) or ""})


class AssignForm(FormModel):
    """Assign an alert to an official."""

    user_id: str = ""


class LiftForm(FormModel):
    """Lift a risk area."""

    reason: str = ""
