"""Case forms as the browser sends them (text), parsed into the API's schemas."""

from __future__ import annotations

from passtrace.cases.schemas import CaseCreate, CaseTransition, CaseUpdate
from passtrace.web.forms import FormModel, text


class CaseForm(FormModel):
    """The new-case form (/cases/new); `parse()` gives the API's CaseCreate."""

    id_number: str = ""
    classification: str = "confirmed"
    onset_date: str = ""
    sampling_date: str = ""
    isolation_date: str = ""
    window_start: str = ""
    window_end: str = ""
    area_code: str = ""
    source: str = ""
    notes: str = ""

    def parse(self) -> CaseCreate:
        """Validate with the API's rules (a ValidationError names the form's fields)."""
        return CaseCreate.model_validate({
            "id_number": text(self.id_number), "classification": self.classification,
            "onset_date": text(self.onset_date), "sampling_date": text(self.sampling_date),
            "isolation_date": text(self.isolation_date),
            "window_start": text(self.window_start), "window_end": text(self.window_end),
            "area_code": self.area_code.strip(), "source": self.source, "notes": self.notes})


class CaseEditForm(FormModel):
    """The edit form on the case page: every field is sent; dates left empty are cleared."""

    version: str = ""
    classification: str = ""
    onset_date: str = ""
    sampling_date: str = ""
    isolation_date: str = ""
    window_start: str = ""
    window_end: str = ""
    area_code: str = ""
    source: str = ""
    notes: str = ""

    def parse(self) -> CaseUpdate:
        """The API's CaseUpdate; the window is sent only when both days are filled in."""
        data: dict[str, object] = {
            "version": text(self.version), "classification": self.classification,
            "onset_date": text(self.onset_date), "sampling_date": text(self.sampling_date),
            "isolation_date": text(self.isolation_date), "area_code": self.area_code.strip(),
            "source": self.source, "notes": self.notes}
        if text(self.window_start) or text(self.window_end):
            data["window_start"] = text(self.window_start)
            data["window_end"] = text(self.window_end)
        return CaseUpdate.model_validate(data)


class TransitionForm(FormModel):
    """Close or reopen from the case page."""

    version: str = ""
    note: str = ""

    def parse(self) -> CaseTransition:
        """The API's CaseTransition."""
        return CaseTransition.model_validate({"version": text(self.version),
                                              "note": self.note})
