"""API for appeals against stricter outing rules: residents file, officials decide."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel

from passtrace.communities.compounds import rule_changes
from passtrace.communities.compounds.models import RuleAppeal
from passtrace.communities.compounds.schemas import RuleAppealCreate, RuleAppealDecision
from passtrace.core.pagination import Page
from passtrace.web.deps import CurrentPrincipal, RuntimeDep, SessionDep
from passtrace.web.openapi import errors

router = APIRouter(tags=["communities"])


class RuleAppealRead(BaseModel):
    """An appeal against a rule change and its decision."""

    id: uuid.UUID
    change_id: uuid.UUID
    status: str
    text: str
    created_at: datetime
    decided_at: datetime | None
    decision_reason: str | None


def _read(a: RuleAppeal) -> RuleAppealRead:
    return RuleAppealRead(id=a.id, change_id=a.change_id, status=a.status, text=a.text,
                          created_at=a.created_at, decided_at=a.decided_at,
                          decision_reason=a.decision_reason)


@router.post("/community-rule-changes/{change_id}/appeal", response_model=RuleAppealRead,
             status_code=201, responses=errors(404, 409, 422))
def file_appeal(change_id: uuid.UUID, data: RuleAppealCreate, session: SessionDep,
                principal: CurrentPrincipal) -> RuleAppealRead:
    """Appeal a tightening of my compound's outing rules (once per change)."""
    return _read(rule_changes.file(session=session, actor=principal, change_id=change_id,
                                   text=data.text))


@router.get("/community-rule-appeals", response_model=Page[RuleAppealRead])
def appeal_queue(session: SessionDep, principal: CurrentPrincipal,
                 status: Literal["pending", "upheld", "reversed"] = "pending"
                 ) -> Page[RuleAppealRead]:
    """Appeals about compounds in your area (pending ones by default), oldest 100."""
    return Page(items=[_read(a) for a in rule_changes.list_for_review(
        session=session, actor=principal, status=status)], next=None)


@router.post("/community-rule-appeals/{appeal_id}/decide", response_model=RuleAppealRead,
             responses=errors(403, 404, 409, 422))
def decide_appeal(appeal_id: uuid.UUID, data: RuleAppealDecision, session: SessionDep,
                  rt: RuntimeDep, principal: CurrentPrincipal) -> RuleAppealRead:
    """Uphold the stricter rules, or reverse them (the earlier rules come back)."""
    return _read(rule_changes.decide(session=session, settings=rt.settings, actor=principal,
                                     appeal_id=appeal_id, outcome=data.outcome,
                                     reason=data.reason))
