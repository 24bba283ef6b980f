"""Deliveries: a courier hands parcels over at the gate without entering; residents collect."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from passtrace.accounts.models import User
from passtrace.audit import service as audit_service
from passtrace.communities.compounds import authz
from passtrace.communities.compounds import service as community_service
from passtrace.communities.compounds.models import Building, Community, Household, Resident
from passtrace.communities.deliveries.models import Delivery
from passtrace.communities.deliveries.schemas import DeliveryCreate, DeliveryRead
from passtrace.communities.outings.gate import community_of
from passtrace.communities.visits.service import clean_text, day_bounds, household_key
from passtrace.core.clock import local_today, utcnow
from passtrace.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from passtrace.core.i18n import N_
from passtrace.core.ids import uuid7
from passtrace.core.pii import mask_phone
from passtrace.core.runtime import Runtime
from passtrace.core.security import Principal
from passtrace.core.validators import InvalidValue, validate_phone
from passtrace.notices.service import InAppNotifier, Message, Notifier
from passtrace.rules.decide import round_temperature
from passtrace.sites import authz as site_authz
from passtrace.sites import service as site_service
from passtrace.sites.models import Site

DELIVERY_NOTICE = N_("A delivery from %(company)s is waiting for you at %(gate)s "
                     "(parcels: %(parcels)s).")


def can_register_at(actor: Principal, site: Site, c: Community) -> bool:
    """Staff on duty at this gate, or the compound's manager."""
    return (site_authz.is_staff(actor, site, "delivery.register")
            or authz.covers(actor, "delivery.register", c))


def require_registrar(actor: Principal) -> None:
    """403 for anyone who may register deliveries nowhere (a resident): the persona rule,
    checked before any gate or delivery id is looked up, so the answer is the same for
    every one; staff of another gate or compound are told it does not exist (404)."""
    if not actor.has("delivery.register"):
        raise Forbidden("Your role does not allow this.")


def gate_for(*, session: Session, actor: Principal, code: str) -> tuple[Site, Community]:
    """A compound gate where the actor may register deliveries; anything else "not found"
    (a resident: 403, require_registrar)."""
    require_registrar(actor)
    site = site_service.get_by_code(session=session, code=code)
    c = community_of(session, site) if site is not None else None
    if site is None or c is None or not can_register_at(actor, site, c):
        raise NotFound("No such gate.")
    if not site.active:
        raise ValidationFailed("This site is closed.")
    return site, c


def gates_for(*, session: Session, actor: Principal, c: Community) -> list[Site]:
    """The compound's open gates where the actor may register deliveries."""
    return [s for s in community_service.gates(session=session, c=c)
            if s.active and can_register_at(actor, s, c)]


LIST_PERMISSIONS = ("community.view", "delivery.register")


def require_lister(actor: Principal) -> None:
    """403 for anyone who may list no compound's deliveries anywhere (a resident)."""
    if not any(actor.has(p) for p in LIST_PERMISSIONS):
        raise Forbidden("Your role does not allow this.")


def get_listable(*, session: Session, actor: Principal, code: str) -> Community:
    """A compound whose deliveries the actor sees: its managers, officials, its gate staff.

    The persona rule: someone who may list no compound's deliveries at all (a resident)
    is refused (403) before the code is looked up, so the answer is the same for every
    code; staff of another compound or area are told it does not exist (404).
    """
    require_lister(actor)
    c = community_service.get_by_code(session=session, code=code)
    if c is None or not (authz.can_view(actor, c) or gates_for(session=session, actor=actor,
                                                               c=c)):
        raise NotFound("No such community.")
    return c


@dataclass
class DeliveryView:
    """A delivery with its compound, gate and flat."""

    delivery: Delivery
    community: str
    site: str
    household: str


def _joined() -> Select[Delivery, str, str, str, str, str]:
    return (select(Delivery, Community.code, Site.code, Building.name, Household.unit,
                   Household.room)
            .join(Community, Community.id == Delivery.community_id)
            .join(Site, Site.id == Delivery.site_id)
            .join(Household, Household.id == Delivery.household_id)
            .join(Building, Building.id == Household.building_id))


def _views(session: Session, stmt: Select[Delivery, str, str, str, str, str]
           ) -> list[DeliveryView]:
    return [DeliveryView(delivery=d, community=c, site=s,
                         household=community_service.household_label(b, u, r))
            for d, c, s, b, u, r in session.execute(stmt)]


def view_of(session: Session, d: Delivery) -> DeliveryView:
    """One delivery with its compound, gate and flat."""
    return _views(session, _joined().where(Delivery.id == d.id))[0]


def to_read(view: DeliveryView) -> DeliveryRead:
    """A delivery as the API and pages show it (the courier's phone masked)."""
    d = view.delivery
    return DeliveryRead(id=d.id, community=view.community, site=view.site,
                        household=view.household, company=d.company,
                        courier_phone=d.courier_phone_masked, parcels=d.parcels,
                        temperature=d.temperature, note=d.note, created_at=d.created_at,
                        collected_at=d.collected_at, collected=d.collected_at is not None)


def _clean_phone(raw: str | None) -> str | None:
    if not raw or not raw.strip():
        return None
    try:
        return validate_phone(raw)
    except InvalidValue as exc:
        raise ValidationFailed(exc.message, fields={"courier_phone": exc.message}) from None


def register(*, session: Session, rt: Runtime, actor: Principal, data: DeliveryCreate,
             notifier: Notifier | None = None) -> tuple[Delivery, int | None]:
    """Register a hand-over at the gate and tell the flat's residents; returns how many.

    A retried request with the same id returns the first delivery and None (nobody is
    told again).
    """
    require_registrar(actor)  # before the retry's id is looked up
    if data.id is not None:
        earlier = session.get(Delivery, data.id)
        if earlier is not None:
            if earlier.registered_by != actor.user_id:
                raise Conflict("This delivery id is already used.")
            return earlier, None
    site, c = gate_for(session=session, actor=actor, code=data.site)
    try:
        b, h = community_service.find_household(session=session, c=c, building=data.building,
                                                unit=data.unit, room=data.room)
    except ValidationFailed as exc:
        # find_household's field messages are already filled in, and rendering fills them
        # in again: a "%" typed in a building name would break that. Name each field with
        # the message id instead, filled in once.
        raise ValidationFailed(exc.message, **exc.params,
                               fields=dict.fromkeys(exc.fields, exc.message)) from None
    if h is None:
        msg = N_("There is no room %(room)s in building %(building)s, unit %(unit)s.")
        params = {"room": community_service.clean_label(data.room, "room", 16),
                  "building": b.name, "unit": community_service.clean_label(data.unit, "unit", 16)}
        raise ValidationFailed(msg, **params, fields={"room": msg})
    company = clean_text(data.company, "company", 1, 40)
    note = clean_text(data.note, "note", 0, 200)
    phone = _clean_phone(data.courier_phone)
    delivery_id = data.id or uuid7()
    d = Delivery(id=delivery_id, community_id=c.id, site_id=site.id, household_id=h.id,
                 registered_by=actor.user_id, company=company,
                 courier_phone_enc=rt.vault.encrypt(phone, ad=Delivery.pii_ad_for(
                     "courier_phone_enc", {"id": delivery_id})) if phone else None,
                 courier_phone_masked=mask_phone(phone) if phone else None,
                 parcels=data.parcels, note=note,
                 temperature=round_temperature(data.temperature)
                 if data.temperature is not None else None)
    session.add(d)
    session.flush()
    audit_service.record(session=session, actor=actor, action="delivery.create",
                         resource_type="delivery", resource_id=d.id,
                         detail={"community": c.code, "site": site.code,
                                 "household": household_key(b.name, h.unit, h.room),
                                 "company": company, "parcels": d.parcels})
    users = list(session.scalars(
        select(User.id).join(Resident, Resident.person_id == User.person_id)
        .where(Resident.household_id == h.id, User.is_active.is_(True)).distinct()))
    notifier = notifier or InAppNotifier(session)
    for user_id in users:
        notifier.send(Message(user_id=user_id, kind="delivery.arrived", text=DELIVERY_NOTICE,
                              params={"company": company, "gate": site.name,
                                      "parcels": d.parcels},
                              dedupe_key=f"delivery:{d.id}:{user_id}",
                              link="/community/deliveries"))
    return d, len(users)


def _households_of(actor: Principal) -> Select[uuid.UUID]:
    return select(Resident.household_id).where(Resident.person_id == actor.person_id)


def list_mine(*, session: Session, actor: Principal, limit: int = 100) -> list[DeliveryView]:
    """Deliveries to the actor's households: waiting ones first, then the latest collected."""
    if actor.person_id is None:
        return []
    rows = _views(session, _joined().where(Delivery.household_id.in_(_households_of(actor)))
                  .order_by(Delivery.created_at.desc()).limit(limit))
    return ([r for r in rows if r.delivery.collected_at is None]
            + [r for r in rows if r.delivery.collected_at is not None])


def collect(*, session: Session, actor: Principal, delivery_id: uuid.UUID) -> Delivery:
    """Mark a delivery collected by a resident of its flat; collecting twice changes nothing."""
    # Two residents of the flat tapping "collected" at once: the row lock keeps the first.
    d = session.get(Delivery, delivery_id, with_for_update=True, populate_existing=True)
    lives_there = d is not None and actor.person_id is not None and session.scalar(
        select(Resident.id).where(Resident.household_id == d.household_id,
                                  Resident.person_id == actor.person_id)) is not None
    if d is None or not lives_there:
        raise NotFound("No such delivery.")
    if d.collected_at is None:
        d.collected_at, d.collected_by = utcnow(), actor.user_id
        session.flush()
        audit_service.record(session=session, actor=actor, action="delivery.collect",
                             resource_type="delivery", resource_id=d.id)
    return d


def list_for_community(*, session: Session, actor: Principal, code: str,
                       day: date | None = None, limit: int = 1000
                       ) -> tuple[Community, list[DeliveryView]]:
    """One local day's deliveries at a compound's gates (today by default), newest first."""
    c = get_listable(session=session, actor=actor, code=code)
    start, end = day_bounds(day or local_today())
    rows = _views(session, _joined().where(Delivery.community_id == c.id,
                                           Delivery.created_at >= start,
                                           Delivery.created_at < end)
                  .order_by(Delivery.created_at.desc()).limit(limit))
    return c, rows


def record_list_reads(*, session: Session, actor: Principal, rows: list[DeliveryView],
                      via: str) -> None:
    """The day's list names flats: each resident of a flat shown finds the read in their
    access log ("who viewed my data"), one entry per person, in one INSERT."""
    by_household: dict[uuid.UUID, uuid.UUID] = {}
    for r in rows:  # the newest delivery shown for each flat names the read
        by_household.setdefault(r.delivery.household_id, r.delivery.id)
    if not by_household:
        return
    residents = session.execute(select(Resident.household_id, Resident.person_id).where(
        Resident.household_id.in_(list(by_household))))
    audit_service.record_reads(session=session, actor=actor, action="delivery.view",
                               resource_type="delivery",
                               people=[(by_household[h], p) for h, p in residents],
                               detail={"via": via})
