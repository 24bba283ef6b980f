"""Registrations API: check one person, upload a device's batch, override, statistics."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, timedelta
from typing import Annotated, TypeVar

import orjson
from fastapi import APIRouter, File, Query, Request, Response, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session
from starlette.routing import Route

from passtrace.core.clock import LOCAL_TZ, utcnow
from passtrace.core.db import writing
from passtrace.core.errors import Forbidden, NotFound, TooLarge, Unauthorized, ValidationFailed
from passtrace.core.i18n import N_, gettext
from passtrace.core.imports import ImportProblem
from passtrace.core.runtime import Runtime
from passtrace.core.security import Principal
from passtrace.core.validators import Day
from passtrace.registrations import fast_kinds, fastpath, imports, ingest, stats, typed_batch
from passtrace.registrations import service as reg_service
from passtrace.registrations.models import Registration
from passtrace.registrations.schemas import (
    BATCH_MAX_ROWS,
    BatchIn,
    BatchOut,
    HeartbeatIn,
    OverrideIn,
    Reason,
    RegistrationIn,
    RegistrationOut,
)
from passtrace.rules.decide import REASONS
from passtrace.sites import authz as site_authz
from passtrace.sites import service as site_service
from passtrace.web.deps import (
    CurrentPrincipal,
    RuntimeDep,
    SessionDep,
    optional_principal,
    require,
)
from passtrace.web.openapi import errors

router = APIRouter(tags=["registrations"])
T = TypeVar("T")
_ZERO = timedelta(0)
SENT_AT_NEEDED = N_("A batch needs sent_at: the device's clock when sending, with its time "
                    "zone (e.g. 2026-12-02T08:00:00+08:00).")


def to_out(row: Registration, *, duplicate: bool = False,
           notes: list[str] | None = None) -> RegistrationOut:
    """Present a registration to the guard, reasons translated."""
    return RegistrationOut(
        id=row.id, decision=row.decision,  # type: ignore[arg-type]
        reasons=[Reason(code=r, message=gettext(REASONS[r])) for r in row.reasons
                 if r in REASONS],
        holder=row.person_masked, id_last4=row.id_last4, pass_id=row.pass_id,
        temperature=row.temperature, occurred_at=row.occurred_at, direction=row.direction,
        overridden=row.override_reason is not None, override_reason=row.override_reason,
        duplicate=duplicate, skew_flagged=row.skew_flagged, notes=notes or [])


_UTC_Z = orjson.OPT_UTC_Z


def out_json(row: Registration, *, duplicate: bool = False,
             notes: list[str] | None = None) -> bytes:
    """to_out(...).model_dump_json(), byte for byte, without building the models.

    The checkpoint's answer at a thousand checks a second: the two pydantic models
    (answer and reasons) cost more than the JSON. tests/registrations/test_out_json.py
    compares the two on every kind of row.
    """
    temperature = row.temperature
    occurred = row.occurred_at
    if occurred.utcoffset() == _ZERO:  # pydantic writes any zero offset as "Z"
        occurred = occurred.replace(tzinfo=UTC)
    return orjson.dumps({
        "id": row.id, "decision": row.decision,
        "reasons": [{"code": r, "message": gettext(REASONS[r])} for r in row.reasons
                    if r in REASONS],
        "holder": row.person_masked, "id_last4": row.id_last4, "pass_id": row.pass_id,
        "temperature": float(temperature) if temperature is not None else None,
        "occurred_at": occurred, "direction": row.direction,
        "overridden": row.override_reason is not None,
        "override_reason": row.override_reason, "duplicate": duplicate,
        "skew_flagged": row.skew_flagged, "notes": notes or []}, option=_UTC_Z)


@router.post("/registrations", response_model=RegistrationOut,
             dependencies=[require("registration.create")], responses=errors(503))
async def register(data: RegistrationIn, rt: RuntimeDep,
                   principal: CurrentPrincipal) -> RegistrationOut:
    """Check one person: verify the pass (or ID number), decide, and record it."""
    # Served by register_endpoint (lean_route) ahead of the routers; this route
    # documents the endpoint in the OpenAPI schema and checks alike.
    return await _register(data, rt, principal)


REGISTRATIONS_PATH = "/api/v1/registrations"


async def register_endpoint(request: Request) -> Response:
    """POST /api/v1/registrations as a plain Starlette endpoint: the checkpoint's hot path.

    The same login, permission, body schema, errors and answer as the documented
    route above, without FastAPI's per-request dependency solving and response
    validation (about a fifth of the server's CPU per check).
    """
    rt: Runtime = request.app.state.runtime
    principal = await optional_principal(request, rt)  # CSRF on cookie logins, locale
    if principal is None:
        raise Unauthorized("Please log in.")
    if not principal.has("registration.create"):
        raise Forbidden("Your role does not allow this.")
    body = await request.body()
    try:
        if not body:
            raise RequestValidationError([{"type": "missing", "loc": ("body",),
                                           "msg": "Field required", "input": None}])
        data = RegistrationIn.model_validate_json(body)
    except ValidationError as exc:
        # Rendered by the app's handler exactly as FastAPI's own body errors.
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])}
                                      for e in exc.errors()]) from None
    return Response(await _check(data, rt, principal, out_json),
                    media_type="application/json")


def lean_route() -> Route:
    """The hot endpoint, to be matched before every router (app.create_app)."""
    return Route(REGISTRATIONS_PATH, register_endpoint, methods=["POST"])


async def _register(data: RegistrationIn, rt: Runtime, principal: Principal) -> RegistrationOut:
    return await _check(data, rt, principal, to_out)


async def _check(data: RegistrationIn, rt: Runtime, principal: Principal,
                 present: Callable[..., T]) -> T:
    """Check one person and present the stored row: present(row, duplicate=, notes=)."""
    # The hot path: on PostgreSQL it runs on the event loop (async psycopg, no thread
    # hop); elsewhere the ORM path runs in one thread hop. Either commits before the
    # response is sent.
    # Community gates have a fast path of their own (registered by communities, see
    # fast_kinds.py): their rules lock the household row and open or close outings in
    # the same transaction.
    fast = fastpath.for_runtime(rt)
    if fast is not None and not await fastpath.is_community_gate(rt, data.site):
        if data.direction == "auto":  # only a compound's gate knows which way people go
            data = data.model_copy(update={"direction": "in"})
        checked = await fastpath.register(fast, rt=rt, actor=principal, data=data)
        return present(checked.row, duplicate=checked.duplicate)
    gate_check = fast_kinds.fast_check("community_gate") if fast is not None else None
    if gate_check is not None:
        checked = await gate_check(fast, rt=rt, actor=principal, data=data)
        return present(checked.row, duplicate=checked.duplicate, notes=checked.notes)
    return await run_in_threadpool(_present_in_session, rt, principal, data, present)


def _register_in_session(rt: Runtime, principal: Principal,
                         data: RegistrationIn) -> RegistrationOut:
    return _present_in_session(rt, principal, data, to_out)


def _present_in_session(rt: Runtime, principal: Principal, data: RegistrationIn,
                        present: Callable[..., T]) -> T:
    # A writer from the start: on SQLite it queues for the write lock before reading.
    session = rt.sessions(info=writing())
    try:
        checked = reg_service.register(session=session, rt=rt, actor=principal, data=data)
        # Presented before the commit expires the row's attributes.
        out = present(checked.row, duplicate=checked.duplicate, notes=checked.notes)
        session.commit()
        return out
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


async def _read_capped(request: Request, limit: int) -> bytes:
    # Content-Length is checked by the app middleware; a chunked body is capped here.
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge("The upload is too large.")
        chunks.append(chunk)
    return b"".join(chunks)


@router.post("/registrations/batch", response_model=BatchOut,
             dependencies=[require("registration.create")],
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": BatchIn.model_json_schema()}}}})
async def upload_batch(request: Request, session: SessionDep, rt: RuntimeDep,
                       principal: CurrentPrincipal) -> Response:
    """Upload what a device registered (offline); re-sending the same batch stores nothing new.

    Each row is stored, reported as a duplicate, or rejected with its reason; one
    bad row never sinks the others.
    """
    body = await _read_capped(request, rt.settings.batch_max_bytes)
    # Parsing and storing thousands of rows blocks: off the event loop, so this
    # worker keeps answering other requests meanwhile.
    return await run_in_threadpool(_ingest_body, body, session, rt, principal)


def _ingest_body(body: bytes, session: Session, rt: Runtime, principal: Principal) -> Response:
    # Typed rows first (typed_batch: about half the server CPU per row); a body that
    # does not decode into them takes the dict path below, whose answers they match.
    typed = typed_batch.decode(body)
    if typed is not None:
        envelope, typed_rows = typed
        if len(typed_rows) <= BATCH_MAX_ROWS:
            try:
                batch = BatchIn.model_validate({**envelope, "registrations": []})
            except ValidationError:
                pass  # the dict path below refuses it, in its words
            else:
                out = ingest.ingest(session=session, rt=rt, actor=principal, batch=batch,
                                    rows=typed_rows, parse=typed_batch.parse_typed)
                return Response(orjson.dumps(out), media_type="application/json")
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise ValidationFailed("The upload is not valid JSON.") from None
    try:
        # The envelope is validated by the model; the rows (thousands) only need to be
        # a list of objects here: the service checks each one without copying it.
        rows = data.pop("registrations", None) if isinstance(data, dict) else None
        batch = BatchIn.model_validate(data if rows is None else {**data, "registrations": []})
    except ValidationError as exc:
        where = ".".join(str(p) for p in exc.errors()[0]["loc"])
        if where == "sent_at":
            raise ValidationFailed(SENT_AT_NEEDED, fields={"sent_at": SENT_AT_NEEDED}) from None
        raise ValidationFailed("The upload is malformed at %(where)s.", where=where) from None
    if not isinstance(rows, list):
        raise ValidationFailed("The upload is malformed at %(where)s.", where="registrations")
    if len(rows) > BATCH_MAX_ROWS:
        raise ValidationFailed("The upload is malformed at %(where)s.", where="registrations")
    # Rows that are not JSON objects are rejected one by one by the service (parse_row):
    # one bad row never sinks the good ones.
    batch.registrations = rows
    out = ingest.ingest(session=session, rt=rt, actor=principal, batch=batch)
    return Response(orjson.dumps(out), media_type="application/json")


@router.post("/registrations/{registration_id}/override", response_model=RegistrationOut,
             dependencies=[require("registration.create")])
def override(registration_id: uuid.UUID, data: OverrideIn, session: SessionDep,
             principal: CurrentPrincipal) -> RegistrationOut:
    """Let a denied person through anyway; the reason is recorded and audited."""
    row = reg_service.override(session=session, actor=principal,
                               registration_id=registration_id, reason=data.reason)
    return to_out(row)


@router.get("/registrations/{registration_id}", response_model=RegistrationOut,
            dependencies=[require("registration.create")])
def read(registration_id: uuid.UUID, session: SessionDep,
         principal: CurrentPrincipal) -> RegistrationOut:
    """Show one registration made at a site where you are on duty."""
    row = reg_service.read_for_staff(session=session, actor=principal,
                                     registration_id=registration_id)
    return to_out(row)


@router.post("/checkpoint/heartbeat", status_code=204,
             dependencies=[require("registration.create")])
def heartbeat(data: HeartbeatIn, session: SessionDep, principal: CurrentPrincipal) -> None:
    """A checkpoint page reports its offline queue length."""
    reg_service.heartbeat(session=session, actor=principal, site_code=data.site,
                          device_key=data.device_key, pending=data.pending)


@router.get("/sites/{code}/stats")
def site_stats(code: str, session: SessionDep, principal: CurrentPrincipal,
               day: Annotated[Day | None, Query()] = None) -> dict[str, object]:
    """Lane statistics for a day: persons per hour, median seconds, denials, unsynced devices."""
    site = site_service.get_visible(session=session, actor=principal, code=code)
    if not site_authz.can_see_stats(principal, site):
        raise NotFound("No such site.")
    figures = stats.site_stats(session=session, site=site,
                               day=day or utcnow().astimezone(LOCAL_TZ).date())
    return {
        "site": site.code, "day": figures.day.isoformat(), "total": figures.total,
        "allowed": figures.allowed, "denied": figures.denied,
        "overridden": figures.overridden, "future_flagged": figures.future_flagged,
        "per_hour": figures.per_hour,
        "lanes": [{"lane": x.lane, "persons": x.persons, "median_seconds": x.median_seconds}
                  for x in figures.lanes],
        "denials_by_reason": [{"code": c, "message": gettext(REASONS[c]), "count": n}
                              for c, n in figures.denials_by_reason if c in REASONS],
        "unsynced_devices": [{"device_key": d.device_key, "pending": d.pending,
                              "last_seen_at": d.last_seen_at.isoformat(),
                              "last_sync_at": d.last_sync_at.isoformat()
                              if d.last_sync_at else None} for d in figures.unsynced],
    }


@router.get("/checkpoint/reasons")
def reason_messages(principal: CurrentPrincipal) -> dict[str, str]:
    """Every decision reason code with its message in your language (for offline use)."""
    return {code: gettext(msg) for code, msg in REASONS.items()}


class RegistrationImportOut(BaseModel):
    """What a registrations import did; `problems` lists the first 1,000 refused cells."""

    rows: int
    imported: int
    unchanged: int
    refused: int
    stays: int
    problems: list[ImportProblem]


@router.post("/registrations/import", response_model=RegistrationImportOut,
             dependencies=[require("site.manage")])
async def import_registrations(session: SessionDep, rt: RuntimeDep,
                               principal: CurrentPrincipal,
                               file: Annotated[UploadFile, File()]) -> RegistrationImportOut:
    """Load registrations from another system's CSV (officials; idempotent by external_id).

    Each row's site must lie in the official's area (site.manage there), else that row
    is refused; the valid rows are stored, committed in chunks.
    """
    if file.size is not None and file.size > rt.settings.batch_max_bytes:
        raise TooLarge("The file is too large (at most %(mb)s MB).",
                       mb=rt.settings.batch_max_bytes // 1_048_576)
    done = await run_in_threadpool(
        lambda: imports.import_registrations(session=session, vault=rt.vault,
                                             actor=principal, stream=file.file,
                                             commit=session.commit))
    return RegistrationImportOut(
        rows=done.rows, imported=done.imported, unchanged=done.unchanged,
        refused=done.refused, stays=done.stays,
        problems=[ImportProblem(row=p.row, column=p.column, message=p.translated())
                  for p in done.problems])
