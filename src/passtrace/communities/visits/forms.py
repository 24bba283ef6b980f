"""Visitor forms as the browser sends them (text), parsed into the API's schemas."""

from __future__ import annotations

from pydantic import BaseModel

from passtrace.communities.compounds.page_helpers import CONTROL
from passtrace.communities.visits.schemas import VisitCreate
from passtrace.web.forms import FormModel, text


class InviteForm(BaseModel):
    """A resident invites a visitor (/community/visits); `parse()` gives VisitCreate."""

    name: str = ""
    phone: str = ""
    id_number: str = ""
    purpose: str = ""
    visit_date: str = ""
    community: str = ""
    request_id: str = ""

    def parse(self) -> VisitCreate:
        """Validate with the API's rules (control characters are refused there)."""
        return VisitCreate.model_validate({
            "id": text(self.request_id), "community": text(self.community),
            "name": self.name, "phone": self.phone, "id_number": self.id_number,
            "purpose": self.purpose, "visit_date": self.visit_date})


class ReasonForm(FormModel):
    """Cancel, approve or refuse a visit: a reason, and the list to go back to."""

    reason: str = ""
    back: str = ""

    @property
    def clean_reason(self) -> str:
        """The reason on one line (control characters become spaces)."""
        return CONTROL.sub(" ", self.reason)
