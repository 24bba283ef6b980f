"""Compound forms as the browser sends them (text), parsed into the API's schemas.

Text is cleaned (control characters out, capped) before it is validated, the same way
for every compound page; what the user typed comes back on the page as cleaned.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, Field, field_validator

from passtrace.communities.compounds.page_helpers import clean_text
from passtrace.communities.compounds.schemas import (
    ResidentCreate,
    RuleAppealCreate,
    RuleAppealDecision,
    RulesChange,
)
from passtrace.web.forms import FormModel, text

UNIT_SEPARATORS = re.compile(r"[,，;；\s]+")
MAX_UNITS = 20


class CompoundForm(FormModel):
    """A form on a compound page: every field is text without control characters."""

    @field_validator("*", mode="before")
    @classmethod
    def _clean(cls, value: object) -> object:
        # 1000 characters is more than any field takes; the schema says which is too long.
        return clean_text(value, 1000) if isinstance(value, str) else value


class ResidentForm(CompoundForm):
    """Add a resident (/communities/{code}/residents); `parse()` gives ResidentCreate."""

    building: str = ""
    unit: str = ""
    room: str = ""
    name: str = ""
    id_number: str = ""
    phone: str = ""
    role: str = "family"

    def parse(self) -> ResidentCreate:
        """Validate with the API's rules."""
        return ResidentCreate.model_validate({**self.model_dump(), "phone": text(self.phone),
                                              "role": self.role or "family"})


class BuildingIn(FormModel):
    """A building and its units, as the household page adds them."""

    name: str = Field(min_length=1, max_length=32)
    units: list[str] = Field(min_length=1, max_length=MAX_UNITS)


class BuildingForm(CompoundForm):
    """Add a building with its units, typed as one list ("1, 2, 3")."""

    name: str = ""
    units: str = ""

    def parse(self) -> BuildingIn:
        """Split the units; none typed means one unit, "1"."""
        units = [u for u in UNIT_SEPARATORS.split(self.units) if u]
        return BuildingIn.model_validate({"name": self.name, "units": units or ["1"]})


class RemovalIn(BaseModel):
    """Why a resident is taken off their household."""

    reason: str = Field(min_length=2, max_length=200)
    reason_code: str = Field(default="", max_length=24)  # passes.coercion.REVOKE_REASONS


class RemovalForm(CompoundForm):
    """Take a resident off: the reason (from the list, and in words) is required."""

    reason: str = ""
    reason_code: str = ""

    def parse(self) -> RemovalIn:
        """Validate the reason."""
        return RemovalIn.model_validate(self.model_dump())


class RulesForm(CompoundForm):
    """The outing rules; an empty limit means no limit. `parse()` gives RulesChange."""

    max_out_per_household: str = ""
    outings_per_window: str = ""
    window_days: str = ""
    curfew_start: str = ""
    curfew_end: str = ""
    max_out_minutes: str = ""
    visitor_approval: str = "manual"
    reason_code: str = ""  # rule_changes.RULE_REASONS; needed when a rule gets stricter
    reason: str = ""

    def parse(self) -> RulesChange:
        """Validate with the API's rules."""
        return RulesChange.model_validate({
            **{k: text(v) for k, v in self.model_dump().items()},
            "window_days": text(self.window_days) or 1,
            "visitor_approval": text(self.visitor_approval) or "manual",
            "reason": self.reason})


class RuleAppealForm(CompoundForm):
    """A resident's appeal against stricter outing rules (their own words)."""

    text: str = ""

    def parse(self) -> RuleAppealCreate:
        """Validate with the API's rules (the service checks the length)."""
        return RuleAppealCreate.model_validate(self.model_dump())


class RuleAppealDecisionForm(CompoundForm):
    """An official's decision on a rule appeal: uphold or reverse, and why."""

    outcome: str = ""
    reason: str = ""

    def parse(self) -> RuleAppealDecision:
        """Validate with the API's rules (the service checks the reason's length)."""
        return RuleAppealDecision.model_validate(self.model_dump())
