"""Declaring, lifting and importing risk areas (the rows live in areas.models.AreaRisk).

Each declaration is a row that is never deleted: lifting ends its window, so the rows
of one code are its history. A new declaration leaves `scanned_at` NULL, which queues
the risk-visit scan of the area's last N days for the job runner (jobs.scan_declared):
the official's request does not wait for a 14-day scan.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from passtrace.areas import service as area_service
from passtrace.areas.models import RISK_LEVELS, AreaRisk
from passtrace.audit import service as audit_service
from passtrace.core import imports
from passtrace.core.areacodes import significant_prefix
from passtrace.core.clock import local_midnight, utcnow
from passtrace.core.db import locked
from passtrace.core.errors import Forbidden, NotFound, ValidationFailed
from passtrace.core.i18n import N_
from passtrace.core.security import Principal
from passtrace.core.tabular import SheetRow

LIFT_REASON_MAX = 200
LIFT_REASON_NEEDED = N_("Say why the risk area is lifted.")
LIFT_REASON_TOO_LONG = N_("This text is too long.")
NOT_RESPONSIBLE = N_("Only an official responsible for the area may declare or lift it.")
END_AFTER_START = N_("The end must be after the start.")


def _check_window(start: datetime, until: datetime | None) -> None:
    for value in (start, until):
        if value is not None and value.tzinfo is None:
            raise ValidationFailed("Times need a time zone (e.g. +08:00).")
    if until is not None and until <= start:
        raise ValidationFailed(END_AFTER_START, fields={"valid_until": END_AFTER_START})


def declare(*, session: Session, actor: Principal, area_code: str, level: str,
            reason: str = "", valid_from: datetime | None = None,
            valid_until: datetime | None = None, source: str = "manual") -> AreaRisk:
    """Declare an area at a risk level; the official must be responsible for it."""
    if not actor.covers_area("risk.manage", area_code):
        raise Forbidden(NOT_RESPONSIBLE)
    if level not in RISK_LEVELS:
        raise ValidationFailed("Choose a risk level.", fields={"level": "Choose a risk level."})
    area_service.validate_codes(session=session, codes=[area_code], field="area_code")
    start = valid_from or utcnow()
    _check_window(start, valid_until)
    risk = AreaRisk(area_code=area_code, area_prefix=significant_prefix(area_code),
                    level=level, valid_from=start, valid_until=valid_until, note=reason,
                    created_by=actor.user_id, source=source)
    session.add(risk)
    session.flush()
    audit_service.record(session=session, actor=actor, action="risk.create",
                         resource_type="area_risk", resource_id=risk.id,
                         detail={"area": risk.area_code, "level": risk.level,
                                 "source": source})
    return risk


def visible(*, session: Session, actor: Principal, risk_id: uuid.UUID,
            for_update: bool = False) -> AreaRisk:
    """A risk the official may manage (404 otherwise: ids leak nothing)."""
    risk = (locked(session, AreaRisk, risk_id) if for_update
            else session.get(AreaRisk, risk_id))
    if risk is None or not actor.covers_area("risk.manage", risk.area_code):
        raise NotFound("No such risk area.")
    return risk


def lift_reason(raw: str) -> str:
    """The reason a lift needs (the page and the API both check it here); 422 if none."""
    reason = " ".join(raw.split())
    if not reason:
        raise ValidationFailed(LIFT_REASON_NEEDED, fields={"reason": LIFT_REASON_NEEDED})
    if len(reason) > LIFT_REASON_MAX:
        raise ValidationFailed(LIFT_REASON_TOO_LONG, fields={"reason": LIFT_REASON_TOO_LONG})
    return reason


def lift(*, session: Session, actor: Principal, risk_id: uuid.UUID,
         reason: str) -> AreaRisk:
    """End a risk now, saying why (a risk already over is left as it is).

    Race: two officials lifting at once would both record a lift; the row lock makes
    the second see the first's end and record nothing (its reason is not kept).
    """
    reason = lift_reason(reason)
    risk = visible(session=session, actor=actor, risk_id=risk_id, for_update=True)
    now = utcnow()
    if risk.valid_until is None or risk.valid_until > now:
        risk.valid_until = max(now, risk.valid_from)
        risk.lifted_at, risk.lifted_by = now, actor.user_id
        risk.lift_reason = reason
        session.flush()
        audit_service.record(session=session, actor=actor, action="risk.end",
                             resource_type="area_risk", resource_id=risk.id,
                             detail={"area": risk.area_code, "reason": reason})
    return risk


def history(*, session: Session, actor: Principal, area_code: str) -> list[AreaRisk]:
    """Every declaration of one area, newest first."""
    if not actor.covers_area("risk.manage", area_code):
        raise NotFound("No such risk area.")
    return list(session.scalars(select(AreaRisk).where(AreaRisk.area_code == area_code)
                                .order_by(AreaRisk.valid_from.desc())))


def managed(*, session: Session, actor: Principal) -> list[AreaRisk]:
    """Declarations in the official's areas, current and past, newest first."""
    stmt = select(AreaRisk).order_by(AreaRisk.valid_from.desc()).limit(500)
    scopes = actor.area_scopes("risk.manage")
    if scopes is not None:
        if not scopes:
            return []
        stmt = stmt.where(or_(*[AreaRisk.area_code.startswith(s, autoescape=True)
                                for s in scopes]))
    return list(session.scalars(stmt))


# --- the published list (CSV / XLSX: code, level, from, until) ---------------------

COLUMNS = {"code": N_("Area code"), "level": N_("Risk level"), "from": N_("From"),
           "until": N_("Until")}
ALIASES = {"code": ("code", "areacode", "区划代码", "代码"),
           "level": ("level", "risklevel", "风险等级", "等级"),
           "from": ("from", "validfrom", "start", "开始", "开始日期"),
           "until": ("until", "validuntil", "end", "结束", "结束日期")}
LEVEL_WORDS = {"high": "high", "medium": "medium", "low": "low", "高": "high",
               "高风险": "high", "中": "medium", "中风险": "medium", "低": "low",
               "低风险": "low"}


@dataclass
class Row:
    """One checked row of a published list."""

    row: int
    code: str
    level: str
    start: datetime
    until: datetime | None


def _when(text: str) -> datetime | None:
    """A date (local midnight) or an ISO time with its zone; None if unreadable."""
    text = text.strip()
    try:
        if len(text) <= 10:
            return local_midnight(date.fromisoformat(text))
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo is not None else None


def sheet(*, session: Session, actor: Principal) -> imports.Sheet[Row]:
    """The row schema of a published list, checked against the actor's areas."""
    known: set[str] = set()

    def prepare(rows: list[SheetRow]) -> None:
        known.update(area_service.existing(
            session=session, codes=[r.cells.get("code", "").strip() for r in rows]))

    def check(r: SheetRow, problems: list[imports.Problem]) -> Row | None:
        code = r.cells.get("code", "").strip()
        level = LEVEL_WORDS.get(r.cells.get("level", "").strip().lower())
        start = _when(r.cells.get("from", "")) if r.cells.get("from", "").strip() else None
        until_text = r.cells.get("until", "").strip()
        until = _when(until_text) if until_text else None
        before = len(problems)
        if code not in known:
            problems.append(imports.Problem(r.number, "code", N_("No such area code.")))
        elif not actor.covers_area("risk.manage", code):
            problems.append(imports.Problem(r.number, "code", NOT_RESPONSIBLE))
        if level is None:
            problems.append(imports.Problem(
                r.number, "level", N_("The level must be high, medium or low.")))
        if start is None:
            problems.append(imports.Problem(
                r.number, "from", N_("Not a date (YYYY-MM-DD) or a time with its zone.")))
        if until_text and until is None:
            problems.append(imports.Problem(
                r.number, "until", N_("Not a date (YYYY-MM-DD) or a time with its zone.")))
        elif start is not None and until is not None and until <= start:
            problems.append(imports.Problem(r.number, "until", END_AFTER_START))
        if len(problems) > before or level is None or start is None:
            return None
        return Row(r.number, code, level, start, until)

    return imports.Sheet(aliases=ALIASES, required=("code", "level", "from"), check=check,
                         unique={"code": N_("The same area code is already on row %(row)s.")},
                         label="code", prepare=prepare)


def import_list(*, session: Session, actor: Principal, data: bytes, filename: str,
                import_valid: bool) -> imports.ImportResult:
    """Import a published list: each row declares its area (the same declaration already
    stored — code, level and start — is counted unchanged)."""
    def match(rows: list[Row], problems: list[imports.Problem]) -> imports.Matched[Row]:
        stored = {(r.area_code, r.level, r.valid_from) for r in session.scalars(
            select(AreaRisk).where(AreaRisk.area_code.in_([r.code for r in rows])))}
        out: imports.Matched[Row] = imports.Matched()
        for r in rows:
            (out.unchanged if (r.code, r.level, r.start) in stored else out.new).append(r)
        return out

    def write(matched: imports.Matched[Row], result: imports.ImportResult) -> int:
        for r in matched.new:
            declare(session=session, actor=actor, area_code=r.code, level=r.level,
                    valid_from=r.start, valid_until=r.until, source="import")
        audit_service.record(session=session, actor=actor, action="risk.import",
                             resource_type="area_risk",
                             detail={"rows": result.rows, "imported": len(matched.new),
                                     "refused": imports.refused_rows(result)})
        return len(matched.new)

    return imports.run(sheet(session=session, actor=actor), data, filename, match=match,
                       write=write, import_valid=import_valid)
