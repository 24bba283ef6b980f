"""What the analytics form offers to pick: areas and open cases of the official's
jurisdiction, by name (officials never type codes or case ids)."""

from __future__ import annotations

import uuid

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
    return labels(session=session, cases=rows)


def labels(*, session: Session, cases: list[Case]) -> list[tuple[str, str]]:
    """Cases labelled without any person data, in the order given."""
    names = area_service.names(session=session, codes=sorted({c.area_code for c in cases}),
                               locale=str(get_locale()))
    out = []
    for c in cases:
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


def run_cases(*, session: Session, actor: Principal, case_ids: list[str]
              ) -> list[tuple[str, str]]:
    """A companions run's cases that the official traces (contact.manage over their
    area), labelled: what its companions may be added to."""
    ids = []
    for raw in case_ids:
        try:
            ids.append(uuid.UUID(raw))
        except ValueError:
            continue
    if not ids:
        return []
    rows = [c for c in session.scalars(select(Case).where(Case.id.in_(ids)))
            if actor.covers_area("contact.manage", c.area_code)]
    order = {str(i): n for n, i in enumerate(ids)}
    return labels(session=session, cases=sorted(rows, key=lambda c: order[str(c.id)]))
