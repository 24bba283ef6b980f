"""Sites API: register and import sites, enrol devices, thermal-scanner readings."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Header, Query, UploadFile
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from passtrace.core.clock import utcnow
from passtrace.core.errors import NotFound, Unauthorized
from passtrace.core.pagination import DEFAULT_LIMIT
from passtrace.sites import authz, present
from passtrace.sites import service as site_service
from passtrace.sites.schemas import (
    DeviceCreate,
    DeviceCreated,
    ReadingIn,
    ReadingOut,
    SiteImportReport,
    SiteList,
    SiteRead,
    SiteWrite,
    site_report,
)
from passtrace.web import imports
from passtrace.web.deps import CurrentPrincipal, SessionDep, require
from passtrace.web.openapi import errors
from passtrace.web.paging import Cursor, Limit

router = APIRouter(prefix="/sites", tags=["sites"])


@router.get("", response_model=SiteList)
def list_sites(session: SessionDep, principal: CurrentPrincipal, cursor: Cursor = None,
               limit: Limit = DEFAULT_LIMIT) -> SiteList:
    """List the sites you work at or oversee, by code, a page at a time."""
    sites, nxt = site_service.list_page(session=session, actor=principal, cursor=cursor,
                                        limit=limit)
    return SiteList(items=present.to_read_many(session, sites), next=nxt)


@router.post("", response_model=SiteRead, dependencies=[require("site.manage")])
def save_site(data: SiteWrite, session: SessionDep, principal: CurrentPrincipal) -> SiteRead:
    """Register a site, or update the one with the same code."""
    site, _ = site_service.save(session=session, actor=principal, data=data)
    return present.to_read_many(session, [site])[0]


@router.post("/import", response_model=SiteImportReport,
             dependencies=[require("site.manage")])
async def import_sites(session: SessionDep, principal: CurrentPrincipal,
                       file: Annotated[UploadFile, File()],
                       apply_valid: Annotated[bool, Form()] = False) -> SiteImportReport:
    """Import sites from CSV or Excel; report every refused row."""
    # The database work runs in the threadpool, never on the event loop: a writer
    # may wait there for SQLite's write lock (core/sqlite_writes).
    data = await imports.upload(file)
    done = await run_in_threadpool(lambda: site_service.import_sites(
        session=session, actor=principal, data=data, filename=file.filename or "",
        apply_valid=apply_valid))
    return site_report(done.result, created=done.created, updated=done.updated)


@router.get("/{code}", response_model=SiteRead)
def read_site(code: str, session: SessionDep, principal: CurrentPrincipal) -> SiteRead:
    """Show one site."""
    site = site_service.get_visible(session=session, actor=principal, code=code)
    return present.to_read_many(session, [site])[0]


@router.post("/{code}/devices", response_model=DeviceCreated, status_code=201,
             dependencies=[require("site.manage")])
def enrol_device(code: str, data: DeviceCreate, session: SessionDep,
                 principal: CurrentPrincipal) -> DeviceCreated:
    """Enrol a thermal scanner at a lane; its token is shown only now."""
    site = site_service.get_visible(session=session, actor=principal, code=code)
    device, token = site_service.enrol_device(session=session, actor=principal, site=site,
                                              name=data.name, lane=data.lane)
    return DeviceCreated(id=device.id, name=device.name, lane=device.lane, token=token)


@router.get("/{code}/lanes/{lane}/reading", response_model=ReadingOut)
def latest_reading(code: str, lane: str, session: SessionDep,
                   principal: CurrentPrincipal) -> ReadingOut:
    """The newest thermal-scanner reading at a lane (from the last minute), for the operator."""
    site = site_service.get_for_staff(session=session, actor=principal, code=code)
    reading = site_service.latest_reading(session=session, site=site, lane=lane)
    if reading is None:
        return ReadingOut(temperature=None, read_at=None, age_seconds=None)
    return ReadingOut(temperature=reading.temperature, read_at=reading.read_at,
                      age_seconds=int((utcnow() - reading.read_at).total_seconds()))


class StaffIn(BaseModel):
    """A user to put on duty at a site."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    username: str = Field(min_length=1, max_length=64)


@router.get("/{code}/staff", dependencies=[require("site.manage")])
def list_staff(code: str, session: SessionDep, principal: CurrentPrincipal) -> dict[str, object]:
    """Who is on duty at the site."""
    site = site_service.get_visible(session=session, actor=principal, code=code)
    if not authz.can_manage(principal, site):
        raise NotFound("No such site.")
    # `label` is what a person may be shown (namesakes numbered); `username` stays for
    # older clients and is never to be displayed.
    staff = site_service.staff_of(session=session, site=site)
    return {"items": [{"id": str(m.id), "label": m.label, "username": u.username,
                       "display_name": u.display_name}
                      for u, m in zip(staff, present.staff_members(staff), strict=True)]}


@router.post("/{code}/staff", status_code=201, dependencies=[require("site.manage")])
def add_staff(code: str, data: StaffIn, session: SessionDep,
              principal: CurrentPrincipal) -> dict[str, str]:
    """Put a user on duty at the site."""
    site = site_service.get_visible(session=session, actor=principal, code=code)
    user = site_service.assign_staff(session=session, actor=principal, site=site,
                                     username=data.username)
    return {"id": str(user.id), "username": user.username, "site": site.code}


@router.delete("/{code}/staff/{member}", status_code=204,
               dependencies=[require("site.manage")])
def remove_staff(code: str, member: str, session: SessionDep,
                 principal: CurrentPrincipal) -> None:
    """Take a user off duty at the site: `member` is the account id from the staff list
    (a login name is still accepted from older clients)."""
    site = site_service.get_visible(session=session, actor=principal, code=code)
    if not authz.can_manage(principal, site):
        raise NotFound("No such site.")
    user = site_service.find_staff(session=session, site=site, member=member[:64])
    if user is None:
        raise NotFound("This person is not on duty at this site.")
    site_service.remove_staff(session=session, actor=principal, site=site, user_id=user.id)


device_router = APIRouter(prefix="/devices", tags=["devices"])


@device_router.post("/readings", status_code=201, responses=errors(401))
def post_reading(data: ReadingIn, session: SessionDep,
                 authorization: Annotated[str | None, Header()] = None,
                 lane: Annotated[str | None, Query(max_length=16)] = None) -> dict[str, object]:
    """A thermal scanner posts a reading with its device token (`Authorization: Device …`)."""
    scheme, _, token = (authorization or "").partition(" ")
    device = (site_service.device_for_token(session=session, token=token.strip())
              if scheme.lower() == "device" and token.strip() else None)
    if device is None:
        raise Unauthorized("Unknown or revoked device token.")
    reading = site_service.record_reading(session=session, device=device,
                                          temperature=data.temperature,
                                          lane=data.lane or lane, read_at=data.read_at)
    return {"lane": reading.lane, "temperature": reading.temperature,
            "read_at": reading.read_at.isoformat()}
