"""Site pages: the list, a site's day (charts), registering and importing sites, devices."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from passtrace.core.errors import Forbidden, NotFound
from passtrace.core.i18n import gettext
from passtrace.core.pagination import CURSOR_MAX_LENGTH
from passtrace.core.security import Principal
from passtrace.sites import authz, present
from passtrace.sites import service as site_service
from passtrace.sites.forms import DeviceForm, SiteForm, StaffForm
from passtrace.sites.present import IMPORT_COLUMN_LABELS
from passtrace.sites.schemas import SiteWrite
from passtrace.web import forms, imports
from passtrace.web.deps import CurrentPrincipal, SessionDep
from passtrace.web.render import render

PAGE_SIZE = 100

router = APIRouter(prefix="/sites", include_in_schema=False)


@router.get("")
def site_list(request: Request, session: SessionDep, principal: CurrentPrincipal,
              cursor: str = "") -> Response:
    """The sites I work at or oversee, a page at a time."""
    sites, nxt = site_service.list_page(session=session, actor=principal,
                                        cursor=cursor[:CURSOR_MAX_LENGTH] or None,
                                        limit=PAGE_SIZE)
    return render(request, "sites/list.html", {
        "sites": present.to_read_many(session, sites), "next": nxt,
        "can_manage": principal.has("site.manage"),
        "kinds": present.KIND_LABELS})


@router.get("/new")
def new_site(request: Request, principal: CurrentPrincipal) -> Response:
    """The form to register a site."""
    if not principal.has("site.manage"):
        raise Forbidden("Your role does not allow this.")
    return render(request, "sites/form.html", {"values": {"lanes": "1"}, "errors": {},
                                               "kinds": present.KIND_LABELS})


@router.post("/new")
def create_site(request: Request, session: SessionDep, principal: CurrentPrincipal,
                form: Annotated[SiteForm, Form()]) -> Response:
    """Register (or update) a site from the form; errors come back next to the fields."""
    def save(data: SiteWrite) -> Response:
        site, _ = site_service.save(session=session, actor=principal, data=data)
        return RedirectResponse(f"/sites/{site.code}", status_code=303)

    return forms.submit(session, form, save, lambda f: render(
        request, "sites/form.html", {"values": f.values, "errors": f.errors_or_message,
                                     "kinds": present.KIND_LABELS}, status_code=f.status))


@router.post("/import")
async def import_sites(request: Request, session: SessionDep, principal: CurrentPrincipal,
                       form: Annotated[imports.ImportForm, Form()]) -> Response:
    """Import sites from a spreadsheet and show the row-by-row report."""
    if not principal.has("site.manage"):
        raise Forbidden("Your role does not allow this.")
    data = await imports.upload(form.file)
    return await run_in_threadpool(_import_sites, request, session, principal, form, data)


def _import_sites(request: Request, session: Session, principal: Principal,
                  form: imports.ImportForm, data: bytes) -> Response:
    def page(context: dict[str, object], status: int) -> Response:
        sites, nxt = site_service.list_page(session=session, actor=principal, cursor=None,
                                            limit=PAGE_SIZE)
        return render(request, "sites/list.html", {
            "sites": present.to_read_many(session, sites), "next": nxt, "can_manage": True,
            "kinds": present.KIND_LABELS, "report": None, **context}, status_code=status)

    def imported() -> Response:
        report = site_service.import_sites(session=session, actor=principal, data=data,
                                           filename=form.filename,
                                           apply_valid=form.valid_rows)
        return page({**imports.report_context(report.result, IMPORT_COLUMN_LABELS),
                     "created": report.created, "updated": report.updated},
                    imports.status(report.result))

    return forms.attempt(session, imported, lambda f: page({"message": f.message}, f.status))


@router.post("/{code}/devices")
def enrol_device(request: Request, code: str, session: SessionDep,
                 principal: CurrentPrincipal, form: Annotated[DeviceForm, Form()]) -> Response:
    """Enrol a thermal scanner; its token is shown on this page once."""
    site = site_service.get_visible(session=session, actor=principal, code=code)
    if not authz.can_manage(principal, site):
        raise NotFound("No such site.")
    name = form.name.strip()[:80] or gettext("Thermal scanner")
    lane = form.lane.strip()
    device, token = site_service.enrol_device(session=session, actor=principal, site=site,
                                              name=name, lane=lane)
    return render(request, "sites/device_token.html", {"site": site, "device": device,
                                                       "token": token})


@router.post("/{code}/staff")
def add_staff(request: Request, code: str, session: SessionDep, principal: CurrentPrincipal,
              form: Annotated[StaffForm, Form()]) -> Response:
    """Put a user on duty at this site, from the site page (the manager types a login)."""
    site = site_service.get_visible(session=session, actor=principal, code=code)

    def assign() -> Response:
        site_service.assign_staff(session=session, actor=principal, site=site,
                                  username=form.username.strip()[:64])
        return RedirectResponse(f"/sites/{site.code}#staff", status_code=303)

    return forms.attempt(session, assign, lambda f: render(
        request, "error.html", {"status": f.status, "message": f.message,
                                "back": f"/sites/{site.code}#staff"}, status_code=f.status))


@router.post("/{code}/staff/{user_id}/remove")
def remove_staff(code: str, user_id: str, session: SessionDep,
                 principal: CurrentPrincipal) -> Response:
    """Take a user off duty at this site, from the site page (by account id, not login)."""
    site = site_service.get_visible(session=session, actor=principal, code=code)
    try:
        account_id = uuid.UUID(user_id)
    except ValueError:
        raise NotFound("This person is not on duty at this site.") from None
    site_service.remove_staff(session=session, actor=principal, site=site, user_id=account_id)
    return RedirectResponse(f"/sites/{site.code}#staff", status_code=303)
