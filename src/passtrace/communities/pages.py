"""Compound pages: the manager's (list, overview with the in/out chart, households, import,
rules, who is out) and the resident's own household (/community).

Visitors and deliveries have their own pages (visit_pages.py); these link to them.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from passtrace.communities import authz, overview, presence, residents_import
from passtrace.communities import service as community_service
from passtrace.communities.forms import (
    BuildingForm,
    BuildingIn,
    RemovalForm,
    RemovalIn,
    ResidentForm,
    RulesForm,
)
from passtrace.communities.models import ROLES, Community
from passtrace.communities.page_helpers import clean_text, community_or_404
from passtrace.communities.schemas import ResidentCreate, RulesWrite
from passtrace.core.clock import LOCAL_TZ, local_today, utcnow
from passtrace.core.errors import NotFound
from passtrace.core.i18n import N_, gettext
from passtrace.core.security import Principal
from passtrace.core.validators import check_day
from passtrace.rules import outings as outing_rules
from passtrace.web import charts, forms, imports
from passtrace.web.deps import CurrentPrincipal, RuntimeDep, SessionDep
from passtrace.web.render import render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
COLUMN_LABELS = {"building": N_("Building"), "unit": N_("Unit"), "room": N_("Room"),
                 "name": N_("Name"), "id_number": N_("ID number"), "phone": N_("Mobile"),
                 "role": N_("Role"), "file": N_("File")}


def _today() -> date:
    return local_today()


def minutes_text(minutes: int) -> str:
    """90 -> "1 h 30 min" (translated)."""
    if minutes < 60:
        return gettext("%(minutes)s min", minutes=minutes)
    return gettext("%(hours)s h %(minutes)s min", hours=minutes // 60, minutes=minutes % 60)


def _local(value: datetime | None) -> str:
    """Local time: HH:MM today, MM-DD HH:MM otherwise."""
    if value is None:
        return ""
    local = value.astimezone(LOCAL_TZ)
    return local.strftime("%H:%M" if local.date() == _today() else "%m-%d %H:%M")


HELPERS = {"minutes_text": minutes_text, "shorttime": _local}


def _ctx(principal: Principal, c: Community, section: str) -> dict[str, Any]:
    return {"c": c, "can_manage": authz.can_manage(principal, c), "section": section,
            **HELPERS}


# --- the list of compounds -----------------------------------------------------------------

@router.get("/communities")
def index(request: Request, session: SessionDep, principal: CurrentPrincipal,
          q: str = "") -> Response:
    """The compounds I run or oversee; a manager of exactly one goes straight to it."""
    q = clean_text(q, 60)
    rows = community_service.list_visible(session=session, actor=principal, q=q, limit=100)
    total = community_service.count_visible(session=session, actor=principal, q=q)
    # Only community-scoped (no area or global binding): the compound manager's own.
    if total == 1 and not q and principal.area_scopes("community.view") == []:
        return RedirectResponse(f"/communities/{rows[0].code}", status_code=303)
    return render(request, "communities/index.html", {
        "q": q, "total": total, "items": overview.community_rows(
            session=session, communities=rows), "shown": len(rows)})


# --- one compound: overview ----------------------------------------------------------------

def _day(raw: str) -> tuple[date, str | None]:
    today = _today()
    if not raw:
        return today, None
    try:
        day = check_day(date.fromisoformat(raw[:10]))
    except ValueError:  # not a date, or outside the bounds of every date input
        return today, gettext("Enter a date.")
    return (day, None) if day <= today else (today, None)


@router.get("/communities/{code}")
def community_home(request: Request, code: str, session: SessionDep,
                   principal: CurrentPrincipal, day: str = "", saved: str = "") -> Response:
    """Overview: size, who is out and overdue, visitors today, rules, gates, in/out by hour."""
    c = community_or_404(session, principal, code)
    chosen, day_error = _day(clean_text(day, 20))
    today = _today()
    series = presence.in_out_by_hour(session=session, c=c, day=chosen)
    hours = [f"{h:02d}:00" for h in range(24)]
    chart = charts.grouped_bar_chart(
        hours, [(gettext("Entries"), series["in"], "#0a7d32"),
                (gettext("Exits"), series["out"], "#0b5cad")],
        title=gettext("Entries and exits by hour, %(day)s", day=chosen.isoformat()),
        y_label=gettext("persons"))
    return render(request, "communities/overview.html", {
        **_ctx(principal, c, "overview"),
        "counts": community_service.counts(session=session, c=c),
        "out_now": presence.out_count(session=session, c=c),
        "overdue": len(presence.who_is_out(session=session, c=c, overdue_only=True)),
        "visitors": overview.visitors_on(session=session, c=c, day=today),
        "rules": outing_rules.summary(outing_rules.rules_of(c)),
        "gates": community_service.gates(session=session, c=c),
        "chart": chart, "day": chosen, "today": today, "day_error": day_error,
        "entries": sum(series["in"]), "exits": sum(series["out"]),
        "prev_day": chosen - timedelta(days=1),
        "next_day": chosen + timedelta(days=1) if chosen < today else None,
        "saved": saved == "rules"})


# --- households ----------------------------------------------------------------------------

def _households(request: Request, session: Session, principal: Principal, c: Community, *,
                building: str = "", room: str = "", after: str = "",
                values: dict[str, str] | None = None, errors: dict[str, str] | None = None,
                building_values: dict[str, str] | None = None,
                building_errors: dict[str, str] | None = None, message: str | None = None,
                flash: str | None = None, status_code: int = 200) -> Response:
    try:
        after_id = uuid.UUID(after) if after else None
    except ValueError:
        after_id = None
    page = overview.households_page(session=session, c=c, building=building, room=room,
                                    after=after_id, limit=PAGE_SIZE)
    buildings = overview.buildings_with_counts(session=session, c=c)
    return render(request, "communities/households.html", {
        **_ctx(principal, c, "households"), "page": page, "building": building, "room": room,
        "buildings": buildings,
        "unit_names": sorted({u for b, _ in buildings for u in b.units},
                             key=community_service.natural_key),
        "roles": [(r, gettext(community_service.ROLE_LABELS[r])) for r in ROLES],
        "values": values or {"role": "family"}, "errors": errors or {},
        "building_values": building_values or {}, "building_errors": building_errors or {},
        "message": message, "flash": flash}, status_code=status_code)


@router.get("/communities/{code}/households")
def households(request: Request, code: str, session: SessionDep, principal: CurrentPrincipal,
               building: str = "", room: str = "", after: str = "",
               added: str = "", removed: str = "", built: str = "") -> Response:
    """Buildings, households and residents (masked), with who is out; the forms to add."""
    c = community_or_404(session, principal, code)
    flash = (gettext("The resident was added and their household pass issued.") if added
             else gettext("The resident was removed and their household pass revoked.")
             if removed else gettext("The building was saved.") if built else None)
    return _households(request, session, principal, c, building=clean_text(building, 32),
                       room=clean_text(room, 16), after=clean_text(after, 40), flash=flash)


@router.post("/communities/{code}/residents")
def add_resident(request: Request, code: str, session: SessionDep, rt: RuntimeDep,
                 principal: CurrentPrincipal, form: Annotated[ResidentForm, Form()]) -> Response:
    """Register a resident in a flat (created if new), or show the form with messages."""
    c = community_or_404(session, principal, code)

    def save(data: ResidentCreate) -> Response:
        r = community_service.add_resident(session=session, rt=rt, actor=principal,
                                           code=c.code, data=data)
        query = urlencode({"added": 1, "building": data.building, "room": data.room})
        return RedirectResponse(f"/communities/{c.code}/households?{query}"
                                f"#household-{r.household_id}", status_code=303)

    return forms.submit(session, form, save, lambda f: _households(
        request, session, principal, c, values=f.values, errors=f.errors,
        message=f.message, status_code=f.status))


BUILDING_MESSAGES = {"units.too_long": N_("At most 20 units.")}


@router.post("/communities/{code}/buildings")
def add_building(request: Request, code: str, session: SessionDep, principal: CurrentPrincipal,
                 form: Annotated[BuildingForm, Form()]) -> Response:
    """Add a building with its units (or more units to one)."""
    c = community_or_404(session, principal, code)

    def save(data: BuildingIn) -> Response:
        community_service.add_building(session=session, actor=principal, code=c.code,
                                       name=data.name, units=data.units)
        return RedirectResponse(f"/communities/{c.code}/households?built=1", status_code=303)

    def again(f: forms.Failure) -> Response:
        # The service names the building and unit; the form calls them name and units.
        errors = {"name" if k == "building" else "units" if k == "unit" else k: v
                  for k, v in f.errors.items()} or {"name": f.message or ""}
        return _households(request, session, principal, c, building_values=f.values,
                           building_errors=errors, status_code=f.status)

    return forms.submit(session, form, save, again, messages=BUILDING_MESSAGES)


def _resident_or_404(session: Session, c: Community, resident_id: str
                     ) -> tuple[overview.ResidentView, str]:
    try:
        rid = uuid.UUID(resident_id)
    except ValueError:
        raise NotFound("No such resident.") from None
    found = overview.resident_in(session=session, c=c, resident_id=rid)
    if found is None:
        raise NotFound("No such resident.")
    return found


@router.get("/communities/{code}/residents/{resident_id}/remove")
def remove_form(request: Request, code: str, resident_id: str, session: SessionDep,
                principal: CurrentPrincipal) -> Response:
    """Ask for the reason before taking a resident off their household."""
    c = community_or_404(session, principal, code)
    resident, label = _resident_or_404(session, c, resident_id)
    return render(request, "communities/remove.html", {
        **_ctx(principal, c, "households"), "resident": resident, "household": label,
        "reason": "", "error": None})


REMOVAL_MESSAGES = {"reason.missing": N_("Give the reason (at least 2 characters)."),
                    "reason.string_too_short": N_("Give the reason (at least 2 characters).")}


@router.post("/communities/{code}/residents/{resident_id}/remove")
def remove_resident(request: Request, code: str, resident_id: str, session: SessionDep,
                    principal: CurrentPrincipal,
                    form: Annotated[RemovalForm, Form()]) -> Response:
    """Take the resident off (their household pass is revoked); a reason is required."""
    c = community_or_404(session, principal, code)
    resident, label = _resident_or_404(session, c, resident_id)

    def save(data: RemovalIn) -> Response:
        community_service.remove_resident(session=session, actor=principal, code=c.code,
                                          resident_id=resident.id, reason=data.reason)
        return RedirectResponse(f"/communities/{c.code}/households?removed=1", status_code=303)

    return forms.submit(session, form, save, lambda f: render(
        request, "communities/remove.html", {
            **_ctx(principal, c, "households"), "resident": resident, "household": label,
            "reason": f.values["reason"],
            "error": f.errors.get("reason") or f.message}, status_code=f.status),
        messages=REMOVAL_MESSAGES)


# --- import --------------------------------------------------------------------------------

@router.get("/communities/{code}/import")
def import_form(request: Request, code: str, session: SessionDep,
                principal: CurrentPrincipal) -> Response:
    """The household-list upload form."""
    c = community_or_404(session, principal, code)
    return render(request, "communities/import.html", {**_ctx(principal, c, "import"),
                                                      "report": None})


@router.get("/communities/{code}/import/template")
def import_template(code: str, session: SessionDep, principal: CurrentPrincipal) -> Response:
    """A household sheet to fill in (CSV with the Chinese headers Excel opens)."""
    c = community_or_404(session, principal, code)
    return Response(residents_import.template_csv(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition":
                             f'attachment; filename="households-{c.code}.csv"'})


@router.post("/communities/{code}/import")
async def import_upload(
    request: Request, code: str, session: SessionDep, rt: RuntimeDep,
    principal: CurrentPrincipal, form: Annotated[imports.ImportForm, Form()],
) -> Response:
    """Import the sheet and show the row-by-row report."""
    c = community_or_404(session, principal, code)
    ctx = {**_ctx(principal, c, "import"), "import_valid": form.valid_rows, "report": None}
    data = await imports.upload(form.file)

    def imported() -> Response:
        result = residents_import.import_households(
            session=session, rt=rt, actor=principal, code=c.code, filename=form.filename,
            content=data, import_valid=form.valid_rows)
        return render(request, "communities/import.html", {
            **ctx, **imports.report_context(result, COLUMN_LABELS)},
            status_code=imports.status(result))

    return forms.attempt(session, imported, lambda f: render(
        request, "communities/import.html", {**ctx, "message": f.message},
        status_code=f.status))


# --- rules ---------------------------------------------------------------------------------

RULE_MESSAGES = {
    "max_out_per_household": N_("Enter a whole number from 1 to 20, or leave it empty."),
    "outings_per_window": N_("Enter a whole number from 1 to 100, or leave it empty."),
    "window_days": N_("Enter a number of days from 1 to 14."),
    "curfew_start": N_("Enter a time as HH:MM, e.g. 22:00."),
    "curfew_end": N_("Enter a time as HH:MM, e.g. 06:00."),
    "max_out_minutes": N_("Enter minutes from 10 to 1440, or leave it empty."),
    "visitor_approval": N_("Choose one of the offered values."),
}


def _rule_values(c: Community) -> dict[str, str]:
    return {f: "" if getattr(c, f) is None else str(getattr(c, f))
            for f in community_service.RULE_FIELDS}


def _rules_page(request: Request, principal: Principal, c: Community, values: dict[str, str],
                errors: dict[str, str], message: str | None = None,
                status_code: int = 200) -> Response:
    return render(request, "communities/rules.html", {
        **_ctx(principal, c, "rules"), "values": values, "errors": errors,
        "message": message}, status_code=status_code)


@router.get("/communities/{code}/rules")
def rules_form(request: Request, code: str, session: SessionDep,
               principal: CurrentPrincipal) -> Response:
    """The outing rules, each explained; empty means no limit."""
    c = community_or_404(session, principal, code)
    return _rules_page(request, principal, c, _rule_values(c), {})


@router.post("/communities/{code}/rules")
def rules_save(request: Request, code: str, session: SessionDep, principal: CurrentPrincipal,
               form: Annotated[RulesForm, Form()]) -> Response:
    """Save the rules and go back to the overview, or show the form with messages."""
    c = community_or_404(session, principal, code)

    def save(data: RulesWrite) -> Response:
        community_service.set_rules(session=session, actor=principal, code=c.code, data=data)
        return RedirectResponse(f"/communities/{c.code}?saved=rules#rules", status_code=303)

    return forms.submit(session, form, save, lambda f: _rules_page(
        request, principal, c, f.values, f.errors,
        f.message, status_code=f.status),
        messages=RULE_MESSAGES)


# --- who is out ----------------------------------------------------------------------------

@router.get("/communities/{code}/out")
def out_now(request: Request, code: str, session: SessionDep, principal: CurrentPrincipal,
            overdue: str = "", week: str = "") -> Response:
    """Who is out now (longest first; overdue in red) and outings per household this week."""
    c = community_or_404(session, principal, code)
    only_overdue = overdue not in ("", "0", "false")
    rows = presence.who_is_out(session=session, c=c, overdue_only=only_overdue)
    weekly = presence.outings_this_week(session=session, c=c)
    top = weekly[:10]
    short = overview.short_labels(session=session, household_ids=[w.household_id for w in top])
    chart = charts.bar_chart(
        [short.get(w.household_id, w.household) for w in top], [w.outings for w in top],
        title=gettext("Outings this week: the busiest households"),
        y_label=gettext("outings")) if top else None
    return render(request, "communities/out.html", {
        **_ctx(principal, c, "out"), "rows": rows, "overdue_only": only_overdue,
        "overdue": overview.overdue_count(rows), "week": weekly, "chart": chart,
        "all_week": week == "all",
        "week_start": outing_rules.week_start(utcnow()),
        "max_out_minutes": c.max_out_minutes})


# --- the resident's own household ----------------------------------------------------------

@router.get("/community")
def my_household(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    """My household: members in or out, the limits used, the rules, my pass, visitors."""
    homes = (overview.my_households(session=session, person_id=principal.person_id)
             if principal.person_id is not None else [])
    return render(request, "communities/mine.html", {"homes": homes, **HELPERS})
