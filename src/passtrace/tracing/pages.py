"""Pages: a case's contacts (an htmx fragment on the case page, or a page), the
officials' tracing tasks, and the chain graph."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from passtrace.cases.models import Case
from passtrace.core.clock import utcnow
from passtrace.core.errors import Forbidden, ValidationFailed
from passtrace.people.models import Person
from passtrace.sites.models import Site
from passtrace.tracing import chain, chain_read, present
from passtrace.tracing import contacts as contact_search
from passtrace.tracing import export as export_service
from passtrace.tracing import service as tracing_service
from passtrace.tracing import tasks as task_service
from passtrace.tracing.models import TASK_STATUSES
from passtrace.web import forms
from passtrace.web.deps import CurrentPrincipal, RuntimeDep, SessionDep
from passtrace.web.paging import Cursor
from passtrace.web.render import render

router = APIRouter(include_in_schema=False)


def _error_page(request: Request, back: str) -> forms.Page:
    """A failed form shows the error page, its message translated, a link back."""
    return lambda failure: render(request, "error.html", {
        "status": failure.status,
        "message": failure.message or next(iter(failure.errors.values()), ""),
        "back": back}, status_code=failure.status)


@router.get("/cases/{case_id}/contacts")
def contacts_page(case_id: uuid.UUID, request: Request, session: SessionDep,
                  principal: CurrentPrincipal, cursor: Cursor = None) -> Response:
    """The case's contacts: a fragment for htmx (the case page loads it), else a page."""
    case = tracing_service.case_for(session=session, principal=principal, case_id=case_id)
    rows, nxt = tracing_service.page(session=session, actor=principal, case=case,
                                     cursor=cursor, limit=50)
    reached, total = task_service.reached_share(session=session, case_id=case.id)
    ctx: dict[str, Any] = {
        "case": case, "rows": rows, "next": nxt,
        "masked": {r.contact.person_id: r.masked for r in rows if r.contact.person_id},
        "summary": {r.contact.id: tracing_service.evidence_summary(r.contact) for r in rows},
        "reached": reached, "total": total,
        "can_manage": principal.covers_area("contact.manage", case.area_code),
        "secondary_depth": contact_search.DEFAULT_DEPTH}
    if request.headers.get("hx-request") == "true":
        return render(request, "tracing/_contacts.html", ctx)
    return render(request, "tracing/contacts.html", ctx)


@router.post("/cases/{case_id}/contacts/run")
def run_page(case_id: uuid.UUID, session: SessionDep, rt: RuntimeDep,
             principal: CurrentPrincipal, depth: Annotated[str, Form()] = "1") -> Response:
    """Find the contacts again (the case's W; depth 1, or secondary ones too), then show them."""
    case = tracing_service.case_for(session=session, principal=principal, case_id=case_id,
                                    permission="contact.manage")
    levels = contact_search.DEFAULT_DEPTH if depth.strip() == str(
        contact_search.DEFAULT_DEPTH) else 1
    tracing_service.run(session=session, settings=rt.settings, actor=principal, case=case,
                        depth=levels)
    return RedirectResponse(f"/cases/{case_id}/contacts", status_code=303)


class ExportForm(forms.FormModel):
    """The export's format and, to reveal, a purpose and a reason."""

    format: str = "csv"
    reveal: str = ""
    purpose: str = ""
    reason: str = ""
    # From an analytics run's page: only the companions that run added.
    analytics_run: str = ""


@router.post("/cases/{case_id}/contacts/export")
def export_page(case_id: uuid.UUID, request: Request, session: SessionDep, rt: RuntimeDep,
                principal: CurrentPrincipal, form: Annotated[ExportForm, Form()]) -> Response:
    """Download the contact list (masked, or revealed with a purpose and a reason)."""
    case = tracing_service.case_for(session=session, principal=principal, case_id=case_id)
    ask = export_service.Reveal(form.purpose, form.reason) if form.reveal else None

    def build() -> tuple[list[str], list[list[Any]]]:
        if ask is not None and not principal.has("person.reveal"):
            raise Forbidden("You may not view this person's data.")
        return export_service.rows(session=session, rt=rt, actor=principal, case=case,
                                   reveal=ask, from_run=_run_id(form.analytics_run))

    result = forms.attempt(session, build, _error_page(request, f"/cases/{case_id}/contacts"),
                           values=form.model_dump())
    if isinstance(result, Response):
        return result
    header, rows = result
    session.commit()  # the audit entries stand even if the download is cut off
    return present.download(form.format, header, rows)


def _run_id(raw: str) -> str | None:
    """The analytics run named by the form (None: the whole list)."""
    if not raw.strip():
        return None
    try:
        return str(uuid.UUID(raw.strip()))
    except ValueError:
        raise ValidationFailed("No such analytics run.") from None


@router.get("/tracing/tasks")
def tasks_page(request: Request, session: SessionDep, principal: CurrentPrincipal,
               overdue: bool = False, cursor: Cursor = None) -> Response:
    """The official's tracing tasks over their areas; `overdue` shows only late ones."""
    if not principal.has("contact.view"):
        raise Forbidden("Your role does not allow this.")
    rows, nxt = task_service.page(session=session, principal=principal, overdue=overdue,
                                  cursor=cursor, limit=50)
    contacts = [r.contact for r in rows]
    tracing_service.record_task_view(session=session, actor=principal, contacts=contacts)
    case_areas = dict(session.execute(select(Case.id, Case.area_code).where(
        Case.id.in_({c.case_id for c in contacts}))).tuples().all()) if contacts else {}
    return render(request, "tracing/tasks.html", {
        "rows": rows, "next": nxt, "overdue": overdue, "now": utcnow(),
        "masked": present.masked(session, contacts), "statuses": TASK_STATUSES,
        # Link a task to its case only where the official may open it (a contact in this
        # district of a case in another: the case page would answer 404).
        "case_links": {i for i, area in case_areas.items()
                       if principal.covers_area("case.view", area)}})


class StatusForm(forms.FormModel):
    """A task's new status and a note."""

    status: str = ""
    note: str = ""


@router.post("/tracing/tasks/{task_id}")
def task_status(task_id: uuid.UUID, request: Request, session: SessionDep,
                principal: CurrentPrincipal, form: Annotated[StatusForm, Form()]) -> Response:
    """Update a task's status from the list, then come back to it."""
    if not principal.has("contact.manage"):
        raise Forbidden("Your role does not allow this.")  # a resident: 403, not 404

    def change() -> Response:
        task_service.set_status(session=session, principal=principal, task_id=task_id,
                                status=form.status, note=form.note[:500])
        return RedirectResponse("/tracing/tasks", status_code=303)

    result: Response = forms.attempt(session, change, _error_page(request, "/tracing/tasks"),
                                     values=form.model_dump())
    return result


@router.get("/cases/{case_id}/chain")
def chain_page(case_id: uuid.UUID, request: Request, session: SessionDep,
               principal: CurrentPrincipal) -> Response:
    """The chain graph: masked persons, edges with evidence, grouped past a threshold."""
    case = tracing_service.case_for(session=session, principal=principal, case_id=case_id)
    found = chain_read.read(session=session, case=case)
    names = _site_names(session, found.site_ids())
    label = _case_label(session, case)
    if found.grouped:
        graph = chain.build_grouped(found.members, found.parents, names, label)
    else:
        graph = chain.build(found.contacts, present.masked(session, found.contacts), names,
                            label)
    # The case's own person is drawn (masked ID number) whether or not the contacts are
    # grouped: their access log shows the read too.
    tracing_service.record_view(session=session, actor=principal, case=case,
                                rows=found.contacts, also=[case.person_id])
    return render(request, "tracing/chain.html", {"case": case, "graph": graph,
                                                  "total": found.total})


def _case_label(session: SessionDep, case: Any) -> str:
    return session.scalar(select(Person.id_masked).where(Person.id == case.person_id)) or "—"


def _site_names(session: SessionDep, ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    rows = session.execute(select(Site.id, Site.name)
                           .where(Site.id.in_([uuid.UUID(i) for i in ids]))).all()
    return {str(i): n for i, n in rows}
