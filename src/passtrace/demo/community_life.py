"""The demo compounds lived in: people, five days at the gates, visitors and parcels.

Gate registrations are decided by rules.decide from the household's state at
that moment, and the outings are the ones gate.record would open and close, so the
compound's rules hold in the data: no household over its quota or its members-out
limit, nobody leaving in curfew.
"""

from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from passtrace.accounts.models import User
from passtrace.codec import PassClaims, SigningKey, encode_pass
from passtrace.communities.compounds.models import Community
from passtrace.communities.deliveries.models import Delivery
from passtrace.communities.visits.models import Visit
from passtrace.core.areacodes import significant_prefix
from passtrace.core.clock import LOCAL_TZ
from passtrace.core.db import Base
from passtrace.core.pii import PiiVault, mask_name, mask_phone
from passtrace.core.runtime import Runtime
from passtrace.core.validators import id_check_char
from passtrace.passes.models import Pass
from passtrace.passes.service import seal_text
from passtrace.people.models import Person
from passtrace.people.service import protected_columns
from passtrace.registrations.models import Registration
from passtrace.rules import outings as outing_rules
from passtrace.rules.decide import (
    Facts,
    GateFacts,
    PassFacts,
    SiteRules,
    decide,
)
from passtrace.sites.models import Site

DAYS = 5  # of gate history, today included
# Birthplaces: mostly Guiyang and Guizhou, some from neighbouring provinces.
BIRTHPLACES = ("520102", "520103", "520111", "520112", "520113", "520115", "520121", "520123",
               "520181", "520302", "520402", "520502", "520602", "522301", "522601", "522701",
               "510104", "500103", "530102", "430102")
PHONE_PREFIXES = ("138", "139", "135", "136", "137", "150", "151", "152", "158", "159", "182",
                  "187", "188", "130", "131", "155", "156", "133", "153", "180", "189", "199")


@dataclass
class Member:
    """One resident as the simulation and the inserts need them."""

    person_id: uuid.UUID
    role: str
    born: int
    id_hash: str
    masked: str
    last4: str
    pass_id: uuid.UUID = field(default_factory=uuid.uuid4)


@dataclass(eq=False)
class Flat:
    """A household and its members."""

    id: uuid.UUID
    members: list[Member]
    outings: list[dict[str, Any]] = field(default_factory=list)


def uuid7_at(moment: datetime, rng: random.Random) -> uuid.UUID:
    """A UUIDv7 for a past moment (a device made it then)."""
    ms = int(moment.timestamp() * 1000)
    value = (ms << 80) | (0x7 << 76) | (rng.getrandbits(12) << 64) | (0b10 << 62)
    return uuid.UUID(int=value | rng.getrandbits(62))


class People:
    """Makes valid, unique ID numbers and the protected person rows for them."""

    def __init__(self, session: Session, vault: PiiVault, rng: random.Random) -> None:
        self.vault, self.rng = vault, rng
        self.rows: list[dict[str, Any]] = []
        self.hashes = set(session.scalars(select(Person.id_hash)))
        # What the compound office typed for each new person (its claim), by person id.
        self.claimed: dict[uuid.UUID, tuple[str, str | None]] = {}

    def new(self, name: str, sex: str, born: int, phone: bool, since: datetime) -> Member:
        """A new person; odd 17th digit for men, even for women (GB 11643)."""
        rng = self.rng
        while True:
            birth = f"{born}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
            seq = f"{rng.randint(0, 99):02d}{rng.choice('13579' if sex == 'M' else '02468')}"
            first17 = rng.choice(BIRTHPLACES) + birth + seq
            id_number = first17 + id_check_char(first17)
            digest = self.vault.lookup_hash(id_number)
            if digest not in self.hashes:
                break
        self.hashes.add(digest)
        number = f"{rng.choice(PHONE_PREFIXES)}{rng.randrange(10**8):08d}" if phone else None
        pid = uuid7_at(since, rng)
        self.rows.append({"id": pid, "status": "green", "created_at": since,
                          **protected_columns(self.vault, id_number, name, number, digest)})
        self.claimed[pid] = (name, number)
        return Member(person_id=pid, role="", born=born, id_hash=digest,
                      masked=mask_name(name), last4=id_number[-4:])


def bulk(session: Session, model: type[Base], rows: list[dict[str, Any]]) -> None:
    """Insert rows in one executemany (Core: rows with and without NULLs share a batch)."""
    if rows:
        session.execute(insert(model.__table__), rows)  # type: ignore[arg-type]


class GateSim:
    """A compound's gates over the last DAYS days, decided by the real decision function."""

    def __init__(self, c: Community, gates: list[Site], staff: uuid.UUID | None,
                 now: datetime, rng: random.Random) -> None:
        self.code, self.cid, self.gates, self.now, self.rng = c.code, c.id, gates, now, rng
        self.staff = staff
        self.rules = outing_rules.rules_of(c)
        self.site_rules = {g.id: SiteRules(code=g.code, area_code=g.area_code,
                                           fever_threshold=float(g.fever_threshold),
                                           community_code=c.code) for g in gates}
        self.outings: list[dict[str, Any]] = []
        self.registrations: list[dict[str, Any]] = []
        today = now.astimezone(LOCAL_TZ).replace(hour=0, minute=0, second=0, microsecond=0)
        self.days = [today - timedelta(days=d) for d in range(DAYS - 1, -1, -1)]
        # Compounds without a tight quota go out more often.
        self.per_day = 0.5 if self.rules.outings_per_window == 1 else 0.8

    def household(self, flat: Flat, keep_home: bool) -> None:
        """Simulate one household's outings day by day; the demo logins' homes stay in."""
        if keep_home:
            return
        adults = [m for m in flat.members if m.born <= 2006]
        if not adults:
            return
        for day in self.days[:-1] if self.rng.random() < 0.08 else self.days:
            t = day + timedelta(hours=6, minutes=self.rng.randint(30, 240))
            for _ in range(max(0, round(self.rng.gauss(self.per_day, 0.7)))):
                t += timedelta(minutes=self.rng.randint(10, 300))
                if t >= self.now - timedelta(minutes=3):
                    return
                if self.used_up(flat, t) and self.rng.random() < 0.9:
                    continue  # residents know their quota; now and then one tries anyway
                m = self.rng.choice(adults)
                back = self.go_out(flat, m, t)
                if back is None:
                    continue
                if back >= self.now:
                    return  # still out
                if self.rng.random() < 0.25 and (not self.used_up(flat, t)
                                                 or self.rng.random() < 0.1):
                    # Someone else goes out meanwhile (or tries to).
                    other = [a for a in adults if a is not m]
                    if other:
                        t2 = t + (back - t) * self.rng.random()
                        back2 = self.go_out(flat, self.rng.choice(other), t2, short=True)
                        if back2 is not None and back2 >= self.now:
                            return
                        back = max(back, back2 or back)
                t = back

    def used_up(self, flat: Flat, t: datetime) -> bool:
        """Tell whether the household has used its outings for the window around t."""
        if self.rules.outings_per_window is None:
            return False
        start = outing_rules.window_start(self.rules, t)
        return sum(1 for o in flat.outings if start <= o["out_at"] <= t) \
            >= self.rules.outings_per_window

    def live_outings(self, flats: list[Flat]) -> None:
        """Make sure a few residents are out now, some of them overdue (if there is a limit)."""
        limit = self.rules.max_out_minutes or 240
        out_now = sum(1 for o in self.outings if o["back_at"] is None)
        # Counted apart from those out: at some hours the day's life has already left
        # enough residents out, none of them overdue yet (at 09:00 under a 22:00-06:00
        # curfew, nobody can have been out for four hours), and the gate's "overdue"
        # list would be empty whatever the hour the demo is started at.
        overdue_now = sum(1 for o in self.outings if o["back_at"] is None
                          and o["out_at"] <= self.now - timedelta(minutes=limit))
        want = max(3, len(flats) // 25)
        want_overdue = want // 2 if self.rules.max_out_minutes is not None else 0
        for flat in self.rng.sample(flats, len(flats)):
            if out_now >= want and overdue_now >= want_overdue:
                return
            last = max((o["back_at"] or self.now for o in flat.outings), default=None)
            overdue = overdue_now < want_overdue
            if not overdue and out_now >= want:
                continue
            ago = limit + self.rng.randint(15, 150) if overdue else self.rng.randint(
                10, max(limit - 20, 20))
            t = self._before_curfew(self.now - timedelta(minutes=ago))
            adults = [m for m in flat.members if m.born <= 2006]
            if (last is not None and last >= t) or not adults:
                continue
            if self.go_out(flat, self.rng.choice(adults), t, stay_out=True) is not None:
                out_now += 1
                overdue_now += overdue

    def _before_curfew(self, t: datetime) -> datetime:
        while outing_rules.in_curfew(self.rules, t):
            t -= timedelta(minutes=20)
        return t

    def go_out(self, flat: Flat, m: Member, t: datetime, short: bool = False,
               stay_out: bool = False) -> datetime | None:
        """Register m going out at t; if allowed, open an outing and register the way back.

        Returns when they came back (None if the gate refused, `now` or later if out).
        """
        start = outing_rules.window_start(self.rules, t)
        if any(o["person_id"] == m.person_id and (o["back_at"] is None or o["back_at"] > t)
               for o in flat.outings):
            return None  # already out
        gate = GateFacts(
            resident=True, curfew=outing_rules.in_curfew(self.rules, t),
            members_out=sum(1 for o in flat.outings if o["person_id"] != m.person_id
                            and o["out_at"] <= t and (o["back_at"] is None or o["back_at"] > t)),
            max_out=self.rules.max_out_per_household,
            outings_used=sum(1 for o in flat.outings if start <= o["out_at"] <= t),
            outings_allowed=self.rules.outings_per_window)
        fever = self.rng.random() < 0.004
        temp = round(self.rng.uniform(37.3, 38.2) if fever else self.rng.gauss(36.5, 0.2), 1)
        reg = self._register(m, t, "out", temp, gate)
        if reg["decision"] != "allow":
            return None
        minutes = self.rng.lognormvariate(math.log(45 if short else 95), 0.5)
        back = self.now if stay_out else t + timedelta(minutes=max(8.0, minutes))
        outing = {"id": uuid7_at(t, self.rng), "community_id": self.cid,
                  "household_id": flat.id, "person_id": m.person_id, "out_at": t,
                  "back_at": None, "out_registration_id": reg["id"],
                  "back_registration_id": None, "overdue_noticed_at": None}
        flat.outings.append(outing)
        self.outings.append(outing)
        if back < self.now:
            came = self._register(m, back, "in", round(self.rng.gauss(36.5, 0.2), 1),
                                  GateFacts(resident=True))
            outing["back_at"], outing["back_registration_id"] = back, came["id"]
        return back

    def _register(self, m: Member, t: datetime, direction: str, temp: float,
                  gate: GateFacts) -> dict[str, Any]:
        site = self.rng.choice(self.gates)
        outcome = decide(Facts(
            site=self.site_rules[site.id], now=t, direction=direction, temperature=temp,
            pass_facts=PassFacts(valid_from=t - timedelta(days=30),
                                 valid_until=t + timedelta(days=150), areas=(self.code,),
                                 sites=()),
            person_known=True, person_status="green", community=gate))
        qr = self.rng.random() < 0.75
        row = {"id": uuid7_at(t, self.rng), "site_id": site.id, "lane": "1",
               "device_key": f"gate-{site.code.lower()}",
               "operator_user_id": self.staff if site.code == "GATE-HGY1-N" else None,
               "occurred_at": t, "received_at": t, "clock_skew_s": 0, "skew_flagged": False,
               "direction": direction, "method": "qr" if qr else "id_typed",
               "person_hash": m.id_hash, "person_masked": m.masked, "id_last4": m.last4,
               "pass_id": m.pass_id, "temperature": temp, "plate": None, "companions": 0,
               "origin": "", "destination": "", "decision": outcome.decision,
               "reasons": outcome.reasons, "decided_by": "server", "override_reason": None,
               "override_by": None}
        self.registrations.append(row)
        return row


def visitors_and_parcels(session: Session, rt: Runtime, key: SigningKey, now: datetime,
                          rng: random.Random, people: People, c: Community, gate: Site,
                          home: Flat, flats: list[Flat], users: dict[str, User]) -> None:
    """Visitors to 张三's flat (pending today, approved today, came yesterday) and parcels,
    at the gate the demo gate staff work at."""
    people.rows.clear()
    inviter, manager = users["resident"].id, users["community"].id
    today = now.astimezone(LOCAL_TZ).replace(hour=0, minute=0, second=0, microsecond=0)
    visits, passes, regs = [], [], []
    for name, sex, born, purpose, day, status in (
            ("刘芳", "F", 1993, "探望父母", today, "pending"),
            ("陈刚", "M", 1981, "上门维修热水器", today, "approved"),
            ("周晓燕", "F", 1989, "送年货", today - timedelta(days=1), "approved")):
        asked = min(day - timedelta(hours=rng.randint(3, 10)), now - timedelta(hours=2))
        v = people.new(name, sex, born, phone=True, since=asked)
        visit: dict[str, Any] = {
            "id": uuid7_at(asked, rng), "community_id": c.id, "household_id": home.id,
            "invited_by_user_id": inviter, "visitor_person_id": v.person_id,
            "purpose": purpose, "visit_date": day.date(), "status": status, "decided_by": None,
            "decided_at": None, "decision_reason": None, "pass_id": None, "entered_at": None,
            "exited_at": None, "created_at": asked}
        if status == "approved":
            decided = asked + timedelta(minutes=rng.randint(5, 60))
            pass_id = uuid7_at(decided, rng)
            until = day + timedelta(days=1)
            claims = PassClaims(pass_id=str(pass_id), holder=v.masked, id_last4=v.last4,
                                purpose="visitor", valid_from=int(day.timestamp()),
                                valid_until=int(until.timestamp()),
                                issued_at=int(decided.timestamp()), areas=(c.code,))
            passes.append({
                "id": pass_id, "person_id": v.person_id, "applicant_user_id": inviter,
                "purpose": "visitor", "reason": purpose, "valid_from": day,
                "valid_until": until, "areas": [c.code], "sites": [], "plate": None,
                "companions": 0, "area_prefix": significant_prefix(c.code),
                "status": "approved", "decided_by": manager, "decided_at": decided,
                "kid": key.kid.hex(),
                "token_enc": seal_text(rt.vault, pass_id, encode_pass(claims, key))})
            visit |= {"decided_by": manager, "decided_at": decided, "pass_id": pass_id}
            if day < today:  # yesterday's visitor came and left
                visit["entered_at"] = day + timedelta(hours=10, minutes=12)
                visit["exited_at"] = day + timedelta(hours=11, minutes=40)
                for direction, at in (("in", visit["entered_at"]), ("out", visit["exited_at"])):
                    regs.append({
                        "id": uuid7_at(at, rng), "site_id": gate.id, "lane": "1",
                        "device_key": f"gate-{gate.code.lower()}",
                        "operator_user_id": users["gate"].id,
                        "occurred_at": at, "received_at": at, "clock_skew_s": 0,
                        "skew_flagged": False, "direction": direction, "method": "qr",
                        "person_hash": v.id_hash, "person_masked": v.masked,
                        "id_last4": v.last4, "pass_id": pass_id, "temperature": 36.4,
                        "decision": "allow", "reasons": [], "decided_by": "server"})
        visits.append(visit)
    bulk(session, Person, people.rows)
    bulk(session, Pass, passes)
    bulk(session, Visit, visits)
    bulk(session, Registration, regs)
    parcels = []
    for flat, ago, company, count, collected in (
            (home, 40, "顺丰速运", 2, False), (rng.choice(flats), 95, "京东物流", 1, False),
            (rng.choice(flats), 200, "中通快递", 3, True)):
        at = now - timedelta(minutes=ago)
        phone = f"{rng.choice(PHONE_PREFIXES)}{rng.randrange(10**8):08d}"
        parcel_id = uuid7_at(at, rng)
        parcels.append({
            "id": parcel_id, "community_id": c.id, "site_id": gate.id,
            "household_id": flat.id, "registered_by": users["gate"].id, "company": company,
            "courier_phone_enc": rt.vault.encrypt(phone, ad=Delivery.pii_ad_for(
                "courier_phone_enc", {"id": parcel_id})), "courier_phone_masked":
            mask_phone(phone), "parcels": count, "temperature": 36.3, "note": "",
            "collected_at": at + timedelta(minutes=50) if collected else None,
            "collected_by": users["gate"].id if collected else None, "created_at": at})
    bulk(session, Delivery, parcels)
