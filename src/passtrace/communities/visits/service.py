"""Visitors: a resident invites, the compound decides, the visitor gets a one-time pass.

The visitor pass is an ordinary signed Pass (purpose "visitor") whose only area is
the compound's code and whose window is the local visit day; the gate
(communities.outings.gate) lets it in once and out once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from passtrace.audit import service as audit_service
from passtrace.communities.compounds import authz
from passtrace.communities.compounds import service as community_service
from passtrace.communities.compounds.models import Building, Community, Household, Resident
from passtrace.communities.compounds.service import lock_household, managers_of
from passtrace.communities.visits.models import Visit
from passtrace.communities.visits.schemas import VisitCreate, VisitRead
from passtrace.core.areacodes import significant_prefix
from passtrace.core.clock import local_day_bounds, local_today, utcnow
from passtrace.core.errors import Conflict, Forbidden, InvalidState, NotFound, ValidationFailed
from passtrace.core.i18n import N_, gettext
from passtrace.core.ids import uuid7
from passtrace.core.pii import PiiVault, mask_phone
from passtrace.core.runtime import Runtime
from passtrace.core.security import Principal
from passtrace.core.validators import check_day, validate_phone
from passtrace.notices.service import InAppNotifier, Message, Notifier
from passtrace.passes import service as pass_service
from passtrace.passes.models import Pass
from passtrace.people import claims
from passtrace.people import service as people_service
from passtrace.people.models import Person, PersonClaim

MAX_DAYS_AHEAD = 14
LIVE_STATUSES = ("pending", "approved")
STAGES = ("pending", "approved", "inside", "left", "rejected", "cancelled", "expired")
STAGE_LABELS = {
    "pending": N_("Waiting for approval"),
    "approved": N_("Approved"),
    "inside": N_("Inside"),
    "left": N_("Left"),
    "rejected": N_("Rejected"),
    "cancelled": N_("Cancelled"),
    "expired": N_("Expired"),
}
NOT_RESIDENT = N_("Only residents can invite visitors: ask your community manager to "
                  "register you in your household.")
PENDING_NOTICE = N_("%(household)s of %(community)s invited %(visitor)s for %(date)s: "
                    "please approve or reject.")
APPROVED_NOTICE = N_("Your visitor %(visitor)s for %(date)s was approved: open the visit to "
                     "send them the QR code.")
REJECTED_NOTICE = N_("Your visitor %(visitor)s for %(date)s was not approved: %(reason)s")


# --- time and text ---------------------------------------------------------------------------

def day_bounds(day: date) -> tuple[datetime, datetime]:
    """Local midnight at the start of the day and the next one, in UTC."""
    try:
        check_day(day)  # the bounds of every date input
    except ValueError:
        msg = N_("Enter a date.")
        raise ValidationFailed(msg, fields={"day": msg}) from None
    return local_day_bounds(day)


FIELD_LABELS = {"purpose": N_("purpose"), "reason": N_("reason"), "company": N_("company"),
                "note": N_("note")}


def clean_text(raw: str, field: str, low: int, high: int) -> str:
    """Trim and collapse spaces; refuse control characters and a wrong length, naming the field."""
    text = " ".join(str(raw).split())
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in text) or not low <= len(text) <= high:
        msg = N_("Please fill in %(field)s (%(low)s-%(high)s characters).")
        label = gettext(FIELD_LABELS[field])
        raise ValidationFailed(msg, field=label, low=low, high=high,
                               fields={field: msg})
    return text


def household_key(building: str, unit: str, room: str) -> str:
    """The flat as a notice parameter (language-neutral: 1-2-301)."""
    return f"{building}-{unit}-{room}"


# --- reading ---------------------------------------------------------------------------------

def stage_of(v: Visit, today: date) -> str:
    """Where the visit stands: the decision, then what happened at the gate."""
    if v.status == "approved":
        if v.exited_at is not None:
            return "left"
        if v.entered_at is not None:
            return "inside"
        return "expired" if v.visit_date < today else "approved"
    if v.status == "pending" and v.visit_date < today:
        return "expired"
    return v.status


@dataclass
class VisitView:
    """A visit with what its pages show: the visitor (masked), the flat, the compound.

    `invited_as`: the visitor's name as the invitation gave it (the household's claim,
    masked). A resident typing an ID number must never read back the name the registry
    holds for it, so visits show what they were told, not who the number belongs to.
    """

    visit: Visit
    visitor: Person
    household: str
    community: Community
    invited_as: str


Joined = Select[Visit, Person, Building, Household, Community, str | None]


def _joined() -> Joined:
    return (select(Visit, Person, Building, Household, Community, PersonClaim.name_masked)
            .join(Person, Person.id == Visit.visitor_person_id)
            .join(Household, Household.id == Visit.household_id)
            .join(Building, Building.id == Household.building_id)
            .join(Community, Community.id == Visit.community_id)
            .outerjoin(PersonClaim, and_(PersonClaim.person_id == Visit.visitor_person_id,
                                         PersonClaim.source_kind == "visit",
                                         PersonClaim.source_id == Visit.household_id)))


def _views(session: Session, stmt: Joined) -> list[VisitView]:
    # A visit written without its claim (seeded demo rows) falls back to the record's mask.
    return [VisitView(visit=v, visitor=p, community=c, invited_as=claimed or p.name_masked,
                      household=community_service.household_label(b.name, h.unit, h.room))
            for v, p, b, h, c, claimed in session.execute(stmt)]


def invited_as(session: Session, v: Visit, visitor: Person) -> str:
    """The visitor's masked name as the invitation gave it (see VisitView)."""
    claim = claims.get(session=session, person_id=visitor.id, source_kind="visit",
                       source_id=v.household_id)
    return claim.name_masked if claim is not None else visitor.name_masked


def view_of(session: Session, v: Visit) -> VisitView:
    """One visit with its visitor, flat and compound."""
    return _views(session, _joined().where(Visit.id == v.id))[0]


def to_read(view: VisitView, *, token: str | None = None,
            today: date | None = None) -> VisitRead:
    """A visit as the API and pages show it (the visitor masked)."""
    v, p = view.visit, view.visitor
    stage = stage_of(v, today or local_today())
    return VisitRead(
        id=v.id, community=view.community.code, community_name=view.community.name,
        household=view.household, visitor=view.invited_as, id_last4=p.id_last4,
        phone=v.visitor_phone_masked or p.phone_masked, purpose=v.purpose, visit_date=v.visit_date,
        status=v.status,  # type: ignore[arg-type]
        stage=stage,  # type: ignore[arg-type]
        stage_label=gettext(STAGE_LABELS[stage]), decision_reason=v.decision_reason,
        decided_at=v.decided_at, created_at=v.created_at, pass_id=v.pass_id,
        entered_at=v.entered_at, exited_at=v.exited_at,
        inside=v.entered_at is not None and v.exited_at is None, token=token)


def get_for_inviter(*, session: Session, actor: Principal, visit_id: uuid.UUID,
                    for_update: bool = False) -> Visit:
    """A visit the actor invited; anyone else's is "not found"."""
    v = session.get(Visit, visit_id, with_for_update=for_update or None,
                    populate_existing=for_update)
    if v is None or v.invited_by_user_id != actor.user_id:
        raise NotFound("No such visit.")
    return v


def get_visible(*, session: Session, actor: Principal, visit_id: uuid.UUID) -> Visit:
    """A visit the actor invited, or one of a compound the actor runs or oversees.

    Anyone but the inviter reading it is audited (it shows the visitor's masked data).
    """
    v = session.get(Visit, visit_id)
    if v is not None and v.invited_by_user_id != actor.user_id:
        c = session.get(Community, v.community_id)
        if c is None or not authz.can_view(actor, c):
            raise NotFound("No such visit.")
        audit_service.record(session=session, actor=actor, action="visit.view",
                             resource_type="visit", resource_id=v.id,
                             subject_person_id=v.visitor_person_id, detail={"via": "detail"})
    if v is None:
        raise NotFound("No such visit.")
    return v


def list_mine(*, session: Session, actor: Principal, limit: int = 100) -> list[VisitView]:
    """The visits the actor invited: upcoming first, then the most recent."""
    rows = _views(session, _joined().where(Visit.invited_by_user_id == actor.user_id)
                  .order_by(Visit.created_at.desc()).limit(limit))
    today = local_today()
    # Today's and future visits on top (soonest first), then past ones (latest first).
    upcoming = sorted((r for r in rows if r.visit.visit_date >= today),
                      key=lambda r: (r.visit.visit_date, r.visit.created_at))
    return upcoming + [r for r in rows if r.visit.visit_date < today]


def list_for_community(*, session: Session, actor: Principal, code: str,
                       stage: str | None = None, day: date | None = None,
                       limit: int = 500) -> tuple[Community, list[VisitView]]:
    """A compound's visits: one day's, or by default today's plus every pending one ahead.

    Reading them shows visitors' (masked) data, so each visitor shown is audited.
    """
    c = community_service.get_visible(session=session, actor=actor, code=code)
    today = local_today()
    stmt = _joined().where(Visit.community_id == c.id)
    if day is not None:
        stmt = stmt.where(Visit.visit_date == day)
    else:
        stmt = stmt.where(or_(Visit.visit_date == today,
                              and_(Visit.status == "pending", Visit.visit_date > today)))
    if stage == "pending":
        stmt = stmt.where(Visit.status == "pending", Visit.visit_date >= today)
    elif stage in ("rejected", "cancelled"):
        stmt = stmt.where(Visit.status == stage)
    elif stage == "approved":
        stmt = stmt.where(Visit.status == "approved", Visit.entered_at.is_(None),
                          Visit.visit_date >= today)
    elif stage == "inside":
        stmt = stmt.where(Visit.status == "approved", Visit.entered_at.is_not(None),
                          Visit.exited_at.is_(None))
    elif stage == "left":
        stmt = stmt.where(Visit.exited_at.is_not(None))
    elif stage == "expired":
        stmt = stmt.where(Visit.status.in_(LIVE_STATUSES), Visit.entered_at.is_(None),
                          Visit.visit_date < today)
    rows = _views(session, stmt.order_by(Visit.visit_date, Visit.created_at).limit(limit))
    audit_service.record_many(session=session, actor=actor, entries=[
        {"action": "visit.view", "resource_type": "visit", "resource_id": r.visit.id,
         "subject_person_id": r.visitor.id, "detail": {"via": "community_list"}}
        for r in rows])
    return c, rows


# --- the overview page (outings/pages.py) -----------------------------------------------

@dataclass
class VisitorsToday:
    """Visitors expected on a date: invited (not refused), waiting for approval, inside."""

    expected: int
    pending: int
    inside: int


def visitors_on(*, session: Session, c: Community, day: date) -> VisitorsToday:
    """Count the compound's visitors for one date."""
    rows = session.execute(
        select(Visit.status, Visit.entered_at.is_not(None), Visit.exited_at.is_not(None),
               func.count())
        .where(Visit.community_id == c.id, Visit.visit_date == day,
               Visit.status.in_(("pending", "approved")))
        .group_by(Visit.status, Visit.entered_at.is_not(None), Visit.exited_at.is_not(None)))
    expected = pending = inside = 0
    for status, entered, exited, n in rows:
        expected += n
        if status == "pending":
            pending += n
        if entered and not exited:
            inside += n
    return VisitorsToday(expected=expected, pending=pending, inside=inside)


# --- inviting --------------------------------------------------------------------------------

def residence_for(*, session: Session, actor: Principal, code: str | None
                  ) -> tuple[Resident, Household, Building, Community]:
    """The household the actor invites to: their only one, or the one in compound `code`."""
    rows = (community_service.residences_of(session=session, person_id=actor.person_id)
            if actor.person_id is not None else [])
    if not rows:
        raise ValidationFailed(NOT_RESIDENT)
    if code:
        rows = [r for r in rows if r[3].code == code]
        if not rows:
            # The compound as a parameter of its own: `code=` would be the error code.
            msg = N_("You do not live in community %(community)s.")
            raise ValidationFailed(msg, community=code, fields={"community": msg})
    elif len(rows) > 1:
        msg = N_("You live in several communities: choose the one the visitor comes to.")
        raise ValidationFailed(msg, fields={"community": msg})
    return rows[0]


def _check_date(day: date, today: date) -> None:
    if day < today or day > today + timedelta(days=MAX_DAYS_AHEAD):
        msg = N_("Choose a day from today to %(days)s days ahead.")
        raise ValidationFailed(msg, days=MAX_DAYS_AHEAD,
                               fields={"visit_date": msg})


def invite(*, session: Session, rt: Runtime, actor: Principal, data: VisitCreate,
           notifier: Notifier | None = None) -> tuple[Visit, bool]:
    """Invite a visitor to the actor's household; True if new (a retry returns the first).

    With the compound's "auto" policy the visit is approved and its pass issued at once;
    with "manual" it waits and each manager is told.
    """
    if data.id is not None:
        earlier = session.get(Visit, data.id)
        if earlier is not None:
            if earlier.invited_by_user_id != actor.user_id:
                raise Conflict("This invitation id is already used.")
            return earlier, False
    _, h, b, c = residence_for(session=session, actor=actor, code=data.community)
    _check_date(data.visit_date, local_today())
    purpose = clean_text(data.purpose, "purpose", 2, 200)
    visitor = people_service.register(session=session, vault=rt.vault, actor=actor,
                                      id_number=data.id_number, name=data.name,
                                      phone=data.phone, source=("visit", h.id))
    phone = validate_phone(data.phone)  # register() checked it; a known visitor keeps theirs
    lives_here = session.scalar(select(Resident.id).where(Resident.community_id == c.id,
                                                          Resident.person_id == visitor.id))
    if lives_here is not None:
        msg = N_("This person lives in this community and needs no visitor pass.")
        raise ValidationFailed(msg, fields={"id_number": msg})
    # A double tap (or a retry after a lost answer) sends the same invitation twice at
    # once: lock the household row so the second request sees the first one's visit.
    lock_household(session, h.id)
    same = session.scalar(select(Visit).where(
        Visit.household_id == h.id, Visit.visitor_person_id == visitor.id,
        Visit.visit_date == data.visit_date, Visit.status.in_(LIVE_STATUSES)))
    if same is not None:
        if same.invited_by_user_id != actor.user_id:
            raise Conflict("Someone in your household already invited this visitor for that "
                           "day.")
        return same, False
    visit_id = data.id or uuid7()
    v = Visit(id=visit_id, community_id=c.id, household_id=h.id,
              invited_by_user_id=actor.user_id, visitor_person_id=visitor.id,
              visitor_phone_enc=rt.vault.encrypt(phone, ad=Visit.pii_ad_for(
                  "visitor_phone_enc", {"id": visit_id})),
              visitor_phone_masked=mask_phone(phone),
              purpose=purpose, visit_date=data.visit_date, status="pending")
    session.add(v)
    session.flush()
    audit_service.record(session=session, actor=actor, action="visit.create",
                         resource_type="visit", resource_id=v.id,
                         subject_person_id=visitor.id,
                         detail={"community": c.code, "household": str(h.id),
                                 "visit_date": v.visit_date.isoformat(),
                                 "policy": c.visitor_approval})
    notifier = notifier or InAppNotifier(session)
    if c.visitor_approval == "auto":
        # The compound lets residents' visitors in without review: the system decides.
        _approve(session, rt, None, c, v, visitor, reason=None)
    else:
        params = {"household": household_key(b.name, h.unit, h.room), "community": c.name,
                  "visitor": invited_as(session, v, visitor),
                  "date": v.visit_date.isoformat()}
        for user_id in managers_of(session, c):
            notifier.send(Message(user_id=user_id, kind="visit.pending", text=PENDING_NOTICE,
                                  params=params, dedupe_key=f"visit.pending:{v.id}:{user_id}",
                                  link=f"/communities/{c.code}/visits?stage=pending"))
    return v, True


# --- deciding --------------------------------------------------------------------------------

def _pending(session: Session, actor: Principal, code: str, visit_id: uuid.UUID
             ) -> tuple[Community, Visit]:
    c = community_service.get_visible(session=session, actor=actor, code=code)
    # Two managers deciding the same visit at once: lock its row so the second waits
    # for the first and then sees it decided.
    v = session.get(Visit, visit_id, with_for_update=True, populate_existing=True)
    if v is None or v.community_id != c.id:
        raise NotFound("No such visit.")
    if not authz.can_review_visits(actor, c):
        raise Forbidden("Your role does not allow this.")
    if v.invited_by_user_id == actor.user_id:
        raise Forbidden("You cannot decide on a visit you invited yourself.")
    if v.status != "pending":
        raise InvalidState("This visit was already decided (%(status)s).",
                           status=gettext(STAGE_LABELS[v.status]))
    return c, v


def issue_visitor_pass(session: Session, rt: Runtime, c: Community, v: Visit, visitor: Person,
                       decided_by: uuid.UUID | None) -> Pass:
    """Sign the one-time visitor pass: the compound's gates only, the visit day only."""
    start, end = day_bounds(v.visit_date)
    now = utcnow()
    p = Pass(id=uuid7(), person_id=visitor.id, applicant_user_id=v.invited_by_user_id,
             purpose="visitor", reason=v.purpose, valid_from=start, valid_until=end,
             areas=[c.code], sites=[], plate=None, companions=0,
             area_prefix=significant_prefix(c.code), status="approved",
             decided_by=decided_by, decided_at=now)
    p.person = visitor
    pass_service.sign(session=session, rt=rt, p=p)
    session.add(p)
    session.flush()
    return p


def _approve(session: Session, rt: Runtime, actor: Principal | None, c: Community, v: Visit,
             visitor: Person, reason: str | None) -> None:
    p = issue_visitor_pass(session, rt, c, v, visitor, actor.user_id if actor else None)
    v.status, v.decided_at, v.pass_id = "approved", utcnow(), p.id
    v.decided_by = actor.user_id if actor else None
    v.decision_reason = reason or None
    session.flush()
    policy = "manual" if actor else "auto"
    audit_service.record_many(session=session, actor=actor, entries=[
        {"action": "visit.approve", "resource_type": "visit", "resource_id": v.id,
         "subject_person_id": visitor.id, "reason": reason or None,
         "detail": {"community": c.code, "policy": policy}},
        {"action": "pass.issue", "resource_type": "pass", "resource_id": p.id,
         "subject_person_id": visitor.id,
         "detail": {"purpose": "visitor", "community": c.code, "visit": str(v.id)}}])


def _tell_inviter(session: Session, notifier: Notifier | None, c: Community, v: Visit,
                  visitor: Person, text: str, reason: str = "") -> None:
    (notifier or InAppNotifier(session)).send(Message(
        user_id=v.invited_by_user_id, kind=f"visit.{v.status}", text=text,
        params={"visitor": invited_as(session, v, visitor), "date": v.visit_date.isoformat(),
                "community": c.name, "reason": reason},
        dedupe_key=f"visit.decided:{v.id}", link=f"/community/visits/{v.id}"))


def approve(*, session: Session, rt: Runtime, actor: Principal, code: str,
            visit_id: uuid.UUID, reason: str = "", notifier: Notifier | None = None) -> Visit:
    """Approve a pending visit and issue the visitor's one-time pass."""
    note = " ".join(reason.split())[:500]
    c, v = _pending(session, actor, code, visit_id)
    if v.visit_date < local_today():
        raise InvalidState("The day of this visit is over; reject it instead.")
    visitor = session.get(Person, v.visitor_person_id)
    assert visitor is not None
    _approve(session, rt, actor, c, v, visitor, reason=note)
    _tell_inviter(session, notifier, c, v, visitor, APPROVED_NOTICE)
    return v


def reject(*, session: Session, actor: Principal, code: str, visit_id: uuid.UUID,
           reason: str, notifier: Notifier | None = None) -> Visit:
    """Refuse a pending visit with a reason the resident reads."""
    reason = " ".join(reason.split())
    if len(reason) < 2:
        raise ValidationFailed("Please give a reason.", fields={"reason": "Please give a reason."})
    c, v = _pending(session, actor, code, visit_id)
    v.status, v.decided_by, v.decided_at, v.decision_reason = (
        "rejected", actor.user_id, utcnow(), reason)
    session.flush()
    audit_service.record(session=session, actor=actor, action="visit.reject",
                         resource_type="visit", resource_id=v.id,
                         subject_person_id=v.visitor_person_id, reason=reason,
                         detail={"community": c.code})
    visitor = session.get(Person, v.visitor_person_id)
    assert visitor is not None
    _tell_inviter(session, notifier, c, v, visitor, REJECTED_NOTICE, reason)
    return v


# --- the inviter's side ----------------------------------------------------------------------

def cancel(*, session: Session, actor: Principal, visit_id: uuid.UUID,
           reason: str = "") -> Visit:
    """Call a visit off (its inviter); an issued pass is revoked and listed as such."""
    reason = " ".join(reason.split())[:200]
    v = get_for_inviter(session=session, actor=actor, visit_id=visit_id, for_update=True)
    if v.status not in LIVE_STATUSES:
        raise InvalidState("Only a pending or approved visit can be cancelled.")
    if v.entered_at is not None:
        raise InvalidState("The visitor has already come in; the visit can no longer be "
                           "cancelled.")
    if v.pass_id is not None:
        _revoke_pass(session, actor, v, reason or "visit cancelled")
    v.status = "cancelled"
    session.flush()
    audit_service.record(session=session, actor=actor, action="visit.cancel",
                         resource_type="visit", resource_id=v.id,
                         subject_person_id=v.visitor_person_id, reason=reason or None)
    return v


def _revoke_pass(session: Session, actor: Principal, v: Visit, reason: str) -> None:
    # The inviter withdraws the pass they asked for: revoked on their behalf (the
    # compound issued it), listed in the revocation list like any other.
    p = session.get(Pass, v.pass_id, with_for_update=True, populate_existing=True)
    if p is not None and p.status == "approved":
        pass_service.revoke_authorized(session=session, actor=actor, p=p, reason=reason)


def visitor_pass(*, session: Session, vault: PiiVault, actor: Principal, visit_id: uuid.UUID,
                 via: str) -> tuple[Visit, str]:
    """The visitor's pass text, for its inviter to show or send on (the read is audited)."""
    v = get_for_inviter(session=session, actor=actor, visit_id=visit_id)
    p = session.get(Pass, v.pass_id) if v.pass_id is not None else None
    if (v.status != "approved" or p is None or p.token_enc is None
            or pass_service.effective_status(p) != "approved"):
        raise NotFound("The QR code appears once the visit is approved.")
    if v.exited_at is not None:
        raise NotFound("The visitor has left; the pass cannot be used again.")
    pass_service.record_reads(session=session, actor=actor, passes=[p], via=via)
    return v, pass_service.pass_text(vault=vault, p=p) or ""
