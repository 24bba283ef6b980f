"""Pass forms as the browser sends them (text), parsed into the API's schemas."""

from __future__ import annotations

from datetime import datetime

from pydantic import ConfigDict, Field

from passtrace.core.clock import LOCAL_TZ
from passtrace.passes.schemas import BulkApprove, Decision, PassCreate
from passtrace.web.forms import FormModel, text
from passtrace.web.render import LOCAL_INPUT


def local_datetime(value: str) -> datetime | str:
    """A datetime-local input in local time, or the text itself for the schema to reject."""
    try:
        return datetime.strptime(value.strip(), LOCAL_INPUT).replace(tzinfo=LOCAL_TZ)
    except ValueError:
        return value


class PassForm(FormModel):
    """The application form (/passes/apply); `parse()` gives the API's PassCreate."""

    request_id: str = ""
    purpose: str = ""
    reason: str = ""
    valid_from: str = ""
    valid_until: str = ""
    areas: list[str] = Field(default_factory=list)
    plate: str = ""
    companions: str = "0"

    def parse(self) -> PassCreate:
        """Validate with the API's rules (a ValidationError names the form's fields)."""
        return PassCreate.model_validate({
            "id": text(self.request_id), "purpose": self.purpose, "reason": self.reason,
            "valid_from": local_datetime(self.valid_from),
            "valid_until": local_datetime(self.valid_until), "areas": self.areas,
            "plate": text(self.plate), "companions": text(self.companions) or 0})


class DecisionForm(Decision):
    """Approve, reject, revoke: the API's Decision, sent from a page (with its CSRF field)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class BulkApproveForm(FormModel):
    """The queue's bulk approval: the ticked passes and one reason for all of them."""

    pass_ids: list[str] = Field(default_factory=list)
    reason: str = ""

    def parse(self) -> BulkApprove:
        """Validate with the API's rules (a ValidationError names the form's fields)."""
        return BulkApprove.model_validate({"pass_ids": self.pass_ids, "reason": self.reason})
