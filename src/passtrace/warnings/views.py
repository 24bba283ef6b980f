"""Warnings API: risk areas (declare, lift, import, history, the public list), alerts (the
queue and its transitions, false-alarm rates) and the rules registry."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Path, Query, UploadFile
from fastapi.concurrency import run_in_threadpool

from passtrace.areas import risks as area_risks
from passtrace.core.errors import ValidationFailed
from passtrace.core.imports import ImportReport, import_report
from passtrace.core.pagination import (
    BAD_CURSOR,
    START_AGAIN,
    Page,
    decode_cursor,
    encode_cursor,
    paginate_items,
)
from passtrace.core.security import Principal
from passtrace.warnings import alerts, present, risk_areas, service
from passtrace.warnings.schemas import (
    AREA_PATTERN,
    AlertPage,
    AlertRead,
    AreaRiskEnd,
    AreaRiskIn,
    AreaRiskRead,
    AssignIn,
    DismissIn,
    PublicRisk,
    ResolveIn,
    RuleRateRead,
    RuleRead,
    RuleUpdate,
)
from passtrace.web import imports
from passtrace.web.deps import CurrentPrincipal, SessionDep, require
from passtrace.web.openapi import errors
from passtrace.web.paging import DEFAULT_LIMIT, Cursor, Limit

risk_router = APIRouter(prefix="/area-risks", tags=["warnings"])
# An alert id is a database integer: a larger number can name no alert (and SQLite cannot
# even bind it), so it is refused as bad input, not looked up.
AlertId = Annotated[int, Path(ge=1, le=2**63 - 1)]

public_router = APIRouter(prefix="/public", tags=["warnings"])
alert_router = APIRouter(prefix="/alerts", tags=["warnings"])
rule_router = APIRouter(prefix="/warning-rules", tags=["warnings"])


def _risk(r: object) -> AreaRiskRead:
    return AreaRiskRead.model_validate(r, from_attributes=True)


@public_router.get("/risk-areas", response_model=Page[PublicRisk])
def public_risks(session: SessionDep, cursor: Cursor = None,
                 limit: Limit = DEFAULT_LIMIT) -> Page[PublicRisk]:
    """The risk areas in force now, with their names in Chinese and English (no login)."""
    rows, nxt = paginate_items(area_risks.active(session=session),
                               lambda r: (r.area_code, str(r.id)), cursor=cursor, limit=limit)
    return Page(items=present.public_risks(session, rows), next=nxt)


@risk_router.get("", response_model=Page[AreaRiskRead])
def list_risks(session: SessionDep, principal: CurrentPrincipal, cursor: Cursor = None,
               limit: Limit = DEFAULT_LIMIT) -> Page[AreaRiskRead]:
    """The risk areas in force now, by area code."""
    rows, nxt = paginate_items(area_risks.active(session=session),
                               lambda r: (r.area_code, str(r.id)), cursor=cursor, limit=limit)
    return Page(items=[_risk(r) for r in rows], next=nxt)


@risk_router.get("/history", response_model=Page[AreaRiskRead],
                 dependencies=[require("risk.manage")], responses=errors(404))
def history(session: SessionDep, principal: CurrentPrincipal,
            area: Annotated[str, Query(pattern=AREA_PATTERN)], cursor: Cursor = None,
            limit: Limit = DEFAULT_LIMIT) -> Page[AreaRiskRead]:
    """Every declaration of one area of yours, newest first."""
    rows, nxt = paginate_items(
        risk_areas.history(session=session, actor=principal, area_code=area),
        lambda r: (r.valid_from, str(r.id)), cursor=cursor, limit=limit, descending=True)
    return Page(items=[_risk(r) for r in rows], next=nxt)


@risk_router.post("", response_model=AreaRiskRead, status_code=201)
def declare(data: AreaRiskIn, session: SessionDep, principal: CurrentPrincipal) -> AreaRiskRead:
    """Declare an area of yours at a risk level; its visitors of the last N days are
    flagged by the next job run."""
    return _risk(risk_areas.declare(session=session, actor=principal,
                                    area_code=data.area_code, level=data.level,
                                    reason=data.note, valid_from=data.valid_from,
                                    valid_until=data.valid_until))


@risk_router.post("/{risk_id}/end", response_model=AreaRiskRead)
def lift(risk_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal,
         data: AreaRiskEnd | None = None) -> AreaRiskRead:
    """Lift a risk now; a reason is required (422 without one, nothing changed)."""
    # No body at all reaches the same check as a blank reason: one translated message.
    return _risk(risk_areas.lift(session=session, actor=principal, risk_id=risk_id,
                                 reason=data.reason if data else ""))


@risk_router.post("/import", response_model=ImportReport,
                  dependencies=[require("risk.manage")], responses=errors(413))
async def import_list(session: SessionDep, principal: CurrentPrincipal,
                      file: Annotated[UploadFile, File()],
                      import_valid: Annotated[bool, Form()] = False) -> ImportReport:
    """Import a published list (CSV or Excel: code, level, from, until); every refused row
    is reported, nothing is written unless all rows are valid or import_valid is set."""
    data = await imports.upload(file)
    return import_report(await run_in_threadpool(lambda: risk_areas.import_list(
        session=session, actor=principal, data=data, filename=file.filename or "",
        import_valid=import_valid)))


def _page(session: SessionDep, principal: Principal, rows: list[object],
          limit: int) -> AlertPage:
    items = present.alert_reads(session, rows)  # type: ignore[arg-type]
    nxt = encode_cursor((items[-1].id,)) if len(items) == limit else None
    return AlertPage(items=items, next=nxt)


@alert_router.get("", response_model=AlertPage, dependencies=[require("alert.view")])
def queue(session: SessionDep, principal: CurrentPrincipal,
          status: Literal["open", "acknowledged", "resolved", "dismissed"] | None = None,
          rule: Annotated[str | None, Query(max_length=32)] = None,
          severity: Literal["high", "medium", "low"] | None = None,
          cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT) -> AlertPage:
    """Alerts queued in your areas, newest first (each person shown is audited)."""
    before = None
    if cursor:
        (before,) = decode_cursor(cursor, 1)
        if not isinstance(before, int) or isinstance(before, bool):
            raise ValidationFailed(BAD_CURSOR, fields={"cursor": START_AGAIN})
    rows = alerts.queue(session=session, actor=principal, status=status, rule=rule,
                        severity=severity, before_id=before, limit=limit)
    return _page(session, principal, rows, limit)  # type: ignore[arg-type]


@alert_router.get("/rates", response_model=Page[RuleRateRead],
                  dependencies=[require("alert.view")])
def rates(session: SessionDep, principal: CurrentPrincipal) -> Page[RuleRateRead]:
    """Per rule: closed alerts in your areas and the share dismissed as false alarms (one
    page: there is one row per rule)."""
    titles = {r.code: r.title for r in present.rule_reads(session)}
    return Page(items=[
        RuleRateRead(rule=r.rule, rule_title=titles.get(r.rule, r.rule), closed=r.closed,
                     dismissed=r.dismissed, false_alarm_rate=round(r.rate, 4))
        for r in alerts.false_alarm_rates(session=session, actor=principal)])


def _one(session: SessionDep, alert: object) -> AlertRead:
    return present.alert_reads(session, [alert])[0]  # type: ignore[list-item]


@alert_router.get("/{alert_id}", response_model=AlertRead, dependencies=[require("alert.view")])
def read(alert_id: AlertId, session: SessionDep, principal: CurrentPrincipal) -> AlertRead:
    """One alert of your areas (audited as a read of its person's data)."""
    return _one(session, alerts.read(session=session, actor=principal, alert_id=alert_id))


@alert_router.post("/{alert_id}/assign", response_model=AlertRead,
                   dependencies=[require("alert.manage")], responses=errors(409))
def assign(alert_id: AlertId, data: AssignIn, session: SessionDep,
           principal: CurrentPrincipal) -> AlertRead:
    """Give the alert to an official of its area."""
    return _one(session, alerts.assign(session=session, actor=principal, alert_id=alert_id,
                                       user_id=data.user_id))


@alert_router.post("/{alert_id}/acknowledge", response_model=AlertRead,
                   dependencies=[require("alert.manage")], responses=errors(409))
def acknowledge(alert_id: AlertId, session: SessionDep, principal: CurrentPrincipal) -> AlertRead:
    """Acknowledge the alert (it stops escalating)."""
    return _one(session, alerts.acknowledge(session=session, actor=principal,
                                            alert_id=alert_id))


@alert_router.post("/{alert_id}/resolve", response_model=AlertRead,
                   dependencies=[require("alert.manage")], responses=errors(409))
def resolve(alert_id: AlertId, data: ResolveIn, session: SessionDep,
            principal: CurrentPrincipal) -> AlertRead:
    """Close the alert with what was done and a note."""
    return _one(session, alerts.resolve(session=session, actor=principal, alert_id=alert_id,
                                        resolution=data.resolution, note=data.note))


@alert_router.post("/{alert_id}/dismiss", response_model=AlertRead,
                   dependencies=[require("alert.manage")], responses=errors(409))
def dismiss(alert_id: AlertId, data: DismissIn, session: SessionDep,
            principal: CurrentPrincipal) -> AlertRead:
    """Close the alert as a false alarm, saying why."""
    return _one(session, alerts.dismiss(session=session, actor=principal, alert_id=alert_id,
                                        reason=data.reason))


@rule_router.get("", response_model=Page[RuleRead], dependencies=[require("alert.view")])
def rules(session: SessionDep) -> Page[RuleRead]:
    """Every rule: severity, parameters, on/off, its explanation (one page: the registry
    is short)."""
    return Page(items=present.rule_reads(session))


@rule_router.put("/{code}", response_model=RuleRead, dependencies=[require("rule.manage")])
def update_rule(code: str, data: RuleUpdate,
                session: SessionDep, principal: CurrentPrincipal) -> RuleRead:
    """Change a rule (administrators; audited with before and after)."""
    service.update_rule(session=session, actor=principal, code=code[:32],
                        severity=data.severity, enabled=data.enabled, params=data.params)
    return next(r for r in present.rule_reads(session) if r.code == code)
