"""Health forms as the browser sends them (text), parsed into the API's schemas."""

from __future__ import annotations

from datetime import date, datetime

from passtrace.core.clock import local_midnight
from passtrace.health.schemas import AppealCreate, AppealDecision, ProposalCreate, ProposalDecision
from passtrace.web.forms import FormModel


class AppealForm(FormModel):
    """The person's appeal against one flag (/health/me)."""

    flag_id: str = ""
    statement: str = ""

    def parse(self) -> AppealCreate:
        """The API's AppealCreate."""
        return AppealCreate.model_validate({"flag_id": self.flag_id.strip(),
                                            "statement": self.statement})


class ProposalForm(FormModel):
    """An official's proposal (/health/people/{id}); `until` is a local day (optional)."""

    person_id: str = ""
    level: str = ""
    reason: str = ""
    until: str = ""

    def parse(self) -> ProposalCreate:
        """The API's ProposalCreate; the end is the start of the local day given."""
        until: datetime | str | None = None
        if self.until.strip():
            try:
                until = local_midnight(date.fromisoformat(self.until.strip()))
            except ValueError:
                until = self.until  # the schema refuses it with a field message
        return ProposalCreate.model_validate({"person_id": self.person_id.strip(),
                                              "level": self.level,
                                              "reason": self.reason, "until": until})


class ProposalDecisionForm(FormModel):
    """Approve or refuse (the button pressed sends `decision`)."""

    decision: str = ""
    note: str = ""

    def parse(self) -> ProposalDecision:
        """The API's ProposalDecision."""
        return ProposalDecision.model_validate({"approve": self.decision == "approve",
                                                "note": self.note})


class AppealDecisionForm(FormModel):
    """Grant or refuse an appeal (the button pressed sends `decision`)."""

    decision: str = ""
    reason: str = ""

    def parse(self) -> AppealDecision:
        """The API's AppealDecision."""
        return AppealDecision.model_validate({"grant": self.decision == "grant",
                                              "reason": self.reason})
