"""A compound's gate on PostgreSQL's fast path (communities/outings/gate_fast.py).

The shared fixtures run each test in one rolled-back transaction, where a fast path
(its own connections) stands aside; here the app runs as deployed, on a fresh
PostgreSQL database with committed data. Each scenario runs on two households in
the same situation, one through the fast path and one through the generic ORM path,
and both must decide, note and store alike.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from passtrace.accounts import service as account_service
from passtrace.app import create_app
from passtrace.audit import verify as chain_verify
from passtrace.communities.compounds import service as community_service
from passtrace.communities.compounds.schemas import ResidentCreate, RulesWrite
from passtrace.communities.outings import gate_fast
from passtrace.core.ids import uuid7
from passtrace.core.runtime import Runtime
from passtrace.demo import demo_id_number
from passtrace.registrations import fast_kinds, fastpath
from passtrace.registrations.schemas import RegistrationIn
from passtrace.registrations.views import _register_in_session
from tests.concurrency import compound_with_gates, own_database
from tests.conftest import PASSWORD

CODE = "520102006001"
GATES = ("GATE-F-N", "GATE-F-S")
HOUSEHOLDS = 14  # of 3 residents each


@dataclass
class Deployed:
    client: TestClient
    rt: Runtime
    admin: Any  # the administrator's principal (sets the rules)
    staff: Any  # the gate staff's principal
    households: list[list[str]]  # ID numbers, by household

    def rules(self, **rules: Any) -> None:
        with Session(self.rt.engine) as session:
            community_service.set_rules(session=session, actor=self.admin, code=CODE,
                                        data=RulesWrite(**rules),
                                        reason_code="directive", reason="区防控办通知")
            session.commit()

    def count(self, sql: str, **params: object) -> int:
        with self.rt.engine.connect() as conn:
            return int(conn.execute(text(sql), params).scalar_one())


@pytest.fixture(scope="module")
def deployed() -> Iterator[Deployed]:
    with own_database("postgresql", "passtrace_gatefast") as rt:
        households: list[list[str]] = []
        with Session(rt.engine, expire_on_commit=False) as session:
            actor = compound_with_gates(session, rt, code=CODE, name="快速小区", gates=GATES)
            for h in range(HOUSEHOLDS):
                members = []
                for m in range(3):
                    id_number = demo_id_number("520102", "19800101", f"{400 + 3 * h + m:03d}")
                    community_service.add_resident(
                        session=session, rt=rt, actor=actor, code=CODE, data=ResidentCreate(
                            building="1", unit="1", room=f"{101 + h}", id_number=id_number,
                            name="住户", role="family"))
                    members.append(id_number)
                households.append(members)
            staff = account_service.create(session=session, rt=rt, actor=None,
                                           username="gatestaff", password=PASSWORD,
                                           display_name="门岗")
            for gate in GATES:
                account_service.grant(session=session, actor=None, user=staff,
                                      role="checkpoint_staff", scope_type="site",
                                      scope_value=gate)
            token, _ = account_service.start_session(session=session, rt=rt, user=staff,
                                                     kind="api", ip="127.0.0.1")
            session.commit()
        with TestClient(create_app(runtime=rt)) as client:
            client.headers["Authorization"] = f"Bearer {token}"
            client.get("/api/v1/checkpoint/reasons")  # resolves (and caches) the principal
            principal = account_service.cached_principal(token=token, ip=None)
            yield Deployed(client, rt, actor, principal, households)


def _body(gate: str, id_number: str, direction: str, **extra: object) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat()
    return {"id": str(uuid7()), "site": gate, "lane": "1", "device_key": "gate-phone",
            "occurred_at": now, "sent_at": now, "direction": direction, "method": "id_typed",
            "id_number": id_number, "temperature": 36.5} | extra


def _fast(d: Deployed, id_number: str, direction: str) -> dict[str, Any]:
    resp = d.client.post("/api/v1/registrations", json=_body(GATES[0], id_number, direction))
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


def _slow(d: Deployed, id_number: str, direction: str) -> dict[str, Any]:
    data = RegistrationIn.model_validate(_body(GATES[0], id_number, direction))
    return _register_in_session(d.rt, d.staff, data).model_dump(mode="json")


def _seen(out: dict[str, Any]) -> tuple[Any, ...]:
    """What the guard sees (the ID number's flat differs between the two households)."""
    return (out["decision"], [r["code"] for r in out["reasons"]], out["direction"],
            [n for n in out["notes"] if "单元" not in n])


def test_gates_take_their_fast_path_when_deployed(deployed, monkeypatch):
    d = deployed
    assert fastpath.for_runtime(d.rt) is not None
    calls = []

    async def spy(*args: Any, **kw: Any) -> Any:
        calls.append(kw["data"].site)
        return await gate_fast.register(*args, **kw)

    async def no_fallback(*args: Any) -> Any:
        raise AssertionError("a resident's check fell back to the ORM path")

    monkeypatch.setitem(fast_kinds._checks, "community_gate", spy)
    monkeypatch.setattr(gate_fast, "_generic", no_fallback)
    d.rules()  # also empties the compound cache: the fast path reads it in a thread
    out = _fast(d, d.households[11][0], "out")
    assert out["decision"] == "allow" and calls == [GATES[0]]
    assert _fast(d, d.households[11][0], "in")["decision"] == "allow"


def test_fast_and_generic_gate_paths_decide_note_and_store_alike(deployed):
    d = deployed
    fast_hh, slow_hh = d.households[0], d.households[1]
    d.rules(max_out_per_household=1, outings_per_window=2, window_days=1,
            max_out_minutes=120)
    steps = [(0, "out"),  # allowed
             (1, "out"),  # refused: the household's one member out is out
             (0, "in"), (1, "out"), (1, "in"),
             (2, "out"),  # refused: two outings today already
             (2, "in"),  # coming back in is always allowed
             (0, "auto")]  # the guard leaves the way to the state: in, so "out" (refused)
    for who, direction in steps:
        f, s = _fast(d, fast_hh[who], direction), _slow(d, slow_hh[who], direction)
        assert _seen(f) == _seen(s), (who, direction, f, s)
        assert any("1栋1单元101" in n for n in f["notes"]), f["notes"]
    for room in ("101", "102"):
        assert d.count("SELECT count(*) FROM outings o JOIN households h ON h.id = "
                       "o.household_id WHERE h.room = :r AND o.back_at IS NULL", r=room) == 0
        assert d.count("SELECT count(*) FROM outings o JOIN households h ON h.id = "
                       "o.household_id WHERE h.room = :r", r=room) == 2
    assert d.count("SELECT count(*) FROM registrations r LEFT JOIN audit_entries a "
                   "ON a.resource_id = r.id::text AND a.action = 'registration.create' "
                   "WHERE a.id IS NULL") == 0
    with Session(d.rt.engine) as s:
        outcome = chain_verify.verify(session=s)
    assert outcome.broken is None, outcome.broken


def _tokens(d: Deployed, room: str) -> list[str]:
    from passtrace.passes.models import Pass

    with d.rt.engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT p.id, p.token_enc FROM residents r JOIN passes p ON p.id = r.pass_id "
            "JOIN households h ON h.id = r.household_id WHERE h.room = :room "
            "ORDER BY r.created_at"), {"room": room}).all()
    # Stored encrypted and bound to the pass row (the holder's page decrypts it so).
    return [d.rt.vault.decrypt(bytes(blob), ad=Pass.pii_ad_for(
        "token_enc", {"id": uuid.UUID(str(pid))})) for pid, blob in rows]


def test_household_pass_qr_codes_decide_alike_on_both_paths(deployed):
    d = deployed
    d.rules(max_out_per_household=1)
    fast_qr, slow_qr = _tokens(d, "113"), _tokens(d, "114")  # households 12 and 13
    assert len(fast_qr) == len(slow_qr) == 3 and all(fast_qr)

    def check(token: str, direction: str, fast: bool) -> dict[str, Any]:
        body = _body(GATES[1], "", direction, method="qr", token=token)
        del body["id_number"]
        if fast:
            resp = d.client.post("/api/v1/registrations", json=body)
            assert resp.status_code == 200, resp.text
            return dict(resp.json())
        return _register_in_session(d.rt, d.staff, RegistrationIn.model_validate(body)
                                    ).model_dump(mode="json")

    for who, direction in ((0, "out"), (1, "out"), (1, "auto"), (0, "auto"), (1, "out"),
                           (1, "in")):
        f, s = check(fast_qr[who], direction, True), check(slow_qr[who], direction, False)
        assert _seen(f) == _seen(s), (who, direction, f, s)
        assert f["pass_id"] is not None and f["holder"] and f["id_last4"]


def test_an_outing_and_a_stay_follow_the_fast_path(deployed):
    d = deployed
    d.rules()
    who = d.households[2][0]
    out = _fast(d, who, "out")
    assert out["decision"] == "allow"
    open_out = ("SELECT count(*) FROM outings WHERE back_at IS NULL "
                "AND out_registration_id = :r")
    assert d.count(open_out, r=out["id"]) == 1
    back = _fast(d, who, "in")
    assert d.count("SELECT count(*) FROM outings WHERE back_registration_id = :r",
                   r=back["id"]) == 1
    assert d.count("SELECT count(*) FROM stays WHERE id = :r AND closed_by = 'cap'",
                   r=back["id"]) == 1  # in, and nothing after it yet


def test_a_retried_gate_check_is_stored_once(deployed):
    d = deployed
    d.rules()
    body = _body(GATES[0], d.households[3][0], "out")
    first = d.client.post("/api/v1/registrations", json=body).json()
    again = d.client.post("/api/v1/registrations", json=body).json()
    assert first["decision"] == "allow" and again["duplicate"] is True
    assert again["id"] == first["id"] and again["decision"] == first["decision"]
    assert d.count("SELECT count(*) FROM outings WHERE out_registration_id = :r",
                   r=first["id"]) == 1
    assert d.count("SELECT count(*) FROM audit_entries WHERE resource_id = :r",
                   r=first["id"]) == 1
    _fast(d, d.households[3][0], "in")


def test_someone_who_does_not_live_here_is_refused(deployed):
    d = deployed
    stranger = demo_id_number("520102", "19700101", "777")
    out = _fast(d, stranger, "in")
    assert out["decision"] == "deny" and "not_resident" in [r["code"] for r in out["reasons"]]


def _go_out(d: Deployed, gate: str, id_number: str, barrier: threading.Barrier,
            outcomes: list[str]) -> None:
    fast = fastpath.for_runtime(d.rt)
    data = RegistrationIn.model_validate(_body(gate, id_number, "out"))

    async def check() -> str:
        barrier.wait()
        checked = await gate_fast.register(fast, rt=d.rt, actor=d.staff, data=data)
        await fast.close()
        return "allow" if checked.row.decision == "allow" else ",".join(checked.row.reasons)

    try:
        outcomes.append(asyncio.run(check()))
    except Exception as exc:  # noqa: BLE001 - the assertion shows it
        outcomes.append(f"error: {exc!r}")


def test_two_fast_gates_cannot_both_take_the_last_outing_slot(deployed):
    """Without the household lock both read "nobody out" and both let a member out."""
    d = deployed
    d.rules(max_out_per_household=1)
    for r in range(4, 11):
        barrier, outcomes = threading.Barrier(2), []
        threads = [threading.Thread(target=_go_out, args=(d, GATES[i], d.households[r][i],
                                                          barrier, outcomes))
                   for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert sorted(outcomes) == ["allow", "household_out_limit"], outcomes
        assert d.count("SELECT count(*) FROM outings o JOIN households h ON h.id = "
                       "o.household_id WHERE h.room = :room AND o.back_at IS NULL",
                       room=f"{101 + r}") == 1
    with Session(d.rt.engine) as s:  # the chain, appended to by concurrent statements
        outcome = chain_verify.verify(session=s)
    assert outcome.broken is None, outcome.broken
