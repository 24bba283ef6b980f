"""The clerk's issue over HTTP on committed data, both databases: on PostgreSQL the lean
endpoint's two statements (supplies/issue_fast.py), on SQLite the reference route it
hands everything else to. Same answers, same stock, same ledger, same audit entry."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from passtrace.audit import verify as audit_verify
from passtrace.audit.models import AuditEntry
from passtrace.core.runtime import Runtime
from passtrace.registrations import fastpath
from passtrace.supplies import issue_fast
from passtrace.supplies.models import LedgerEntry, StockBalance
from tests.concurrency import committed_persona, is_postgres
from tests.supplies.helpers import depot, item, stock


@dataclass
class Shelf:
    client: TestClient
    rt: Runtime
    depot_id: uuid.UUID
    item_id: uuid.UUID
    early: uuid.UUID  # lot expiring first: 3 units
    late: uuid.UUID  # 10 units
    clerk: dict[str, str]
    outsider: dict[str, str]  # an officer of another district

    def issue(self, body: dict[str, Any], headers: dict[str, str] | None = None,
              depot: str | None = None) -> Any:
        return self.client.post(f"/api/v1/supplies/depots/{depot or self.depot_id}/issues",
                                json=body, headers=self.clerk if headers is None else headers)

    def state(self) -> tuple[dict[uuid.UUID, int], int, int]:
        """Balances by lot, the depot's issue rows, its audited issues."""
        with self.rt.sessions() as s:
            balances = dict(s.execute(select(StockBalance.lot_id, StockBalance.quantity)
                                      .where(StockBalance.depot_id == self.depot_id)).all())
            rows = s.scalar(select(func.count()).select_from(LedgerEntry).where(
                LedgerEntry.depot_id == self.depot_id, LedgerEntry.kind == "issue"))
            audited = s.scalar(select(func.count()).select_from(AuditEntry).where(
                AuditEntry.action == "supplies.issue",
                AuditEntry.resource_id == str(self.depot_id)))
        return balances, int(rows or 0), int(audited or 0)


def everyday_is_lean(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    """On PostgreSQL (deployed as in production) an everyday issue never takes the
    reference route."""
    if not is_postgres(rt):
        return
    assert fastpath.for_runtime(rt) is not None

    async def no_reference(*args: Any) -> None:
        raise AssertionError("an everyday issue went the reference way")

    monkeypatch.setattr(issue_fast.LeanIssue, "_reference", no_reference)


@pytest.fixture
def shelf(committed_rt: Runtime, committed_client: TestClient) -> Shelf:
    rt = committed_rt
    with rt.sessions() as s:
        d, i = depot(s), item(s)
        stock(s, d, i, "LATE", date(2027, 6, 1), 10)
        stock(s, d, i, "EARLY", date(2027, 1, 1), 3)
        s.commit()
        lots = dict(s.execute(select(StockBalance.quantity, StockBalance.lot_id)
                              .where(StockBalance.depot_id == d.id)).all())
        depot_id, item_id = d.id, i.id
    clerk = committed_persona(rt, committed_client, "supplies_officer", "area", "520102")
    outsider = committed_persona(rt, committed_client, "supplies_officer", "area", "520103")
    return Shelf(committed_client, rt, depot_id, item_id, lots[3], lots[10], clerk.headers,
                 outsider.headers)


def test_an_issue_takes_the_earliest_expiring_lot_first_and_is_audited(shelf, monkeypatch):
    everyday_is_lean(shelf.rt, monkeypatch)
    resp = shelf.issue({"item_id": str(shelf.item_id), "quantity": 5, "consumer": "北站卡口"})
    assert resp.status_code == 201, resp.text
    out = resp.json()
    assert [(m["lot_id"], m["kind"], m["quantity"]) for m in out] == [
        (str(shelf.early), "issue", -3), (str(shelf.late), "issue", -2)]
    balances, rows, audited = shelf.state()
    assert balances == {shelf.early: 0, shelf.late: 8} and rows == 2 and audited == 1
    with shelf.rt.sessions() as s:
        entries = s.scalars(select(LedgerEntry).where(
            LedgerEntry.id.in_([uuid.UUID(m["id"]) for m in out]))).all()
        assert {e.counterparty for e in entries} == {"北站卡口"}
        assert all(e.actor_id is not None for e in entries)
        entry = s.scalars(select(AuditEntry).where(
            AuditEntry.resource_id == str(shelf.depot_id),
            AuditEntry.action == "supplies.issue")).one()
        assert entry.detail == {"item": str(shelf.item_id), "quantity": 5} and entry.lane > 0
        assert audit_verify.verify(session=s).broken is None


def test_refused_issues_answer_translated_and_change_nothing(shelf):
    before = shelf.state()
    body = {"item_id": str(shelf.item_id), "quantity": 14, "consumer": "医院"}
    resp = shelf.issue(body)
    assert resp.status_code == 409 and "库存" in resp.text, resp.text
    resp = shelf.issue(body, headers={**shelf.clerk, "Accept-Language": "en"})
    assert resp.status_code == 409 and "13 left at this depot" in resp.text, resp.text
    assert shelf.issue(body, depot=str(uuid.uuid4())).status_code == 404
    assert shelf.issue(body, headers=shelf.outsider).status_code == 404  # another area
    assert shelf.issue(body, headers={}).status_code == 401
    unknown = shelf.issue({**body, "item_id": str(uuid.uuid4()), "quantity": 1})
    assert unknown.status_code == 404 and "物资" in unknown.text, unknown.text
    resp = shelf.issue({**body, "quantity": 0})
    assert resp.status_code == 422 and "quantity" in resp.text
    assert shelf.issue(body, depot="not-a-depot").status_code == 422
    assert shelf.state() == before


def test_a_named_lot_and_an_issue_over_many_lots_are_served_by_the_reference_route(
        committed_rt, committed_client, monkeypatch):
    """The lean endpoint hands over what it does not do itself; the answer is the same."""
    rt = committed_rt
    with rt.sessions() as s:
        d, i = depot(s), item(s)
        for n in range(3):
            stock(s, d, i, f"L{n}", date(2027, 1 + n, 1), 1)
        s.commit()
        first = s.scalar(select(StockBalance.lot_id).where(StockBalance.depot_id == d.id,
                                                           StockBalance.quantity == 1)
                         .limit(1))
    clerk = committed_persona(rt, committed_client, "supplies_officer", "area", "520102")
    monkeypatch.setattr(issue_fast, "MAX_LOTS", 2)
    url = f"/api/v1/supplies/depots/{d.id}/issues"
    resp = committed_client.post(url, headers=clerk.headers, json={
        "item_id": str(i.id), "quantity": 1, "consumer": "社区", "lot_id": str(first)})
    assert resp.status_code == 201 and resp.json()[0]["lot_id"] == str(first), resp.text
    resp = committed_client.post(url, headers=clerk.headers, json={
        "item_id": str(i.id), "quantity": 2, "consumer": "社区"})
    assert resp.status_code == 201 and [m["quantity"] for m in resp.json()] == [-1, -1]
    with rt.sessions() as s:
        assert s.scalar(select(func.sum(StockBalance.quantity))
                        .where(StockBalance.depot_id == d.id)) == 0


def test_eight_clerks_issuing_the_last_five_units_at_once_hand_them_out_once(
        shelf, monkeypatch):
    """The race of ledger.py, through the lean endpoint: the lots are locked FOR UPDATE
    in its one WITH statement, so a waiting issue sees what the one before it left."""
    everyday_is_lean(shelf.rt, monkeypatch)
    shelf.issue({"item_id": str(shelf.item_id), "quantity": 8, "consumer": "医院"})
    barrier = threading.Barrier(8)
    statuses: list[int] = []
    refusals: list[str] = []

    def clerk() -> None:
        barrier.wait(timeout=30)
        resp = shelf.issue({"item_id": str(shelf.item_id), "quantity": 1, "consumer": "卡口"})
        statuses.append(resp.status_code)
        if resp.status_code == 409:
            refusals.append(resp.json()["error"]["code"])

    threads = [threading.Thread(target=clerk) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    # SQLite refuses a second writer as busy (503, retry) rather than waiting.
    losers = {409} if is_postgres(shelf.rt) else {409, 503}
    assert statuses.count(201) == 5 and set(statuses) - {201} <= losers, statuses
    # Told there is not enough stock; not a conflict from the balance's CHECK, which an
    # issue that read the balance before another's commit would run into.
    assert set(refusals) <= {"insufficient_stock"}, refusals
    balances, rows, audited = shelf.state()
    assert sum(balances.values()) == 0 and rows == 2 + 5 and audited == 1 + 5
