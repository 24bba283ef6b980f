"""Tightening a compound's outing rules is coercive: a reason, every household told, appeals.

Stricter means fewer members out at once, fewer outings (a lower allowance per day), a
curfew covering a minute it did not, or a shorter longest time out; a limit set where
there was none is stricter too. Loosening needs no reason. A tightening is kept as a
RuleChange (the before, the after, the reason); each resident may appeal it once, and an
official over the compound's area (not whoever changed the rules) decides: "upheld" (the
rules stand) or "reversed" (the rules go back to what they were before the change, if
nobody changed them since). Filing and recording the decision are the ones pass appeals
use (passes.coercion); what is appealed, who decides and what a reversal does are this
module's: a pass appeal re-issues one revoked pass, this one puts a compound's rules back.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from passtrace.accounts.models import User
from passtrace.audit import service as audit_service
from passtrace.communities.compounds import authz
from passtrace.communities.compounds.models import Community, Resident, RuleAppeal, RuleChange
from passtrace.core.config import Settings
from passtrace.core.db import locked
from passtrace.core.errors import Conflict, Forbidden, NotFound
from passtrace.core.i18n import N_, lazy_gettext
from passtrace.core.ids import uuid7
from passtrace.core.security import Principal
from passtrace.notices.service import InAppNotifier, Message, WebhookOutboxNotifier
from passtrace.passes import coercion
from passtrace.people.models import Person

# The reasons a manager or an official may give for making the outing rules stricter.
RULE_REASONS = {
    "risk_change": lazy_gettext("The area's risk level rose"),
    "cases_nearby": lazy_gettext("New cases in or near the compound"),
    "directive": lazy_gettext("An order from the district's epidemic-prevention office"),
    "crowding": lazy_gettext("Too many people out at once (crowding at shops or gates)"),
    "other": lazy_gettext("Other (explained in the text)"),
}
APPEAL_MIN_TEXT = coercion.APPEAL_MIN_TEXT
Outcome = coercion.Outcome
DAY_MINUTES = 24 * 60


def _curfew_minutes(start: str | None, end: str | None) -> set[int]:
    """The minutes of the day a curfew covers (it may wrap midnight)."""
    if not start or not end:
        return set()
    a = int(start[:2]) * 60 + int(start[3:])
    b = int(end[:2]) * 60 + int(end[3:])
    return set(range(a, b)) if a < b else set(range(a, DAY_MINUTES)) | set(range(0, b))


def _lower_cap(old: int | None, new: int | None) -> bool:
    """A cap (None = no limit) made lower, or set where there was none."""
    return new is not None and (old is None or new < old)


def tightened(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """The rule fields the change makes stricter (empty: the change needs no reason)."""
    out = []
    if _lower_cap(before["max_out_per_household"], after["max_out_per_household"]):
        out.append("max_out_per_household")
    old_n, new_n = before["outings_per_window"], after["outings_per_window"]
    old_d, new_d = before["window_days"] or 1, after["window_days"] or 1
    # Fewer outings per day on average, or fewer in one window: 2 a day -> 3 in 2 days is
    # stricter; 1 a day -> 2 in 2 days is not (the same allowance, more freedom in it).
    if new_n is not None and (old_n is None or new_n * old_d < old_n * new_d or new_n < old_n):
        out.append("outings_per_window")
    if _curfew_minutes(after["curfew_start"], after["curfew_end"]) - _curfew_minutes(
            before["curfew_start"], before["curfew_end"]):
        out.append("curfew")
    if _lower_cap(before["max_out_minutes"], after["max_out_minutes"]):
        out.append("max_out_minutes")
    return out


def reason_label(code: str | None) -> str:
    """The reason's label in the current language ("" for none)."""
    return str(RULE_REASONS[code]) if code in RULE_REASONS else ""


def check_reason(reason_code: str | None, reason: str | None) -> tuple[str, str]:
    """A code from RULE_REASONS plus text, or 422 naming the missing field."""
    return coercion.check_reason(reason_code, reason or "", RULE_REASONS)


def record(*, session: Session, settings: Settings | None, actor: Principal, c: Community,
           before: dict[str, Any], after: dict[str, Any], fields: list[str],
           reason_code: str, reason: str) -> RuleChange:
    """Keep the tightening, audit it and tell every household of the compound."""
    change = RuleChange(id=uuid7(), community_id=c.id, changed_by=actor.user_id,
                        reason_code=reason_code, reason=reason, before=before, after=after,
                        tightened=fields)
    session.add(change)
    session.flush()
    audit_service.record(session=session, actor=actor, action="community.rules.tighten",
                         resource_type="community", resource_id=c.code, reason=reason,
                         detail={"change": str(change.id), "reason_code": reason_code,
                                 "tightened": fields, "before": before, "after": after})
    users = session.scalars(select(User.id).join(Resident, Resident.person_id == User.person_id)
                            .where(Resident.community_id == c.id).distinct())
    messages = [Message(user_id=u, kind="community_rules",
                        text=N_("%(community)s made its outing rules stricter: %(reason)s. "
                                "You may appeal."),
                        params={"community": c.name, "reason": reason},
                        dedupe_key=f"rule-change:{change.id}:{u}",
                        link=f"/community/rule-changes/{change.id}") for u in users]
    # In-app for every resident with an account; a gateway copy goes through the outbox
    # (delivered by the job runner after commit), never from inside this transaction.
    InAppNotifier(session).send_many(messages)
    if settings is not None and settings.notify_webhook_url:
        WebhookOutboxNotifier(session).send_many(messages)
    return change


def get_for_resident(*, session: Session, actor: Principal, change_id: uuid.UUID) -> RuleChange:
    """A change of the rules of a compound the actor lives in (anything else: not found)."""
    change = session.get(RuleChange, change_id)
    if change is None or actor.person_id is None or session.scalar(
            select(Resident.id).where(Resident.community_id == change.community_id,
                                      Resident.person_id == actor.person_id)) is None:
        raise NotFound("No such rule change.")
    return change


def appeal_of(*, session: Session, change: RuleChange,
              person_id: uuid.UUID | None) -> RuleAppeal | None:
    """The person's appeal against the change, if they filed one."""
    return session.scalar(select(RuleAppeal).where(RuleAppeal.change_id == change.id,
                                                   RuleAppeal.person_id == person_id))


def file(*, session: Session, actor: Principal, change_id: uuid.UUID, text: str) -> RuleAppeal:
    """File a resident's appeal against a tightening of their compound's rules (once per
    change and person: the unique key)."""
    def open_appeal(text: str) -> tuple[RuleAppeal, coercion.Appealed]:
        change = get_for_resident(session=session, actor=actor, change_id=change_id)
        assert actor.person_id is not None
        return (RuleAppeal(id=uuid7(), change_id=change.id, person_id=actor.person_id,
                           filed_by=actor.user_id, text=text, status="pending"),
                _about(change.id))

    return coercion.file_appeal(session=session, actor=actor, text=text,
                                open_appeal=open_appeal)


def _about(change_id: uuid.UUID) -> coercion.Appealed:
    return coercion.Appealed(action="community.rules.appeal",
                             resource_type="community_rule_change", resource_id=change_id)


def _decidable(actor: Principal, c: Community) -> bool:
    # Officials over the area: a compound's manager made or carries out the rule, so the
    # appeal goes above them.
    return authz.covers(actor, "community.register", c)


def _officials_only(actor: Principal) -> None:
    if not actor.has("community.register"):
        raise Forbidden("Your role does not allow this.")


def list_for_review(*, session: Session, actor: Principal, status: str = "pending",
                    limit: int = 100) -> list[RuleAppeal]:
    """Appeals about compounds the actor oversees, oldest first."""
    _officials_only(actor)
    rows = session.execute(select(RuleAppeal, Community).join(
        RuleChange, RuleChange.id == RuleAppeal.change_id).join(
        Community, Community.id == RuleChange.community_id).where(
        RuleAppeal.status == status).order_by(RuleAppeal.id).limit(limit * 5)).all()
    return [a for a, c in rows if _decidable(actor, c)][:limit]


@dataclass(frozen=True)
class ReviewRow:
    """One open appeal as the officials' page shows it."""

    appeal: RuleAppeal
    change: RuleChange
    community: Community
    name_masked: str  # the appellant, masked: the statement is what matters here
    own: bool  # the actor made the change: another official must decide


def review_rows(*, session: Session, actor: Principal, limit: int = 100) -> list[ReviewRow]:
    """The open appeals over the actor's areas with who filed them (masked) and the change;
    each appellant's access log records that an official read their appeal."""
    appeals = list_for_review(session=session, actor=actor, limit=limit)
    if not appeals:
        return []
    changes = {c.id: c for c in session.scalars(select(RuleChange).where(
        RuleChange.id.in_({a.change_id for a in appeals})))}
    compounds = {c.id: c for c in session.scalars(select(Community).where(
        Community.id.in_({c.community_id for c in changes.values()})))}
    names = {pid: name for pid, name in session.execute(select(
        Person.id, Person.name_masked).where(Person.id.in_({a.person_id for a in appeals})))}
    audit_service.record_reads(session=session, actor=actor, action="community.rules.appeal.view",
                               resource_type="community_rule_change",
                               people=[(a.change_id, a.person_id) for a in appeals])
    rows = []
    for a in appeals:
        change = changes[a.change_id]
        rows.append(ReviewRow(appeal=a, change=change,
                              community=compounds[change.community_id],
                              name_masked=names.get(a.person_id, ""),
                              own=change.changed_by == actor.user_id))
    return rows


def decide(*, session: Session, settings: Settings | None, actor: Principal,
           appeal_id: uuid.UUID, outcome: Outcome, reason: str) -> RuleAppeal:
    """Uphold or reverse a rule appeal; a reversal puts the earlier rules back.

    Race: two officials deciding the same appeal at once: the appeal row is locked and
    re-read, so the second sees it decided (409); the compound row is locked too, so a
    manager saving the rules at that moment is not overwritten unseen.
    """
    reason = coercion.check_decision(outcome, reason)
    _officials_only(actor)
    appeal = locked(session, RuleAppeal, appeal_id)
    change = session.get(RuleChange, appeal.change_id) if appeal is not None else None
    c = session.get(Community, change.community_id) if change is not None else None
    if appeal is None or change is None or c is None or not _decidable(actor, c):
        raise NotFound("No such appeal.")
    if change.changed_by == actor.user_id:
        raise Forbidden("You made this change: another official must decide the appeal.")
    if appeal.status != "pending":
        raise Conflict("This appeal was already decided.")
    if outcome == "reversed":
        session.refresh(c, with_for_update=True)
        current = {f: getattr(c, f) for f in change.after}
        if current != change.after:
            raise Conflict("The rules were changed again since: change them on the rules "
                           "page instead.")
        for f, value in change.before.items():
            setattr(c, f, value)
        audit_service.record(session=session, actor=actor, action="community.rules",
                             resource_type="community", resource_id=c.code, reason=reason,
                             detail={"before": change.after, "after": change.before,
                                     "appeal": str(appeal.id)})
    coercion.settle(session=session, actor=actor, appeal=appeal, outcome=outcome,
                    reason=reason, about=_about(change.id),
                    detail={"appeal": str(appeal.id), "community": c.code})
    text = (N_("Your appeal was decided: the stricter outing rules stand. %(reason)s")
            if outcome == "upheld" else
            N_("Your appeal succeeded: the earlier outing rules are back. %(reason)s"))
    coercion.tell_person(session=session, settings=settings, person_id=appeal.person_id,
                         kind="community_rules", text=text, params={"reason": reason},
                         key=f"rule-appeal:{appeal.id}",
                         link=f"/community/rule-changes/{change.id}")
    return appeal
