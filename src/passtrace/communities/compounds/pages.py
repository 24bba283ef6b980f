"""Compound pages: the manager's (list, households, import, rules) and the resident's own
household (/community).

The overview and who is out are outings' pages, visitors and deliveries have theirs
(communities/outings/pages.py, visits/pages.py, deliveries/pages.py); these link to them.
"""

from __future__ import annotations

import uuid
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from passtrace.communities.compounds import (
    authz,
    household_search,
    overview,
    residents_import,
    rule_changes,
)
from passtrace.communities.compounds import service as community_service
from passtrace.communities.compounds.forms import (
    BuildingForm,
    BuildingIn,
    RemovalForm,
    RemovalIn,
    ResidentForm,
    RulesForm,
)
from passtrace.communities.compounds.models import ROLES, Community
from passtrace.communities.compounds.page_helpers import (
    TIME_HELPERS,
    clean_text,
    community_or_404,
    compound_ctx,
)
from passtrace.communities.compounds.schemas import ResidentCreate, RulesChange
from passtrace.core.errors import NotFound, ValidationFailed
from passtrace.core.i18n import N_, gettext
from passtrace.core.runtime import Runtime
from passtrace.core.search import normalize_query
from passtrace.core.security import Principal
from passtrace.web import forms, imports
from passtrace.web.deps import CurrentPrincipal, RuntimeDep, SessionDep
from passtrace.web.render import render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
COLUMN_LABELS = {"building": N_("Building"), "unit": N_("Unit"), "room": N_("Room"),
                 "name": N_("Name"), "id_number": N_("ID number"), "phone": N_("Mobile"),
                 "role": N_("Role"), "file": N_("File")}


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


# --- households ----------------------------------------------------------------------------

def _households(request: Request, session: Session, principal: Principal, c: Community, *,
                rt: Runtime, building: str = "", room: str = "", after: str = "", q: str = "",
                values: dict[str, str] | None = None, errors: dict[str, str] | None = None,
                building_values: dict[str, str] | None = None,
                building_errors: dict[str, str] | None = None, message: str | None = None,
                flash: str | None = None, status_code: int = 200) -> Response:
    try:
        after_id = uuid.UUID(after) if after else None
    except ValueError:
        after_id = None
    try:
        q = normalize_query(q)
    except ValidationFailed as exc:
        q, message = "", message or exc.translated()
    where = household_search.conditions(session=session, vault=rt.vault, c=c, q=q,
                                        full_names=authz.can_manage(principal, c))
    page = overview.households_page(session=session, c=c, building=building, room=room,
                                    after=after_id, limit=PAGE_SIZE, where=where)
    # Every resident on this page (and only they) sees this read in their access log.
    community_service.record_resident_reads(session=session, actor=principal, people=[
        (r.id, r.person_id) for h in page.households for r in h.residents],
        via="household_list")
    buildings = overview.buildings_with_counts(session=session, c=c)
    return render(request, "communities/households.html", {
        **compound_ctx(principal, c, "households"), "page": page, "building": building,
        "room": room, "q": q, "buildings": buildings,
        "unit_names": sorted({u for b, _ in buildings for u in b.units},
                             key=community_service.natural_key),
        "roles": [(r, gettext(community_service.ROLE_LABELS[r])) for r in ROLES],
        "values": values or {"role": "family"}, "errors": errors or {},
        "building_values": building_values or {}, "building_errors": building_errors or {},
        "message": message, "flash": flash}, status_code=status_code)


@router.get("/communities/{code}/households")
def households(request: Request, code: str, session: SessionDep, rt: RuntimeDep,
               principal: CurrentPrincipal, building: str = "", room: str = "",
               after: str = "", q: str = "",
               added: str = "", removed: str = "", built: str = "") -> Response:
    """Buildings, households and residents (masked), with who is out; the forms to add."""
    c = community_or_404(session, principal, code)
    flash = (gettext("The resident was added and their household pass issued.") if added
             else gettext("The resident was removed and their household pass revoked.")
             if removed else gettext("The building was saved.") if built else None)
    return _households(request, session, principal, c, rt=rt,
                       building=clean_text(building, 32), room=clean_text(room, 16),
                       after=clean_text(after, 40), q=clean_text(q, 100), flash=flash)


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
        request, session, principal, c, rt=rt, values=f.values, errors=f.errors,
        message=f.message, status_code=f.status))


BUILDING_MESSAGES = {"units.too_long": N_("At most 20 units.")}


@router.post("/communities/{code}/buildings")
def add_building(request: Request, code: str, session: SessionDep, rt: RuntimeDep,
                 principal: CurrentPrincipal,
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
        return _households(request, session, principal, c, rt=rt, building_values=f.values,
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
    return _removal_page(request, session, principal, c, resident, label)


def _removal_page(request: Request, session: Session, principal: Principal, c: Community,
                  resident: overview.ResidentView, label: str, *, reason: str = "",
                  reason_code: str | None = None, error: str | None = None,
                  status_code: int = 200) -> Response:
    # The page shows the resident's masked name and ID number: a read in their access log
    # (a refused removal shows them again, and its savepoint took the first entry back).
    community_service.record_resident_reads(session=session, actor=principal, people=[
        (resident.id, resident.person_id)], via="removal_form")
    ctx: dict[str, object] = {
        **compound_ctx(principal, c, "households"), "resident": resident, "household": label,
        "reason": reason, "error": error}
    if reason_code is not None:
        ctx["reason_code"] = reason_code
    return render(request, "communities/remove.html", ctx, status_code=status_code)


REMOVAL_MESSAGES = {"reason.missing": N_("Give the reason (at least 2 characters)."),
                    "reason.string_too_short": N_("Give the reason (at least 2 characters).")}


@router.post("/communities/{code}/residents/{resident_id}/remove")
def remove_resident(request: Request, code: str, resident_id: str, session: SessionDep,
                    rt: RuntimeDep, principal: CurrentPrincipal,
                    form: Annotated[RemovalForm, Form()]) -> Response:
    """Take the resident off (their household pass is revoked); a reason is required."""
    c = community_or_404(session, principal, code)
    resident, label = _resident_or_404(session, c, resident_id)

    def save(data: RemovalIn) -> Response:
        community_service.remove_resident(session=session, actor=principal, code=c.code,
                                          resident_id=resident.id, reason=data.reason,
                                          reason_code=data.reason_code or None,
                                          settings=rt.settings)
        return RedirectResponse(f"/communities/{c.code}/households?removed=1", status_code=303)

    return forms.submit(session, form, save, lambda f: _removal_page(
        request, session, principal, c, resident, label, reason=f.values["reason"],
        reason_code=f.values.get("reason_code", ""),
        error=f.errors.get("reason") or f.errors.get("reason_code") or f.message,
        status_code=f.status), messages=REMOVAL_MESSAGES)


# --- import --------------------------------------------------------------------------------

@router.get("/communities/{code}/import")
def import_form(request: Request, code: str, session: SessionDep,
                principal: CurrentPrincipal) -> Response:
    """The household-list upload form."""
    c = community_or_404(session, principal, code)
    return render(request, "communities/import.html", {**compound_ctx(principal, c, "import"),
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
    # The database work runs in the threadpool, never on the event loop: a writer
    # may wait there for SQLite's write lock (core/sqlite_writes).
    data = await imports.upload(form.file)
    return await run_in_threadpool(_import, request, code, session, rt, principal, form, data)


def _import(request: Request, code: str, session: Session, rt: Runtime, principal: Principal,
            form: imports.ImportForm, data: bytes) -> Response:
    c = community_or_404(session, principal, code)
    ctx = {**compound_ctx(principal, c, "import"), "import_valid": form.valid_rows, "report": None}

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
    "reason": N_("Explain the decision in at most 500 characters."),
    "reason_code": N_("Choose a reason from the list."),
}


def _rule_values(c: Community) -> dict[str, str]:
    return {f: "" if getattr(c, f) is None else str(getattr(c, f))
            for f in community_service.RULE_FIELDS}


def _rules_page(request: Request, principal: Principal, c: Community, values: dict[str, str],
                errors: dict[str, str], message: str | None = None,
                status_code: int = 200) -> Response:
    return render(request, "communities/rules.html", {
        **compound_ctx(principal, c, "rules"), "values": values, "errors": errors,
        "message": message, "rule_reasons": list(rule_changes.RULE_REASONS.items())},
        status_code=status_code)


@router.get("/communities/{code}/rules")
def rules_form(request: Request, code: str, session: SessionDep,
               principal: CurrentPrincipal) -> Response:
    """The outing rules, each explained; empty means no limit."""
    c = community_or_404(session, principal, code)
    return _rules_page(request, principal, c, _rule_values(c), {})


@router.post("/communities/{code}/rules")
def rules_save(request: Request, code: str, session: SessionDep, principal: CurrentPrincipal,
               rt: RuntimeDep, form: Annotated[RulesForm, Form()]) -> Response:
    """Save the rules and go back to the overview, or show the form with messages."""
    c = community_or_404(session, principal, code)

    def save(data: RulesChange) -> Response:
        community_service.set_rules(session=session, actor=principal, code=c.code, data=data,
                                    reason_code=data.reason_code, reason=data.reason,
                                    settings=rt.settings)
        return RedirectResponse(f"/communities/{c.code}?saved=rules#rules", status_code=303)

    return forms.submit(session, form, save, lambda f: _rules_page(
        request, principal, c, f.values, f.errors,
        f.message, status_code=f.status),
        messages=RULE_MESSAGES)


# --- the resident's own household ----------------------------------------------------------

@router.get("/community")
def my_household(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    """My household: members in or out, the limits used, the rules, my pass, visitors."""
    homes = (overview.my_households(session=session, person_id=principal.person_id)
             if principal.person_id is not None else [])
    return render(request, "communities/mine.html", {"homes": homes, **TIME_HELPERS})
