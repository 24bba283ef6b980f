"""What the analytics form offers to pick: areas and open cases of the official's
jurisdiction, by name (officials never type codes or case ids)."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from passtrace.analytics.service import PERMISSION
from passtrace.areas import service as area_service
from passtrace.cases import present as case_present
from passtrace.cases.models import Case
from passtrace.core.clock import LOCAL_TZ
from passtrace.core.i18n import get_locale, gettext
from passtrace.core.security import Principal

OPEN_CASES_SHOWN = 200  # the newest; older cases are closed long before a scan is asked


def areas(*, session: Session, actor: Principal) -> list[tuple[str, str]]:
    """Areas inside the official's jurisdiction, nested by level."""
    return case_present.area_choices(session, actor.area_scopes(PERMISSION))


def cases(*, session: Session, actor: Principal) -> list[tuple[str, str]]:
    """The open cases of the official's areas, newest first, labelled without any person
    data (classification, area, onset or sampling day, when it was recorded)."""
    scopes = actor.area_scopes(PERMISSION)
    stmt = select(Case).where(Case.status == "open")
    if scopes is not None:
        stmt = stmt.where(or_(*[Case.area_code.startswith(s) for s in scopes]))
    rows = list(session.scalars(stmt.order_by(Case.created_at.desc()).limit(OPEN_CASES_SHOWN)))
    names = area_service.names(session=session, codes=sorted({c.area_code for c in rows}),
                               locale=str(get_locale()))
    out = []
    for c in rows:
        day = c.onset_date or c.sampling_date
        label = " · ".join(filter(None, [
            gettext(case_present.CLASSIFICATION_LABELS.get(c.classification,
                                                           c.classification)),
            names.get(c.area_code, ""),
            gettext("onset %(day)s", day=day.isoformat()) if day else "",
            gettext("recorded %(at)s",
                    at=c.created_at.astimezone(LOCAL_TZ).strftime("%m-%d %H:%M"))]))
        out.append((str(c.id), label))
    return out
