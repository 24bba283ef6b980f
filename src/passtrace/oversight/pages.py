"""Supervisors' pages: the audit log (filter, page, export) and unusual access."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse

from passtrace.audit import actors
from passtrace.audit.access_log import is_sensitive
from passtrace.audit.labels import ACTION_LABELS, action_label
from passtrace.core.clock import utcnow
from passtrace.core.errors import Forbidden
from passtrace.core.export import csv_batched_chunks
from passtrace.oversight import records, review, scope, unusual
from passtrace.web import forms
from passtrace.web.deps import CurrentPrincipal, RuntimeDep, SessionDep
from passtrace.web.render import render

router = APIRouter(prefix="/audit", include_in_schema=False)

Text = Annotated[str, Query(max_length=64)]
Area = Annotated[str, Query(max_length=12, pattern=r"^[0-9]{0,12}$")]
MAX_ID = 2**63 - 1  # a larger id would fail in the database, not as a clear error


def _filters(actor: str, action: str, person: str, area: str, start: date | None,
             end: date | None) -> review.Filters:
    return review.Filters(actor=actor.strip(), action=action.strip(), person=person.strip(),
                          area=area, start=start, end=end)


@router.get("")
def audit_log(request: Request, session: SessionDep, rt: RuntimeDep,
              principal: CurrentPrincipal, actor: Text = "", action: Text = "",
              person: Text = "", area: Area = "",
              start: Annotated[date | None, Query(alias="from")] = None,
              end: Annotated[date | None, Query(alias="to")] = None,
              before: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None) -> Response:
    """The audit log, newest first, filtered; officials see actors in their area."""
    if not principal.has(scope.PERMISSION):
        raise Forbidden("Your role does not allow this.")
    filters = _filters(actor, action, person, area, start, end)
    query = filters.query()

    def shown(result: review.Page, error: str | None = None, status: int = 200) -> Response:
        actor_label = actors.labels(session=session, entries=result.entries)
        # The record as its kind, name and page: the id stays in the markup, not the text.
        record = records.describe(session=session, principal=principal,
                                  entries=result.entries)
        rows = [{"id": e.id, "seq": e.seq, "at": e.at, "actor": actor_label(e),
                 "action": e.action, "label": action_label(e.action), "record": record(e),
                 "person": str(e.subject_person_id or ""), "reason": e.reason or "",
                 "sensitive": is_sensitive(e.action)} for e in result.entries]
        return render(request, "oversight/audit.html", {
            "rows": rows, "f": filters, "error": error,
            "actors": review.actor_choices(session=session, principal=principal),
            "actions": sorted(((k, str(v)) for k, v in ACTION_LABELS.items()),
                              key=lambda a: a[1]),
            "next_url": (f"/audit?{urlencode({**query, 'before': result.next_before})}"
                         if result.next_before else None),
            "export_url": f"/audit/export?{urlencode(query)}",
        }, status_code=status)

    return forms.attempt(session, lambda: shown(review.page(
        session=session, vault=rt.vault, principal=principal, filters=filters,
        before=before)), lambda f: shown(review.Page([], None), f.message, f.status))


@router.get("/export")
def export(session: SessionDep, rt: RuntimeDep, principal: CurrentPrincipal,
           actor: Text = "", action: Text = "", person: Text = "", area: Area = "",
           start: Annotated[date | None, Query(alias="from")] = None,
           end: Annotated[date | None, Query(alias="to")] = None) -> StreamingResponse:
    """The filtered log as CSV (formula-safe, streamed); the export is itself audited."""
    filters = _filters(actor, action, person, area, start, end)
    stmt = review.start_export(session=session, vault=rt.vault, principal=principal,
                               filters=filters)

    def body() -> object:
        own = rt.sessions()  # the request's session is committed before streaming ends
        try:
            yield from csv_batched_chunks(review.EXPORT_HEADER, review.export_batches(own, stmt))
        finally:
            own.close()

    name = f"audit-{utcnow():%Y%m%d-%H%M%S}.csv"
    return StreamingResponse(body(), media_type="text/csv; charset=utf-8",  # type: ignore[arg-type]
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/unusual")
def unusual_access(request: Request, session: SessionDep, rt: RuntimeDep,
                   principal: CurrentPrincipal, area: Area = "",
                   start: Annotated[date | None, Query(alias="from")] = None,
                   end: Annotated[date | None, Query(alias="to")] = None) -> Response:
    """Bursts of reveals by one user, and reveals outside working hours."""
    if not principal.has(scope.PERMISSION):
        raise Forbidden("Your role does not allow this.")
    today = utcnow().astimezone(review.LOCAL_TZ).date()
    end = end or today
    start = start or max(end, review.FIRST_DAY + timedelta(days=6)) - timedelta(days=6)
    s = rt.settings

    def shown(found: unusual.Report, error: str | None = None, status: int = 200) -> Response:
        # Who, as role · office: supervisors read the same labels as the people concerned.
        shown_actors: list[actors.HasActor] = [*found.bursts, *found.alerts, *found.off_hours]
        who = actors.labels(session=session, entries=shown_actors)
        return render(request, "oversight/unusual.html", {
            "found": found, "who": who, "start": start, "end": end, "area": area, "error": error,
            "burst_count": s.unusual_reveals_count, "burst_minutes": s.unusual_reveals_minutes,
            "hours_start": s.working_hours_start, "hours_end": s.working_hours_end,
        }, status_code=status)

    return forms.attempt(session, lambda: shown(unusual.report(
        session=session, settings=s, principal=principal, start=start, end=end,
        area=area or None)), lambda f: shown(unusual.Report([], []), f.message, f.status))
