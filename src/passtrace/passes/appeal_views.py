"""API for coercive revocations: appeals and four-eyes bulk revocation."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from passtrace.core.pagination import Page
from passtrace.passes import appeals, mass
from passtrace.passes.models import MassRevocation, PassAppeal
from passtrace.web.deps import CurrentPrincipal, RuntimeDep, SessionDep, require
from passtrace.web.openapi import errors

router = APIRouter(tags=["passes"])


class AppealCreate(BaseModel):
    """Why the revocation was wrong, in the holder's words."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(default="", max_length=1000)


class AppealDecision(BaseModel):
    """What happens to the revocation, and why."""

    model_config = ConfigDict(extra="forbid")

    outcome: Literal["upheld", "reversed"]
    reason: str = Field(default="", max_length=500)


class AppealRead(BaseModel):
    """An appeal and its decision."""

    id: uuid.UUID
    pass_id: uuid.UUID
    status: str
    text: str
    created_at: datetime
    decided_at: datetime | None
    decision_reason: str | None
    reissued_pass_id: uuid.UUID | None


class BulkRevoke(BaseModel):
    """Revoke several passes with one reason (more than the threshold: a second official)."""

    model_config = ConfigDict(extra="forbid")

    pass_ids: list[uuid.UUID] = Field(min_length=1, max_length=mass.MAX_PASSES)
    reason_code: str | None = Field(default=None, max_length=24)
    reason: str = Field(default="", max_length=500)


class MassRevocationRead(BaseModel):
    """A bulk revocation: done, or waiting for a second official."""

    id: uuid.UUID | None
    status: str
    passes: int
    revoked: int
    reason_code: str | None
    reason: str | None


def _appeal(a: PassAppeal) -> AppealRead:
    return AppealRead(id=a.id, pass_id=a.pass_id, status=a.status, text=a.text,
                      created_at=a.created_at, decided_at=a.decided_at,
                      decision_reason=a.decision_reason, reissued_pass_id=a.reissued_pass_id)


def _request(r: MassRevocation) -> MassRevocationRead:
    return MassRevocationRead(id=r.id, status=r.status, passes=len(r.pass_ids),
                              revoked=r.revoked_count, reason_code=r.reason_code,
                              reason=r.reason)


@router.post("/passes/{pass_id}/appeal", response_model=AppealRead, status_code=201,
             responses=errors(404, 409, 422))
def file_appeal(pass_id: uuid.UUID, data: AppealCreate, session: SessionDep,
                principal: CurrentPrincipal) -> AppealRead:
    """Appeal the revocation of my pass (once per pass)."""
    return _appeal(appeals.file(session=session, actor=principal, pass_id=pass_id,
                                text=data.text))


@router.get("/pass-appeals", response_model=Page[AppealRead],
            dependencies=[require("pass.review")])
def appeal_queue(session: SessionDep, principal: CurrentPrincipal,
                 status: Literal["pending", "upheld", "reversed"] = "pending"
                 ) -> Page[AppealRead]:
    """Appeals in your jurisdiction (pending ones by default), oldest 100 (one page)."""
    return Page(items=[_appeal(a) for a in appeals.list_for_review(
        session=session, actor=principal, status=status)], next=None)


@router.post("/pass-appeals/{appeal_id}/decide", response_model=AppealRead,
             responses=errors(403, 404, 409, 422))
def decide_appeal(appeal_id: uuid.UUID, data: AppealDecision, session: SessionDep,
                  rt: RuntimeDep, principal: CurrentPrincipal) -> AppealRead:
    """Uphold or reverse a revocation; a reversal issues a new pass with the same details."""
    return _appeal(appeals.decide(session=session, rt=rt, actor=principal, appeal_id=appeal_id,
                                  outcome=data.outcome, reason=data.reason))


@router.post("/pass-revocations", response_model=MassRevocationRead,
             responses={202: {"description": "Filed for a second official's approval."},
                        **errors(403, 422)})
def revoke_many(data: BulkRevoke, response: Response, session: SessionDep, rt: RuntimeDep,
                principal: CurrentPrincipal) -> MassRevocationRead:
    """Revoke passes now (200), or past the threshold file a request (202) for a second
    official with the same scope to approve."""
    done = mass.revoke_many(session=session, rt=rt, actor=principal, pass_ids=data.pass_ids,
                            reason_code=data.reason_code, reason=data.reason)
    if done.request is not None:
        response.status_code = 202
        return _request(done.request)
    return MassRevocationRead(id=None, status="done", passes=len(set(data.pass_ids)),
                              revoked=done.revoked, reason_code=data.reason_code,
                              reason=data.reason)


@router.get("/pass-revocations", response_model=Page[MassRevocationRead],
            dependencies=[require("pass.revoke")])
def pending_requests(session: SessionDep, principal: CurrentPrincipal
                     ) -> Page[MassRevocationRead]:
    """Other officials' requests you may approve (the oldest 50, one page)."""
    return Page(items=[_request(r) for r in mass.list_pending(session=session,
                                                              actor=principal)], next=None)


@router.post("/pass-revocations/{request_id}/approve", response_model=MassRevocationRead,
             responses=errors(403, 404, 409))
def approve_request(request_id: uuid.UUID, session: SessionDep, rt: RuntimeDep,
                    principal: CurrentPrincipal) -> MassRevocationRead:
    """Approve another official's request: its passes are revoked now."""
    return _request(mass.decide(session=session, rt=rt, actor=principal,
                                request_id=request_id, approve=True))


@router.post("/pass-revocations/{request_id}/reject", response_model=MassRevocationRead,
             responses=errors(403, 404, 409))
def reject_request(request_id: uuid.UUID, session: SessionDep, rt: RuntimeDep,
                   principal: CurrentPrincipal) -> MassRevocationRead:
    """Reject another official's request: nothing is revoked."""
    return _request(mass.decide(session=session, rt=rt, actor=principal,
                                request_id=request_id, approve=False))
