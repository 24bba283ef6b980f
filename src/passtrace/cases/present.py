"""How cases look to the API and the pages: labels, masked persons, history, the timeline."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from passtrace.accounts.models import User
from passtrace.areas import service as area_service
from passtrace.cases import window as windows
from passtrace.cases.models import Case, CaseEvent
from passtrace.cases.schemas import CaseEventRead, CasePerson, CaseRead
from passtrace.cases.service import persons
from passtrace.cases.timeline import KINDS, Item, Timeline
from passtrace.core.clock import LOCAL_TZ
from passtrace.core.i18n import N_, get_locale, gettext
from passtrace.web.charts import timeline_chart

CLASSIFICATION_LABELS = {"confirmed": N_("Confirmed"), "suspected": N_("Suspected"),
                         "asymptomatic": N_("Asymptomatic")}
STATUS_LABELS = {"open": N_("In progress"), "closed": N_("Closed")}
ACTION_LABELS = {"create": N_("Opened"), "edit": N_("Edited"),
                 "reclassify": N_("Reclassified"), "close": N_("Closed"),
                 "reopen": N_("Reopened")}
KIND_LABELS = {"registration": N_("Registration"), "stay": N_("Stay"),
               "stop": N_("Reported stop"), "trip": N_("Reported trip")}
KIND_COLORS = {"registration": "#0b5cad", "stay": "#0a7d32", "stop": "#b35c00",
               "trip": "#7a3fb0"}
DIRECTION_LABELS = {"in": N_("In"), "out": N_("Out"), "through": N_("Through")}
MODE_LABELS = {"walk": N_("On foot"), "car": N_("Car"), "bus": N_("Bus"), "metro": N_("Metro"),
               "taxi": N_("Taxi"), "train": N_("Train"), "flight": N_("Flight")}
FIELD_LABELS = {"classification": N_("Classification"), "status": N_("Status"),
                "onset_date": N_("Onset date"), "sampling_date": N_("Sampling date"),
                "isolation_date": N_("Isolation date"), "window_start": N_("Window start"),
                "window_end": N_("Window end"), "area_code": N_("Area"),
                "source": N_("Source"), "notes": N_("Notes")}


def to_read_many(session: Session, cases: list[Case]) -> list[CaseRead]:
    """Cases with their persons (masked) and area names, in two queries."""
    people = persons(session, cases)
    names = area_service.names(session=session, codes=list({c.area_code for c in cases}),
                               locale=get_locale())
    out = []
    for c in cases:
        p = people[c.person_id]
        out.append(CaseRead(
            id=c.id, person=CasePerson(person_id=p.id, name=p.name_masked,
                                       id_number=p.id_masked),
            classification=c.classification,  # type: ignore[arg-type]
            classification_label=gettext(CLASSIFICATION_LABELS[c.classification]),
            status=c.status, status_label=gettext(STATUS_LABELS[c.status]),  # type: ignore[arg-type]
            onset_date=c.onset_date, sampling_date=c.sampling_date,
            isolation_date=c.isolation_date, window_start=c.window_start,
            window_end=c.window_end,
            window_first_day=c.window_start.astimezone(LOCAL_TZ).date(),
            window_last_day=windows.last_day(c.window_end), area_code=c.area_code,
            area_name=names.get(c.area_code, c.area_code), source=c.source, notes=c.notes,
            created_at=c.created_at, closed_at=c.closed_at, version=c.version))
    return out


def to_read(session: Session, case: Case) -> CaseRead:
    """One case as the API and pages show it."""
    return to_read_many(session, [case])[0]


def events(session: Session, rows: list[CaseEvent]) -> list[CaseEventRead]:
    """History rows with the acting official's display name (never a login name)."""
    ids = {e.actor_user_id for e in rows if e.actor_user_id}
    names: dict[uuid.UUID, str] = dict(session.execute(
        select(User.id, User.display_name).where(User.id.in_(ids))).all()) if ids else {}
    return [CaseEventRead(id=e.id, at=e.at, action=e.action,
                          action_label=gettext(ACTION_LABELS.get(e.action, e.action)),
                          actor=names.get(e.actor_user_id, "") if e.actor_user_id
                          else gettext("Command line"),
                          changes=e.changes) for e in rows]


def change_lines(event: CaseEventRead, area_names: dict[str, str] | None = None
                 ) -> list[tuple[str, str, str]]:
    """(field label, before, after) for a history row, values shown as users read them
    (areas by name, never by code)."""
    def shown(field: str, value: object) -> str:
        if value is None or value == "":
            return "—"
        if field == "area_code":
            return (area_names or {}).get(str(value), str(value))
        if field == "classification":
            return gettext(CLASSIFICATION_LABELS.get(str(value), str(value)))
        if field == "status":
            return gettext(STATUS_LABELS.get(str(value), str(value)))
        if field in ("window_start", "window_end"):
            return datetime.fromisoformat(str(value)).astimezone(LOCAL_TZ).strftime(
                "%Y-%m-%d %H:%M")
        return str(value)

    return [(gettext(FIELD_LABELS.get(k, k)), shown(k, v[0]), shown(k, v[1]))
            for k, v in event.changes.items()]


def history_area_names(session: Session, rows: list[CaseEventRead]) -> dict[str, str]:
    """Names of every area a case's history mentions, in the reader's language."""
    codes = {str(v) for e in rows for v in e.changes.get("area_code", []) if v}
    return area_service.names(session=session, codes=sorted(codes), locale=get_locale())


def item_detail(item: Item) -> str:
    """What a timeline row says besides time and place."""
    if item.kind == "registration":
        text = gettext(DIRECTION_LABELS.get(item.direction or "", item.direction or ""))
        return text + ("" if item.decision == "allow" else " · " + gettext("Denied"))
    if item.kind == "stay":
        return gettext("Left (recorded)") if item.closed_by == "out" else \
            gettext("No exit recorded (assumed end)")
    parts = [gettext(MODE_LABELS[item.mode]) if item.mode in MODE_LABELS else ""]
    if item.kind == "trip":
        parts += [item.ref or "", item.seat or ""]
    return " ".join(p for p in parts if p)


def rows(timeline: Timeline) -> list[dict[str, object]]:
    """The timeline as table rows."""
    return [{"kind": gettext(KIND_LABELS[i.kind]), "kind_code": i.kind, "start": i.start,
             "end": i.end, "place": i.place, "detail": item_detail(i)}
            for i in timeline.items]


def chart(case: Case, timeline: Timeline) -> Markup:
    """The timeline as an SVG: one lane per kind, the window as the axis, a tick per day."""
    start, end = case.window_start, case.window_end
    span = max((end - start).total_seconds(), 1.0)

    def frac(t: datetime) -> float:
        return (t - start).total_seconds() / span

    lanes = [gettext(KIND_LABELS[k]) for k in KINDS]
    marks = []
    for i in timeline.items:
        when = i.start.astimezone(LOCAL_TZ).strftime("%m-%d %H:%M")
        tip = f"{gettext(KIND_LABELS[i.kind])} {when} {i.place} {item_detail(i)}".strip()
        marks.append((KINDS.index(i.kind), frac(i.start),
                      frac(i.end) if i.end is not None else None, tip, KIND_COLORS[i.kind]))
    ticks = []
    day = start.astimezone(LOCAL_TZ).replace(hour=0, minute=0, second=0, microsecond=0)
    days = max(1, int(span // 86400) + 1)
    every = max(1, days // 8)
    k = 0
    while day < end and k < 100:
        if day >= start and k % every == 0:
            ticks.append((frac(day), day.strftime("%m-%d")))
        day = (day + timedelta(days=1, hours=2)).replace(hour=0)
        k += 1
    return timeline_chart(lanes, marks, ticks, title=gettext("Timeline of the exposure window"),
                          desc=gettext("%(num)s entries from %(start)s to %(end)s",
                                       num=len(timeline.items),
                                       start=start.astimezone(LOCAL_TZ).strftime("%Y-%m-%d"),
                                       end=windows.last_day(end).isoformat()))


def area_choices(session: Session, scopes: list[str] | None) -> list[tuple[str, str]]:
    """Areas a case may be put in (inside the official's jurisdiction), by name, nested."""
    from passtrace.areas.models import Area

    zh = get_locale() == "zh_CN"
    indent = {"province": 0, "city": 1, "district": 2, "street": 3, "community": 4}
    out = []
    for a in session.scalars(select(Area).order_by(Area.code)):
        if scopes is not None and not any(a.code.startswith(s) for s in scopes):
            continue
        out.append((a.code, "\u3000" * indent.get(a.level, 0) + (a.name_zh if zh else a.name_en)))
    return out


def scope_area(prefix: str) -> str:
    """The area code a jurisdiction prefix stands for: 5201 -> 520100, 520102001 as is."""
    return prefix.ljust(6, "0") if len(prefix) < 6 else prefix
