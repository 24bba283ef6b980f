"""Daily-report forms as the browser sends them (text), parsed into the API's schemas."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import Field

from passtrace.core.clock import LOCAL_TZ
from passtrace.reports.schemas import QuickIn, ReportIn
from passtrace.reports.service import local_today
from passtrace.web.forms import FormModel, text

STOP_FIELDS = ("area", "place", "arrive", "depart", "mode", "ref", "seat")
MAX_STOPS = 20


def blank_stop() -> dict[str, str]:
    """An empty row of the stops table."""
    return dict.fromkeys(STOP_FIELDS, "")


def _local_dt(day: date, hhmm: str) -> datetime | str | None:
    if not hhmm.strip():
        return None
    try:
        t = datetime.strptime(hhmm.strip(), "%H:%M").time()
    except ValueError:
        return hhmm  # the schema rejects it with a field message
    return datetime.combine(day, t, LOCAL_TZ)


class ReportForm(FormModel):
    """The full daily report (/reports/today): one column list per stop field."""

    report_date: str = ""
    request_id: str = ""
    temperature: str = ""
    symptoms: list[str] = Field(default_factory=list)
    stayed_home: str = ""
    stop_area: list[str] = Field(default_factory=list)
    stop_place: list[str] = Field(default_factory=list)
    stop_arrive: list[str] = Field(default_factory=list)
    stop_depart: list[str] = Field(default_factory=list)
    stop_mode: list[str] = Field(default_factory=list)
    stop_ref: list[str] = Field(default_factory=list)
    stop_seat: list[str] = Field(default_factory=list)

    def stops(self) -> list[dict[str, str]]:
        """The filled rows of the stops table (at most 20)."""
        columns = [getattr(self, f"stop_{f}") for f in STOP_FIELDS]
        rows = [dict(zip(STOP_FIELDS, [c[i] if i < len(c) else "" for c in columns],
                         strict=True))
                for i in range(min(max(map(len, columns)), MAX_STOPS))]
        return [r for r in rows if r["area"] or r["arrive"] or r["place"]]

    def page_values(self) -> dict[str, Any]:
        """What was typed, in the shape the page shows it (plus an empty row to add one)."""
        return {"report_date": self.report_date, "request_id": self.request_id,
                "temperature": self.temperature, "symptoms": self.symptoms,
                "stayed_home": bool(self.stayed_home), "stops": self.stops() + [blank_stop()]}

    def day(self) -> date:
        """The report's day; a day that is not one falls back to today."""
        try:
            return date.fromisoformat(self.report_date) if self.report_date else local_today()
        except ValueError:
            return local_today()

    def parse(self) -> ReportIn:
        """Validate with the API's rules; a stop's errors are named stops[i].field."""
        day = self.day()
        return ReportIn.model_validate({
            "id": text(self.request_id), "report_date": day,
            "temperature": text(self.temperature), "symptoms": self.symptoms,
            "stayed_home": bool(self.stayed_home),
            "stops": [{"area_code": r["area"], "place": r["place"],
                       "arrive_at": _local_dt(day, r["arrive"]) or "",
                       "depart_at": _local_dt(day, r["depart"]), "mode": text(r["mode"]),
                       "ref": text(r["ref"]), "seat": text(r["seat"])}
                      for r in self.stops()]})


class QuickForm(FormModel):
    """One tap: same as yesterday, or stayed home; `parse()` gives QuickIn."""

    kind: str = ""
    temperature: str = ""
    request_id: str = ""

    def parse(self) -> QuickIn:
        """Validate with the API's rules."""
        return QuickIn.model_validate({"id": text(self.request_id), "kind": self.kind,
                                       "temperature": text(self.temperature)})
