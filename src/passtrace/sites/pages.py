"""Site pages: the list, a site's day (charts), registering and importing sites, devices."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from passtrace.core.clock import utcnow
from passtrace.web.deps import CurrentPrincipal, SessionDep
from passtrace.core.errors import DomainError, Forbidden, NotFound
from passtrace.core.i18n import gettext
from passtrace.core.validators import Day
from passtrace.registrations import stats as reg_stats
from passtrace.registrations.decide import LOCAL_TZ, REASONS
from passtrace.sites import authz, present
from passtrace.sites import service as site_service
from passtrace.sites.schemas import SiteWrite
from passtrace.sites.views import MAX_IMPORT_BYTES
from passtrace.web import charts
from passtrace.web.render import render

router = APIRouter(prefix="/sites", include_in_schema=False)


@router.get("")
def site_list(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    """The sites I work at or oversee."""
    sites = site_service.list_visible(session=session, actor=principal)
    return render(request, "sites/list.html", {
        "sites": present.to_read_many(session, sites),
        "can_manage": principal.has("site.manage"),
        "kinds": present.KIND_LABELS})


def _form_values(form: dict[str, str]) -> dict[str, object]:
    def split(value: str) -> list[str]:
        return [p for p in value.replace("，", ",").replace(";", ",").split(",") if p.strip()]

    values: dict[str, object] = {k: v for k, v in form.items() if k != "csrf_token" and v}
    for name in ("lanes", "opening_hours"):
        if name in values:
            values[name] = [p.strip() for p in split(str(values[name]))]
    return values


@router.get("/new")
def new_site(request: Request, principal: CurrentPrincipal) -> Response:
    """The form to register a site."""
    if not principal.has("site.manage"):
        raise Forbidden("Your role does not allow this.")
    return render(request, "sites/form.html", {"values": {"lanes": "1"}, "errors": {},
                                               "kinds": present.KIND_LABELS})


@router.post("/new")
async def create_site(request: Request, session: SessionDep,
                      principal: CurrentPrincipal) -> Response:
    """Register (or update) a site from the form; errors come back next to the fields."""
    form = {k: str(v).strip() for k, v in (await request.form()).items()
            if isinstance(v, str)}
    errors: dict[str, str] = {}
    try:
        data = SiteWrite.model_validate(_form_values(form))
        nested = session.begin_nested()
        try:
            site, _ = site_service.save(session=session, actor=principal, data=data)
        except DomainError:
            nested.rollback()
            raise
        nested.commit()
        return RedirectResponse(f"/sites/{site.code}", status_code=303)
    except ValidationError as exc:
        for err in exc.errors():
            errors[str(err["loc"][0])] = gettext("This value is not valid.")
    except DomainError as exc:
        errors = exc.translated_fields() or {"_": exc.translated()}
    return render(request, "sites/form.html", {"values": form, "errors": errors,
                                               "kinds": present.KIND_LABELS},
                  status_code=422)


@router.post("/import")
async def import_sites(request: Request, session: SessionDep, principal: CurrentPrincipal,
                       file: Annotated[UploadFile, File()],
                       apply_valid: Annotated[bool, Form()] = False) -> Response:
    """Import sites from a spreadsheet and show the row-by-row report."""
    if not principal.has("site.manage"):
        raise Forbidden("Your role does not allow this.")
    data = await file.read(MAX_IMPORT_BYTES + 1)
    error = None
    report = None
    if len(data) > MAX_IMPORT_BYTES:
        error = gettext("The file is too large (at most %(mb)s MB).", mb=5)
    else:
        try:
            report = site_service.import_sites(session=session, actor=principal, data=data,
                                               filename=file.filename or "",
                                               apply_valid=apply_valid)
        except DomainError as exc:
            error = exc.translated()
    sites = site_service.list_visible(session=session, actor=principal)
    return render(request, "sites/list.html", {
        "sites": present.to_read_many(session, sites), "can_manage": True,
        "kinds": present.KIND_LABELS, "report": report, "import_error": error},
        status_code=200 if error is None else 422)


@router.get("/{code}")
def site_day(request: Request, code: str, session: SessionDep, principal: CurrentPrincipal,
             day: Day | None = None) -> Response:
    """A site's day: persons per hour, lanes, denials by reason, devices still offline."""
    site = site_service.get_visible(session=session, actor=principal, code=code)
    today = utcnow().astimezone(LOCAL_TZ).date()
    day = day or today
    figures = (reg_stats.site_stats(session=session, site=site, day=day)
               if authz.can_see_stats(principal, site) else None)
    context: dict[str, object] = {
        "site": present.to_read_many(session, [site])[0], "figures": figures, "day": day,
        "prev_day": day - timedelta(days=1), "next_day": day + timedelta(days=1)
        if day < today else None,
        "is_staff": authz.is_staff(principal, site), "can_manage": authz.can_manage(principal,
                                                                                    site),
        "reason_labels": {c: gettext(m) for c, m in REASONS.items()},
        "staff": site_service.staff_of(session=session, site=site)
        if authz.can_manage(principal, site) else []}
    if figures is not None:
        context["hour_chart"] = charts.bar_chart(
            [f"{h:02d}:00" for h in range(24)], figures.per_hour,
            title=gettext("Persons per hour"), y_label=gettext("persons"))
        if figures.denials_by_reason:
            context["denial_chart"] = charts.bar_chart(
                [gettext(REASONS[c])[:14] for c, _ in figures.denials_by_reason],
                [n for _, n in figures.denials_by_reason],
                title=gettext("Denials by reason"), y_label=gettext("persons"),
                color="#b3261e")
    return render(request, "sites/day.html", context)


@router.post("/{code}/devices")
async def enrol_device(request: Request, code: str, session: SessionDep,
                       principal: CurrentPrincipal) -> Response:
    """Enrol a thermal scanner; its token is shown on this page once."""
    form = await request.form()
    site = site_service.get_visible(session=session, actor=principal, code=code)
    if not authz.can_manage(principal, site):
        raise NotFound("No such site.")
    name = str(form.get("name", "")).strip()[:80] or gettext("Thermal scanner")
    lane = str(form.get("lane", "")).strip()
    device, token = site_service.enrol_device(session=session, actor=principal, site=site,
                                              name=name, lane=lane)
    return render(request, "sites/device_token.html", {"site": site, "device": device,
                                                       "token": token})


@router.post("/{code}/staff")
async def add_staff(request: Request, code: str, session: SessionDep,
                    principal: CurrentPrincipal) -> Response:
    """Put a user on duty at this site, from the site page."""
    form = await request.form()
    site = site_service.get_visible(session=session, actor=principal, code=code)
    site_service.assign_staff(session=session, actor=principal, site=site,
                              username=str(form.get("username", "")).strip()[:64])
    return RedirectResponse(f"/sites/{site.code}#staff", status_code=303)


@router.post("/{code}/staff/{username}/remove")
def remove_staff(code: str, username: str, session: SessionDep,
                 principal: CurrentPrincipal) -> Response:
    """Take a user off duty at this site, from the site page."""
    site = site_service.get_visible(session=session, actor=principal, code=code)
    site_service.remove_staff(session=session, actor=principal, site=site, username=username)
    return RedirectResponse(f"/sites/{site.code}#staff", status_code=303)
