"""Case forms as the browser sends them (text), parsed into the API's schemas."""

from __future__ import annotations

from passtrace.cases.schemas import CaseCreate, CaseTransition, CaseUpdate
from passtrace.web.forms import FormModel, text


class _CaseFields(FormModel):
    """The fields the new-case and edit forms share, as text."""

    classification: str = "confirmed"
    onset_date: str = ""
    sampling_date: str = ""
    isolation_date: str = ""
    window_start: str = ""
    window_end: str = ""
    area_code: str = ""
    source: str = ""
    notes: str = ""

    def _fields(self) -> dict[str, object]:
        return {"classification": self.classification, "onset_date": text(self.onset_date),
                "sampling_date": text(self.sampling_date),
                "isolation_date": text(self.isolation_date),
                "area_code": self.area_code.strip(), "source": self.source,
                "notes": self.notes}


class CaseForm(_CaseFields):
    """The new-case form (/cases/new); `parse()` gives the API's CaseCreate."""

    id_number: str = ""

    def parse(self) -> CaseCreate:
        """Validate with the API's rules (a ValidationError names the form's fields)."""
        return CaseCreate.model_validate({
            "id_number": text(self.id_number), **self._fields(),
            "window_start": text(self.window_start), "window_end": text(self.window_end)})


class CaseEditForm(_CaseFields):
    """The edit form on the case page: every field is sent; dates left empty are cleared."""

    version: str = ""
    classification: str = ""

    def parse(self) -> CaseUpdate:
        """The API's CaseUpdate; the window is sent only when both days are filled in."""
        data: dict[str, object] = {"version": text(self.version), **self._fields()}
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
