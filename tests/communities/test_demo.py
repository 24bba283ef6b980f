"""The demo compounds: enough of them, gated, lived in, and their passes work at the gate.

The demo is seeded once per backend into its own database (a temp SQLite file, a
fresh PostgreSQL database), committed as `passtrace demo` commits it.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from passtrace import demo
from passtrace.accounts.models import User
from passtrace.app import create_app
from passtrace.communities.compounds import overview
from passtrace.communities.compounds import service as community_service
from passtrace.communities.compounds.models import Community, Household, Outing, Resident
from passtrace.communities.deliveries.models import Delivery
from passtrace.communities.outings import service as outing_service
from passtrace.communities.visits.models import Visit
from passtrace.core import clock, migrate
from passtrace.core.clock import LOCAL_TZ
from passtrace.core.db import session_scope
from passtrace.core.ids import uuid7
from passtrace.core.runtime import Runtime
from passtrace.core.security import Binding, Principal
from passtrace.passes.models import Pass
from passtrace.passes.service import pass_text
from passtrace.people.models import Person
from passtrace.registrations import service as reg_service
from passtrace.registrations.models import Registration
from passtrace.registrations.schemas import RegistrationIn
from passtrace.sites.models import Site
from tests.conftest import PG_ADMIN_URL, drop_stale_databases, skip_or_fail
from tests.conftest import test_settings as fast_settings

HGY1 = "520102006001"
PG_PREFIX = "passtrace_cdemo"


def _database(backend: str) -> tuple[str, Any]:
    if backend == "sqlite":
        tmp = tempfile.mkdtemp(prefix="passtrace-cdemo-")
        return f"sqlite:///{Path(tmp) / 'demo.db'}", lambda: None
    name = f"{PG_PREFIX}_{os.getpid()}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            drop_stale_databases(conn, PG_PREFIX)
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any connection failure means "no server"
        admin.dispose()
        skip_or_fail(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}")

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}", drop


# When each demo database finished seeding (by id of its runtime).
_SEEDED_AT: dict[int, datetime] = {}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def demo_rt(request: pytest.FixtureRequest) -> Iterator[Runtime]:
    """A runtime over a freshly seeded demo database."""
    url, drop = _database(request.param)
    rt = Runtime.build(fast_settings(url))
    try:
        migrate.upgrade(rt.engine)
        for session in session_scope(rt.sessions):
            demo.seed(session=session, rt=rt)
        _SEEDED_AT[id(rt)] = clock.utcnow()
        yield rt
    finally:
        rt.engine.dispose()
        drop()


@pytest.fixture
def as_seeded(demo_rt: Runtime) -> Iterator[datetime]:
    """Hold the clock at the moment the demo finished seeding. The demo's "today" (its
    visits, the visitor's one-day pass) is the day it was seeded on, which a module run
    across midnight in China (16:00 UTC) would otherwise have left behind."""
    at = _SEEDED_AT[id(demo_rt)]
    clock.freeze(at)
    yield at
    clock.freeze(None)


@pytest.fixture
def db(demo_rt: Runtime) -> Iterator[Session]:
    """A session whose changes are rolled back (the demo stays as seeded)."""
    session = demo_rt.sessions()
    yield session
    session.rollback()
    session.close()


def _staff_at(session: Session, site: Site) -> Principal:
    gate = session.scalar(select(User).where(User.username == "gate"))
    assert gate is not None
    return Principal(user_id=gate.id, username="gate", display_name="门岗", person_id=None,
                     bindings=(Binding("checkpoint_staff", "site", site.code),))


def _check(session: Session, rt: Runtime, staff: Principal, site: Site,
           **who: Any) -> Registration:
    now = clock.utcnow()
    checked = reg_service.register(session=session, rt=rt, actor=staff, data=RegistrationIn(
        id=uuid7(), site=site.code, occurred_at=now, sent_at=now, direction="in",
        temperature=36.5, **who))
    return checked.row


def test_it_seeds_at_least_twenty_compounds_each_with_a_gate(db: Session) -> None:
    codes = list(db.scalars(select(Community.code)))
    assert len(codes) >= 20 and HGY1 in codes
    assert all(len(c) == 12 and c.isdigit() for c in codes)
    gated = Counter(db.scalars(select(Site.community_code).where(
        Site.kind == "community_gate", Site.community_code != "")))
    assert set(codes) <= set(gated) and all(1 <= n <= 2 for n in gated.values())
    households = dict(db.execute(select(Household.community_id, func.count())
                                 .group_by(Household.community_id)).all())
    assert len(households) == len(codes) and min(households.values()) >= 20
    roles = Counter(db.scalars(select(Resident.role)))
    assert set(roles) == {"owner", "tenant", "family", "live_in_worker"}
    assert roles["owner"] > roles["tenant"] > roles["live_in_worker"] > 0


def test_huaguoyuan_no1_has_the_strict_rules(db: Session) -> None:
    c = community_service.get_by_code(session=db, code=HGY1)
    assert c is not None and c.name == "花果园第一社区"
    assert (c.max_out_per_household, c.outings_per_window, c.window_days, c.curfew_start,
            c.curfew_end, c.max_out_minutes, c.visitor_approval) == (
        1, 1, 2, "22:00", "06:00", 240, "manual")
    policies = set(db.scalars(select(Community.visitor_approval)))
    unlimited = db.scalar(select(func.count()).select_from(Community).where(
        Community.max_out_per_household.is_(None), Community.outings_per_window.is_(None),
        Community.curfew_start.is_(None)))
    assert policies == {"manual", "auto"} and unlimited


def test_zhang_san_lives_in_huaguoyuan_no1_with_family(db: Session) -> None:
    user = db.scalar(select(User).where(User.username == "resident"))
    assert user is not None and user.person_id is not None
    homes = community_service.residences_of(session=db, person_id=user.person_id)
    assert len(homes) == 1
    resident, household, building, c = homes[0]
    assert c.code == HGY1 and resident.role == "owner"
    assert (building.name, household.unit, household.room) == ("3", "2", "501")
    view = overview.household_view(session=db, c=c, household_id=household.id)
    assert view is not None
    assert len(view.residents) >= 3 and {m.role for m in view.residents} == {"owner", "family"}


def test_every_compound_lets_its_residents_in_by_pass_and_by_id_number(
        db: Session, demo_rt: Runtime) -> None:
    now = datetime.now(UTC)
    for c in db.scalars(select(Community)):
        site = db.scalars(select(Site).where(Site.community_code == c.code)).first()
        assert site is not None
        staff = _staff_at(db, site)
        residents = db.execute(select(Resident, Pass, Person)
                               .join(Pass, Pass.id == Resident.pass_id)
                               .join(Person, Person.id == Resident.person_id)
                               .where(Resident.community_id == c.id)
                               .order_by(Resident.id).limit(2)).all()
        assert len(residents) == 2
        for _resident, p, person in residents:
            assert p.status == "approved" and p.purpose == "household"
            assert p.areas == [c.code] and p.valid_from <= now < p.valid_until
            by_pass = _check(db, demo_rt, staff, site, method="qr",
                             token=pass_text(vault=demo_rt.vault, p=p))
            assert (by_pass.decision, by_pass.reasons) == ("allow", []), c.code
            assert by_pass.pass_id == p.id
            id_number = demo_rt.vault.read(person, "id_enc")
            by_id = _check(db, demo_rt, staff, site, method="id_typed", id_number=id_number)
            assert (by_id.decision, by_id.reasons) == ("allow", []), c.code
            assert by_id.person_hash == person.id_hash


def test_the_gate_community_and_resident_logins_work(demo_rt: Runtime) -> None:
    with TestClient(create_app(runtime=demo_rt)) as client:
        def login(username: str) -> dict[str, str]:
            resp = client.post("/api/v1/auth/token", json={"username": username,
                                                           "password": demo.DEMO_PASSWORD})
            assert resp.status_code == 200, resp.text
            return {"Authorization": f"Bearer {resp.json()['access_token']}"}

        gate, manager, resident = login("gate"), login("community"), login("resident")
        me = client.get("/api/v1/me", headers=gate).json()
        assert me["username"] == "gate"
        out = client.get(f"/api/v1/communities/{HGY1}/out", headers=manager)
        assert out.status_code == 200 and len(out.json()["items"]) >= 3
        assert any(row["overdue"] for row in out.json()["items"])
        other = client.get("/api/v1/communities/520103003001/out", headers=manager)
        assert other.status_code == 404  # the manager sees only their own compound
        homes = client.get("/api/v1/me/households", headers=resident)
        assert homes.status_code == 200 and len(homes.json()["items"]) == 1
        household_id = homes.json()["items"][0]["id"]
        with demo_rt.sessions() as s:
            h = s.get(Household, uuid.UUID(household_id))
            assert h is not None and (h.unit, h.room) == ("2", "501")
    assert "gate" in {row[0] for row in demo.login_table()}


def test_the_compounds_are_lived_in_within_their_rules(db: Session,
                                                       as_seeded: datetime) -> None:
    c = community_service.get_by_code(session=db, code=HGY1)
    assert c is not None
    out = outing_service.who_is_out(session=db, c=c)
    # (Late at night everyone out is overdue: nobody may leave after 22:00.)
    assert len(out) >= 3 and any(o.overdue for o in out)
    open_per_household = Counter(db.scalars(select(Outing.household_id).where(
        Outing.community_id == c.id, Outing.back_at.is_(None))))
    assert max(open_per_household.values()) <= 1  # max one member out per household
    gates = select(Site.id).where(Site.community_code == HGY1).scalar_subquery()
    decisions = Counter(db.scalars(select(Registration.decision)
                                   .where(Registration.site_id.in_(gates))))
    assert decisions["allow"] > 100 and decisions["deny"] > 0
    # Every outing was opened by an allowed "out" at one of the compound's gates.
    bad = db.scalar(select(func.count()).select_from(Outing).join(
        Registration, Registration.id == Outing.out_registration_id).where(
        Outing.community_id == c.id, (Registration.decision != "allow")
        | (Registration.direction != "out") | Registration.site_id.not_in(gates)))
    assert bad == 0
    today = as_seeded.astimezone(LOCAL_TZ).date()
    visits = {v.status: v for v in db.scalars(select(Visit).where(
        Visit.community_id == c.id, Visit.visit_date == today))}
    assert set(visits) == {"pending", "approved"}
    visitor_pass = db.get(Pass, visits["approved"].pass_id)
    assert visitor_pass is not None and visitor_pass.purpose == "visitor"
    assert visitor_pass.areas == [HGY1] and visitor_pass.token_enc
    assert visitor_pass.valid_until - visitor_pass.valid_from == timedelta(days=1)
    waiting = db.scalar(select(func.count()).select_from(Delivery).where(
        Delivery.community_id == c.id, Delivery.collected_at.is_(None)))
    assert waiting and waiting >= 1


def test_the_approved_visitor_gets_in_at_the_gate(db: Session, demo_rt: Runtime,
                                                  as_seeded: datetime) -> None:
    today = as_seeded.astimezone(LOCAL_TZ).date()
    visit = db.scalar(select(Visit).where(Visit.status == "approved",
                                          Visit.visit_date == today))
    assert visit is not None
    p = db.get(Pass, visit.pass_id)
    site = db.scalar(select(Site).where(Site.code == "GATE-HGY1-N"))
    assert p is not None and site is not None
    row = _check(db, demo_rt, _staff_at(db, site), site, method="qr",
                 token=pass_text(vault=demo_rt.vault, p=p))
    assert (row.decision, row.reasons) == ("allow", [])
    assert visit.entered_at is not None


def test_a_demo_resident_links_an_account_with_a_claim_code_from_the_manager(
        demo_rt: Runtime) -> None:
    from passtrace.people.models import PersonClaim

    with demo_rt.sessions() as s:
        c = community_service.get_by_code(session=s, code=HGY1)
        resident, claim = s.execute(
            select(Resident, PersonClaim).join(PersonClaim, (
                PersonClaim.person_id == Resident.person_id)
                & (PersonClaim.source_id == Resident.community_id))
            .outerjoin(User, User.person_id == Resident.person_id)
            .where(Resident.community_id == c.id, User.id.is_(None)).limit(1)).one()
        person = s.get(Person, resident.person_id)
        name = demo_rt.vault.read(claim, "name_enc")
        id_number = demo_rt.vault.read(person, "id_enc")
    with TestClient(create_app(runtime=demo_rt)) as client:
        manager = client.post("/api/v1/auth/token", json={
            "username": "community", "password": demo.DEMO_PASSWORD}).json()["access_token"]
        issued = client.post(f"/api/v1/communities/{HGY1}/residents/{resident.id}/claim-code",
                             headers={"Authorization": f"Bearer {manager}"})
        assert issued.status_code == 201, issued.text
        resp = client.post("/api/v1/accounts/register", json={
            "username": f"demo-{uuid.uuid4().hex[:8]}", "password": "long-enough-1",
            "name": name, "id_number": id_number, "claim_code": issued.json()["code"]})
        assert resp.status_code == 201 and resp.json()["person_id"] == str(person.id), resp.text
