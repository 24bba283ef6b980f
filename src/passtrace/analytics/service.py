"""Analytics runs: asked for by an official, claimed and run by the job runner.

Runs read the lake only (pseudonymised), on DuckDB in the runner's process. Asking,
and downloading a result, are audited; the run's row is the history of who ran what
with which parameters.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, or_, select, true, update
from sqlalchemy.orm import Session

from passtrace.analytics.models import AnalyticsRun
from passtrace.analytics.params import check
from passtrace.audit import service as audit_service
from passtrace.cases.models import Case
from passtrace.core import pagination
from passtrace.core.areacodes import common_prefix, contains
from passtrace.core.clock import utcnow
from passtrace.core.errors import Forbidden, NotFound
from passtrace.core.security import Principal

PERMISSION = "case.manage"  # officials who run case work run population jobs (roles.md)


def _require(actor: Principal) -> None:
    if not actor.has(PERMISSION):
        raise Forbidden("Your role does not allow this.")


def _confined(actor: Principal, area_codes: list[str]) -> list[str]:
    """The run's areas: a scoped official's runs stay inside their jurisdiction (no
    areas given means all of theirs); a city-wide official may ask for any."""
    scopes = actor.area_scopes(PERMISSION)
    if scopes is None:
        return area_codes
    if not area_codes:
        return sorted(scopes)
    if any(not any(contains(s, a) for s in scopes) for a in area_codes):
        raise Forbidden("An area is outside your jurisdiction.")
    return area_codes


def _check_cases(session: Session, actor: Principal, case_ids: list[str]) -> None:
    """Companions start from cases: each must exist and lie in the official's areas
    (an unknown case and another district's case get the same answer)."""
    for raw in case_ids:
        try:
            case = session.get(Case, uuid.UUID(raw.strip()))
        except ValueError:
            case = None
        if case is None or not actor.covers_area(PERMISSION, case.area_code):
            raise NotFound("No such case.")


def request_run(*, session: Session, actor: Principal, job: str, day_from: date,
                day_to: date, area_codes: list[str], case_ids: list[str],
                window_minutes: int) -> AnalyticsRun:
    """Queue a run (the job runner picks it up); audited with its parameters."""
    _require(actor)
    area_codes = _confined(actor, area_codes)
    params = check(job, day_from=day_from, day_to=day_to, area_codes=area_codes,
                   case_ids=case_ids, window_minutes=window_minutes)
    _check_cases(session, actor, list(params.case_ids))
    stored = {k: (v.isoformat() if isinstance(v, date) else list(v)
                  if isinstance(v, tuple) else v) for k, v in asdict(params).items()}
    run = AnalyticsRun(job=job, params=stored, requested_by=actor.user_id,
                       requested_at=utcnow(), area_scope=common_prefix(area_codes))
    session.add(run)
    session.flush()
    audit_service.record(session=session, actor=actor, action="analytics.request",
                         resource_type="analytics_run", resource_id=run.id,
                         detail={"job": job, **stored})
    return run


def _visible(actor: Principal) -> ColumnElement[bool]:
    """Runs an official may see: their own, and those confined to one of their areas."""
    scopes = actor.area_scopes(PERMISSION)
    if scopes is None:
        return true()
    inside = [AnalyticsRun.area_scope.startswith(s) for s in scopes if s]
    return or_(AnalyticsRun.requested_by == actor.user_id,
               *[(AnalyticsRun.area_scope != "") & c for c in inside])


def get(*, session: Session, actor: Principal, run_id: uuid.UUID) -> AnalyticsRun:
    _require(actor)
    run = session.scalar(select(AnalyticsRun).where(AnalyticsRun.id == run_id,
                                                    _visible(actor)))
    if run is None:
        raise NotFound("No such analytics run.")
    return run


def history(*, session: Session, actor: Principal, cursor: str | None,
            limit: int = 50) -> tuple[list[AnalyticsRun], str | None]:
    """The runs the official may see, newest first (who ran what, with which parameters)."""
    _require(actor)
    return pagination.paginate_query(session, select(AnalyticsRun).where(_visible(actor)),
                                     [AnalyticsRun.requested_at, AnalyticsRun.id],
                                     cursor=cursor, limit=limit, descending=True)


def requesters(*, session: Session, runs: list[AnalyticsRun]) -> dict[uuid.UUID, str]:
    """Who asked for each run, by display name (never the login name)."""
    return requesters_by_id(session=session,
                            ids={r.requested_by for r in runs if r.requested_by})


def requesters_by_id(*, session: Session, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Users' display names (never the login name) by id."""
    from passtrace.accounts.models import User

    if not ids:
        return {}
    return dict(session.execute(select(User.id, User.display_name).where(User.id.in_(ids)))
                .tuples().all())


def result_path(results_dir: str, run: AnalyticsRun) -> Path:
    return Path(results_dir) / f"{run.id}.parquet"


def download(*, session: Session, actor: Principal, results_dir: str,
             run_id: uuid.UUID) -> tuple[AnalyticsRun, Path]:
    """A finished run's result file, for the page or the API; the download is audited."""
    run = get(session=session, actor=actor, run_id=run_id)
    path = result_path(results_dir, run)
    if run.status != "done" or not path.exists():
        raise NotFound("No such analytics run.")
    record_download(session=session, actor=actor, run=run)
    return run, path


def record_download(*, session: Session, actor: Principal, run: AnalyticsRun) -> None:
    audit_service.record(session=session, actor=actor, action="analytics.download",
                         resource_type="analytics_run", resource_id=run.id,
                         detail={"job": run.job, "rows": run.rows})


def claim_next(session: Session) -> AnalyticsRun | None:
    """Take the oldest queued run for this runner.

    Race: two runners (a cron `jobs run --once` beside the serving one) may both read
    the same queued run; the claim is a compare-and-set (UPDATE … WHERE status =
    'queued'), so only the one whose update touched the row runs it.
    """
    for run_id in session.scalars(select(AnalyticsRun.id).where(
            AnalyticsRun.status == "queued").order_by(AnalyticsRun.requested_at).limit(5)):
        claimed = session.execute(
            update(AnalyticsRun).where(AnalyticsRun.id == run_id,
                                       AnalyticsRun.status == "queued")
            .values(status="running", started_at=utcnow(), progress=10))
        if claimed.rowcount == 1:  # type: ignore[attr-defined]
            session.flush()
            return session.get(AnalyticsRun, run_id, populate_existing=True)
    return None


def params_of(run: AnalyticsRun) -> dict[str, Any]:
    p = {k: v for k, v in run.params.items() if k != "extra"}
    p["day_from"] = date.fromisoformat(p["day_from"])
    p["day_to"] = date.fromisoformat(p["day_to"])
    return p
