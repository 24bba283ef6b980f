"""Warnings pages: the public risk-area list (no login), risk areas for officials (declare,
lift, import), the alert queue and one alert (assign, acknowledge, resolve, dismiss),
false-alarm rates and the rules (administrators edit them)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from passtrace.accounts.models import User
from passtrace.areas import risks as area_risks
from passtrace.core.clock import utcnow
from passtrace.core.errors import Forbidden, ValidationFailed
from passtrace.core.i18n import N_, gettext
from passtrace.core.security import Principal
from passtrace.warnings import alerts, officials, present, registry, risk_areas, service
from passtrace.warnings.forms import AssignForm, DeclareForm, DismissForm, LiftForm, ResolveForm
from passtrace.warnings.schemas import AreaRiskIn, DismissIn, ResolveIn
from passtrace.web import forms, imports
from passtrace.web.deps import CurrentPrincipal, SessionDep
from passtrace.web.render import render

router = APIRouter(prefix="/warnings", include_in_schema=False)
public_router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50


def _need(principal: Principal, permission: str) -> None:
    if not principal.has(permission):
        raise Forbidden("Your role does not allow this.")


@public_router.get("/risk-areas")
def public_list(request: Request, session: SessionDep) -> Response:
    """The risk areas in force now, in Chinese and English; no login."""
    rows = present.public_risks(session, area_risks.active(session=session))
    other_lang, other = present.other_language()
    return render(request, "warnings/public.html", {
        "items": rows, "levels": present.LEVEL_LABELS, "level_texts": present.LEVEL_TEXTS,
        "other_lang": other_lang, "other": other,
        "since": {r.area_code: present.local_time(r.valid_from) for r in rows},
        "until": {r.area_code: present.local_time(r.valid_until) for r in rows}})


# --- risk areas (officials) -------------------------------------------------------

def _risk_page(request: Request, session: Session, principal: Principal,
               context: dict[str, object] | None = None, status_code: int = 200) -> Response:
    rows = risk_areas.managed(session=session, actor=principal)
    names = present.area_names(session, sorted({r.area_code for r in rows}))
    scopes, choices = present.area_choices(session, principal.area_scopes("risk.manage"))
    return render(request, "warnings/risk_areas.html", {
        "items": rows, "names": names, "levels": present.LEVEL_LABELS,
        "time": present.local_time, "now": utcnow(),
        "scopes": scopes, "choices": choices, "values": {}, "errors": {},
        "report": None, **(context or {})}, status_code=status_code)


@router.get("/risk-areas")
def risk_list(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    """Risk areas in my jurisdiction: current and past, declare, lift, import a list."""
    _need(principal, "risk.manage")
    return _risk_page(request, session, principal)


@router.post("/risk-areas")
def declare(request: Request, session: SessionDep, principal: CurrentPrincipal,
            form: Annotated[DeclareForm, Form()]) -> Response:
    """Declare an area; its recent visitors are flagged by the next job run."""
    _need(principal, "risk.manage")

    def save(data: AreaRiskIn) -> Response:
        risk_areas.declare(session=session, actor=principal, area_code=data.area_code,
                           level=data.level, reason=data.note, valid_from=data.valid_from,
                           valid_until=data.valid_until)
        return RedirectResponse("/warnings/risk-areas", status_code=303)

    def again(f: forms.Failure) -> Response:
        return _risk_page(request, session, principal,
                          {"values": f.values, "errors": f.errors_or_message,
                           "message": f.message}, f.status)

    return forms.submit(session, form, save, again, messages={
        "area_code": N_("Enter a division code (6 to 12 digits)."),
        "level": N_("Choose a risk level."), "valid_from": N_("Enter a date."),
        "valid_until": N_("Enter a date.")})


def _lift_page(request: Request, session: Session, principal: Principal, risk_id: uuid.UUID,
               reason: str = "", error: str = "", status_code: int = 200) -> Response:
    risk = risk_areas.visible(session=session, actor=principal, risk_id=risk_id)
    return render(request, "warnings/lift.html", {
        "r": risk, "name": present.area_names(session, [risk.area_code]).get(
            risk.area_code, risk.area_code),
        "level": present.LEVEL_LABELS[risk.level], "time": present.local_time,
        "live": risk.valid_until is None or risk.valid_until > utcnow(),
        "reason": reason, "error": error}, status_code=status_code)


@router.get("/risk-areas/{risk_id}/lift")
def lift_confirm(request: Request, risk_id: uuid.UUID, session: SessionDep,
                 principal: CurrentPrincipal) -> Response:
    """Confirm lifting a risk area: which area at which level, and why."""
    _need(principal, "risk.manage")
    return _lift_page(request, session, principal, risk_id)


@router.post("/risk-areas/{risk_id}/lift")
def lift(request: Request, risk_id: uuid.UUID, session: SessionDep,
         principal: CurrentPrincipal, form: Annotated[LiftForm, Form()]) -> Response:
    """Lift a risk area now with the reason given, or show the confirmation again."""
    _need(principal, "risk.manage")
    try:
        risk_areas.lift(session=session, actor=principal, risk_id=risk_id,
                        reason=form.reason)
    except ValidationFailed as exc:
        # The reason is checked before anything is read or changed: nothing to undo.
        return _lift_page(request, session, principal, risk_id, reason=form.reason[:400],
                          error=exc.translated_fields().get("reason", exc.translated()),
                          status_code=422)
    return RedirectResponse("/warnings/risk-areas", status_code=303)


IMPORT_COLUMNS = risk_areas.COLUMNS


@router.post("/risk-areas/import")
async def import_list(request: Request, session: SessionDep, principal: CurrentPrincipal,
                      form: Annotated[imports.ImportForm, Form()]) -> Response:
    """Import a published risk-area list and show the row report."""
    _need(principal, "risk.manage")
    data = await imports.upload(form.file)
    return await run_in_threadpool(_import, request, session, principal, form, data)


def _import(request: Request, session: Session, principal: Principal,
            form: imports.ImportForm, data: bytes) -> Response:
    def done() -> Response:
        result = risk_areas.import_list(session=session, actor=principal, data=data,
                                        filename=form.filename, import_valid=form.valid_rows)
        return _risk_page(request, session, principal, {
            **imports.report_context(result, IMPORT_COLUMNS),
            "done": gettext("%(num)s risk areas declared.", num=result.imported)},
            imports.status(result))

    return forms.attempt(session, done, lambda f: _risk_page(
        request, session, principal, {"message": f.message}, f.status))


# --- alerts -------------------------------------------------------------------------

@router.get("/alerts")
def queue(request: Request, session: SessionDep, principal: CurrentPrincipal,
          status: str = "", rule: str = "", severity: str = "", before: str = "") -> Response:
    """The alert queue of my areas, newest first."""
    _need(principal, "alert.view")
    status = status if status in present.STATUS_LABELS else ""
    rule = rule if rule in registry.RULES else ""
    severity = severity if severity in present.SEVERITY_LABELS else ""
    before_id = int(before) if before.isdigit() and len(before) < 19 else None
    rows = alerts.queue(session=session, actor=principal, status=status or None,
                        rule=rule or None, severity=severity or None, before_id=before_id,
                        limit=PAGE_SIZE)
    items = present.alert_reads(session, rows)
    return render(request, "warnings/queue.html", {
        "items": items, "next": items[-1].id if len(items) == PAGE_SIZE else None,
        "filters": {"status": status, "rule": rule, "severity": severity},
        "statuses": present.STATUS_LABELS, "severities": present.SEVERITY_LABELS,
        "rules": [(c, gettext(r.title)) for c, r in registry.RULES.items()],
        "names": present.area_names(session, sorted({a.queue_area for a in items}))})


def _detail(request: Request, session: Session, principal: Principal, alert_id: int,
            message: str | None = None, errors: dict[str, str] | None = None,
            status_code: int = 200) -> Response:
    alert = alerts.read(session=session, actor=principal, alert_id=alert_id)
    [view] = present.alert_reads(session, [alert])
    users = officials.of_area(session=session, area_code=alert.queue_area)
    names = {i: n for i, n in session.execute(
        select(User.id, User.display_name).where(User.id.in_(users)))} if users else {}
    return render(request, "warnings/detail.html", {
        "a": view, "officials": sorted(names.items(), key=lambda kv: kv[1]),
        "assignee": names.get(alert.assigned_to) if alert.assigned_to else None,
        "can_manage": principal.covers_area("alert.manage", alert.queue_area),
        "closed": alert.status in alerts.CLOSED, "statuses": present.STATUS_LABELS,
        "severities": present.SEVERITY_LABELS, "resolutions": present.RESOLUTION_LABELS,
        "area_names": present.area_names(session, [alert.area_code, alert.queue_area]),
        "message": message, "errors": errors or {}}, status_code=status_code)


@router.get("/alerts/{alert_id}")
def detail(request: Request, alert_id: int, session: SessionDep,
           principal: CurrentPrincipal) -> Response:
    """One alert: why, the evidence with links, and what to do."""
    _need(principal, "alert.view")
    return _detail(request, session, principal, alert_id)


def _act(request: Request, session: Session, principal: Principal, alert_id: int,
         action: object) -> Response:
    _need(principal, "alert.manage")

    def again(f: forms.Failure) -> Response:
        return _detail(request, session, principal, alert_id, f.message,
                       f.errors_or_message, f.status)

    def run() -> Response:
        action()  # type: ignore[operator]
        return RedirectResponse(f"/warnings/alerts/{alert_id}", status_code=303)

    return forms.attempt(session, run, again)


@router.post("/alerts/{alert_id}/acknowledge")
def acknowledge(request: Request, alert_id: int, session: SessionDep,
                principal: CurrentPrincipal) -> Response:
    """Acknowledge the alert."""
    return _act(request, session, principal, alert_id, lambda: alerts.acknowledge(
        session=session, actor=principal, alert_id=alert_id))


@router.post("/alerts/{alert_id}/assign")
def assign(request: Request, alert_id: int, session: SessionDep, principal: CurrentPrincipal,
           form: Annotated[AssignForm, Form()]) -> Response:
    """Assign the alert to an official of its area."""
    def go() -> None:
        try:
            user_id = uuid.UUID(form.user_id.strip())
        except ValueError:
            msg = N_("Choose an official of the alert's area.")
            raise ValidationFailed(msg, fields={"user_id": msg}) from None
        alerts.assign(session=session, actor=principal, alert_id=alert_id, user_id=user_id)
    return _act(request, session, principal, alert_id, go)


@router.post("/alerts/{alert_id}/resolve")
def resolve(request: Request, alert_id: int, session: SessionDep, principal: CurrentPrincipal,
            form: Annotated[ResolveForm, Form()]) -> Response:
    """Resolve the alert with what was done."""
    _need(principal, "alert.manage")

    def save(data: ResolveIn) -> Response:
        alerts.resolve(session=session, actor=principal, alert_id=alert_id,
                       resolution=data.resolution, note=data.note)
        return RedirectResponse(f"/warnings/alerts/{alert_id}", status_code=303)

    return forms.submit(session, form, save, lambda f: _detail(
        request, session, principal, alert_id, f.message, f.errors_or_message, f.status),
        messages={"resolution": N_("Choose what was done.")})


@router.post("/alerts/{alert_id}/dismiss")
def dismiss(request: Request, alert_id: int, session: SessionDep, principal: CurrentPrincipal,
            form: Annotated[DismissForm, Form()]) -> Response:
    """Dismiss the alert as a false alarm, saying why."""
    _need(principal, "alert.manage")

    def save(data: DismissIn) -> Response:
        alerts.dismiss(session=session, actor=principal, alert_id=alert_id,
                       reason=data.reason)
        return RedirectResponse(f"/warnings/alerts/{alert_id}", status_code=303)

    return forms.submit(session, form, save, lambda f: _detail(
        request, session, principal, alert_id, f.message, f.errors_or_message, f.status),
        messages={"reason": N_("Say why this is a false alarm.")})


@router.get("/rates")
def rates(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    """False alarms per rule, in my areas."""
    _need(principal, "alert.view")
    rows = alerts.false_alarm_rates(session=session, actor=principal)
    return render(request, "warnings/rates.html", {
        "items": [(gettext(registry.RULES[r.rule].title) if r.rule in registry.RULES
                   else r.rule, r) for r in rows]})


# --- rules (administrators edit) ----------------------------------------------------

def _rules_page(request: Request, session: Session, principal: Principal,
                message: str | None = None, status_code: int = 200) -> Response:
    return render(request, "warnings/rules.html", {
        "items": present.rule_reads(session), "defs": registry.RULES,
        "severities": present.SEVERITY_LABELS, "can_edit": principal.has("rule.manage"),
        "message": message}, status_code=status_code)


@router.get("/rules")
def rules(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    """The rules: severity, parameters, on/off and the explanation people see."""
    _need(principal, "alert.view")
    return _rules_page(request, session, principal)


@router.post("/rules/{code}")
async def update_rule(request: Request, code: str, session: SessionDep,
                      principal: CurrentPrincipal) -> Response:
    """Save an administrator's change to one rule."""
    _need(principal, "rule.manage")
    raw = await request.form()
    return await run_in_threadpool(_save_rule, request, session, principal, code, dict(raw))


def _save_rule(request: Request, session: Session, principal: Principal, code: str,
               raw: dict[str, object]) -> Response:
    rule = registry.RULES.get(code)

    def save() -> Response:
        if rule is None:
            raise ValidationFailed("No such rule.")
        params: dict[str, int] = {}
        for name in rule.params:
            value = str(raw.get(f"param_{name}", "")).strip()
            if not value.isdigit() or len(value) > 6:
                msg = N_("Enter a whole number.")
                raise ValidationFailed(msg, fields={name: msg})
            params[name] = int(value)
        service.update_rule(session=session, actor=principal, code=code,
                            severity=str(raw.get("severity", "")),
                            enabled=str(raw.get("enabled", "")) == "on", params=params)
        return RedirectResponse("/warnings/rules", status_code=303)

    return forms.attempt(session, save, lambda f: _rules_page(
        request, session, principal, f.first_error, f.status))
