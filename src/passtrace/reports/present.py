"""Turn stored reports into what the API and pages show."""

from __future__ import annotations

from sqlalchemy.orm import Session

from passtrace.areas import service as area_service
from passtrace.areas.models import Area
from passtrace.core.i18n import get_locale, lazy_gettext
from passtrace.reports.models import DailyReport
from passtrace.reports.rules import AREAS_SEEN
from passtrace.reports.schemas import ReportRead, StopRead

MODE_LABELS = {
    "walk": lazy_gettext("Walk"), "car": lazy_gettext("Own car"), "bus": lazy_gettext("Bus"),
    "metro": lazy_gettext("Metro"), "taxi": lazy_gettext("Taxi"),
    "train": lazy_gettext("Train"), "flight": lazy_gettext("Flight"),
}
RISK_LABELS = {"low": lazy_gettext("low risk"), "medium": lazy_gettext("medium risk"),
               "high": lazy_gettext("high risk")}
SYMPTOM_LABELS = {
    "fever": lazy_gettext("Fever"), "cough": lazy_gettext("Cough"),
    "sore_throat": lazy_gettext("Sore throat"), "fatigue": lazy_gettext("Fatigue"),
    "loss_of_smell": lazy_gettext("Loss of smell or taste"),
    "diarrhea": lazy_gettext("Diarrhoea"), "short_breath": lazy_gettext("Short of breath"),
}


def _area_names(session: Session, codes: list[str], locale: str) -> dict[str, str]:
    """Names of areas, from rows already in the session where possible."""
    names: dict[str, str] = {}
    missing = []
    seen: dict[str, Area] = session.info.get(AREAS_SEEN, {})
    for code in set(codes):
        area = seen.get(code)
        if area is not None:
            names[code] = area.name_zh if locale == "zh_CN" else area.name_en
        else:
            missing.append(code)
    if missing:
        names.update(area_service.names(session=session, codes=missing, locale=locale))
    return names


def to_read(session: Session, report: DailyReport) -> ReportRead:
    """Describe one report with its stops and area names."""
    names = _area_names(session, [s.area_code for s in report.stops], get_locale())
    return ReportRead(
        id=report.id, employee_id=report.employee_id, report_date=report.report_date,
        temperature=report.temperature, symptoms=list(report.symptoms),
        stayed_home=report.stayed_home, source=report.source,
        submitted_at=report.submitted_at, amended_at=report.amended_at, late=report.late,
        stops=[StopRead(seq=s.seq, area_code=s.area_code,
                        area_name=names.get(s.area_code, s.area_code), place=s.place,
                        arrive_at=s.arrive_at, depart_at=s.depart_at, mode=s.mode, ref=s.ref,
                        seat=s.seat) for s in report.stops])
