"""Health API: my status and appeals; officials' person view, four-eyes and appeals;
the signed status list for offline checkpoints."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from passtrace.core.errors import ValidationFailed
from passtrace.core.pagination import BAD_CURSOR, START_AGAIN, decode_cursor, encode_cursor
from passtrace.health import appeals, codecheck, manual, offline, present, reading, roster
from passtrace.health.schemas import (
    AppealCreate,
    AppealDecision,
    AppealPage,
    AppealRead,
    FlaggedPage,
    FlaggedPerson,
    ProposalCreate,
    ProposalDecision,
    ProposalPage,
    ProposalRead,
    StatusCodeCheck,
    StatusCodeText,
    StatusList,
    StatusRead,
)
from passtrace.web.deps import CurrentPrincipal, RuntimeDep, SessionDep, require
from passtrace.web.openapi import errors
from passtrace.web.paging import DEFAULT_LIMIT, Cursor, Limit

router = APIRouter(prefix="/health", tags=["health"])


def _after(cursor: str | None) -> uuid.UUID | None:
    if not cursor:
        return None
    (raw,) = decode_cursor(cursor, 1)
    try:
        return uuid.UUID(str(raw))
    except ValueError:
        raise ValidationFailed(BAD_CURSOR, fields={"cursor": START_AGAIN}) from None


@router.get("/me", response_model=StatusRead, responses=errors(404))
def my_status(session: SessionDep, rt: RuntimeDep, principal: CurrentPrincipal) -> StatusRead:
    """My health status, why, until when, its history and a signed status code."""
    person = reading.own(session=session, actor=principal)
    return present.status_read(session, rt, person, with_code=True)


@router.post("/appeals", response_model=AppealRead, status_code=201,
             responses=errors(404, 409))
def file_appeal(data: AppealCreate, session: SessionDep, rt: RuntimeDep,
                principal: CurrentPrincipal) -> AppealRead:
    """Appeal one of my flags with a statement (once per flag)."""
    appeal = appeals.file(session=session, actor=principal, flag_id=data.flag_id,
                          statement=data.statement, hours=rt.settings.health_appeal_hours)
    return present.appeal_read(appeal)


@router.get("/appeals", response_model=AppealPage, dependencies=[require("health.manage")])
def pending_appeals(session: SessionDep, principal: CurrentPrincipal, cursor: Cursor = None,
                    limit: Limit = DEFAULT_LIMIT) -> AppealPage:
    """Pending appeals of people in my jurisdiction, oldest (most overdue) first."""
    rows = appeals.list_pending(session=session, actor=principal, after=_after(cursor),
                                limit=limit + 1)
    nxt = encode_cursor([str(rows[limit - 1].id)]) if len(rows) > limit else None
    reading.record_queue(session=session, actor=principal, appeals=rows[:limit],
                         via="api_queue")
    return AppealPage(items=[present.appeal_read(a) for a in rows[:limit]], next=nxt)


@router.post("/appeals/{appeal_id}/decision", response_model=AppealRead,
             dependencies=[require("health.manage")], responses=errors(404, 409))
def decide_appeal(appeal_id: uuid.UUID, data: AppealDecision, session: SessionDep,
                  principal: CurrentPrincipal) -> AppealRead:
    """Grant (clear the flag) or refuse an appeal, with a reason."""
    appeal = appeals.decide(session=session, actor=principal, appeal_id=appeal_id,
                            grant=data.grant, reason=data.reason)
    return present.appeal_read(appeal)


@router.get("/people/{person_id}", response_model=StatusRead,
            dependencies=[require("health.view")], responses=errors(404))
def person_status(person_id: uuid.UUID, session: SessionDep, rt: RuntimeDep,
                  principal: CurrentPrincipal) -> StatusRead:
    """A person's status, flags and history (audited: the person sees who looked)."""
    person = reading.for_official(session=session, actor=principal, person_id=person_id,
                                  via="api")
    return present.status_read(session, rt, person, with_code=False)


@router.get("/flagged", response_model=FlaggedPage, responses=errors(403, 404, 422))
def flagged(session: SessionDep, principal: CurrentPrincipal, level: str = "red",
            area: str = "", cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT) -> FlaggedPage:
    """The people red (or yellow) now in my areas, or in one area inside them: the list
    behind the dashboard's counts (each person listed reaches their access log)."""
    rows, nxt = roster.people(session=session, actor=principal, level=level[:8],
                              area=area[:40], cursor=cursor, limit=limit, via="api_flagged")
    return FlaggedPage(items=[FlaggedPerson(id=p.id, name_masked=p.name_masked or p.id_masked,
                                            id_masked=p.id_masked, level=level)  # type: ignore[arg-type]
                              for p in rows], next=nxt)


@router.post("/proposals", response_model=ProposalRead, status_code=201,
             dependencies=[require("health.manage")], responses=errors(404))
def propose(data: ProposalCreate, session: SessionDep,
            principal: CurrentPrincipal) -> ProposalRead:
    """Propose a status by hand; nothing changes until a second official approves."""
    proposal = manual.propose(session=session, actor=principal, person_id=data.person_id,
                              level=data.level, reason=data.reason, until=data.until)
    return present.proposal_read(proposal, principal.user_id)


@router.get("/proposals", response_model=ProposalPage, dependencies=[require("health.manage")])
def pending_proposals(session: SessionDep, principal: CurrentPrincipal, cursor: Cursor = None,
                      limit: Limit = DEFAULT_LIMIT) -> ProposalPage:
    """Other officials' pending proposals for people in my jurisdiction."""
    rows = manual.list_pending(session=session, actor=principal, after=_after(cursor),
                               limit=limit + 1)
    nxt = encode_cursor([str(rows[limit - 1].id)]) if len(rows) > limit else None
    reading.record_queue(session=session, actor=principal, proposals=rows[:limit],
                         via="api_queue")
    return ProposalPage(items=[present.proposal_read(p, principal.user_id)
                               for p in rows[:limit]], next=nxt)


@router.post("/proposals/{proposal_id}/decision", response_model=ProposalRead,
             dependencies=[require("health.manage")], responses=errors(404, 409))
def decide_proposal(proposal_id: uuid.UUID, data: ProposalDecision, session: SessionDep,
                    principal: CurrentPrincipal) -> ProposalRead:
    """Approve (the status changes now) or refuse; never one's own proposal."""
    proposal = manual.decide(session=session, actor=principal, proposal_id=proposal_id,
                             approve=data.approve, note=data.note)
    return present.proposal_read(proposal, principal.user_id)


@router.get("/status-list", response_model=StatusList, tags=["checkpoint"],
            dependencies=[require("pass.verify")])
def status_list(session: SessionDep, rt: RuntimeDep) -> StatusList:
    """The passes of people who are not green, signed with the revocation-list key."""
    return StatusList.model_validate(offline.signed_status_list(session=session, rt=rt))


@router.post("/status-code/check", response_model=StatusCodeCheck, tags=["checkpoint"],
             dependencies=[require("pass.verify")], responses=errors(422))
def check_status_code(data: StatusCodeText, session: SessionDep, rt: RuntimeDep,
                      principal: CurrentPrincipal) -> StatusCodeCheck:
    """Verify a scanned status code; the status now overrides what an older code says.
    The holder finds the check in their access log."""
    return present.code_check_read(codecheck.check(session=session, rt=rt, actor=principal,
                                                   text=data.code))
