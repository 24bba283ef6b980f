"""The supplies benchmark's hand-written SQL: what the API does, with nothing around it.

The same stock report queries, the same allocation rule (priority first, then in
proportion with the largest remainders, FEFO lots) as a few set-based statements per
warehouse x item, and an issue as one guarded UPDATE plus a ledger INSERT.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import psycopg

from passtrace.core.areacodes import significant_prefix

# The page's depots first (those holding stock, in code order), then their sums.
REPORT = """
SELECT d.code, d.id, d.name, i.name, i.id, s.q
FROM (SELECT id, code, name FROM supply_depots d
      WHERE area_code LIKE '5201%%' AND code >= %(code)s
        AND EXISTS (SELECT 1 FROM supply_balances b WHERE b.depot_id = d.id {item})
      ORDER BY code LIMIT 52) d
CROSS JOIN LATERAL (SELECT item_id, sum(quantity) AS q FROM supply_balances b
                    WHERE b.depot_id = d.id {item} GROUP BY item_id) s
JOIN supply_items i ON i.id = s.item_id
WHERE (d.code, i.name, i.id) > (%(code)s, %(name)s, %(id)s)
ORDER BY d.code, i.name, i.id LIMIT 51"""
DEPOT_LOTS = """
SELECT i.id, i.name, l.id, l.lot_number, l.expires_on, b.quantity
FROM supply_balances b JOIN supply_lots l ON l.id = b.lot_id
JOIN supply_items i ON i.id = b.item_id
WHERE b.depot_id = %s AND b.quantity > 0 AND (l.expires_on, l.id) > (%s, %s)
ORDER BY l.expires_on, l.id LIMIT 201"""
PRIORITIES = ("critical", "high", "normal")


def _ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000


def report(dsn: str, targets: list[tuple[str, dict[str, Any]]]) -> list[float]:
    """Latency of each report query, the same requests as the API's run."""
    lat: list[float] = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        for kind, p in targets:
            if kind == "depot_full":
                after: tuple[Any, ...] = ("0001-01-01", uuid.UUID(int=0))
                while True:
                    t0 = time.perf_counter()
                    rows = conn.execute(DEPOT_LOTS, (p["depot_id"], *after)).fetchall()
                    lat.append(_ms(t0))
                    if len(rows) <= 200:
                        break
                    after = (rows[199][4], rows[199][2])
                continue
            start = {"code": "", "name": "", "id": uuid.UUID(int=0), "item": None}
            if kind == "item":
                start["item"] = p["item_id"]
            if kind == "deep_page":
                start.update(code=p["after_code"], name="\uffff")
            sql = REPORT.format(item="AND b.item_id = %(item)s" if start["item"] else "")
            t0 = time.perf_counter()
            conn.execute(sql, start).fetchall()
            lat.append(_ms(t0))
    return lat


def shares(available: int, needs: list[tuple[Any, str, int]]) -> dict[Any, int]:
    """Priority first; the first short priority in proportion, largest remainders."""
    out: dict[Any, int] = {}
    left = available
    for priority in PRIORITIES:
        group = [(rid, q) for rid, p, q in needs if p == priority]
        total = sum(q for _, q in group)
        if total <= left:
            out.update(group)
            left -= total
            continue
        got = {rid: q * left // total for rid, q in group}
        order = sorted(range(len(group)), key=lambda k: -(group[k][1] * left % total))
        for k in order[:left - sum(got.values())]:
            got[group[k][0]] += 1
        out.update(got)
        left = 0
    return out


def _allocate_one(cur: psycopg.Cursor[Any], warehouse: str, item: str) -> None:
    area = cur.execute("SELECT area_code FROM supply_depots WHERE id = %s FOR UPDATE",
                       (warehouse,)).fetchone()[0]  # type: ignore[index]
    needs = cur.execute(
        "SELECT r.id, r.priority, r.quantity, r.depot_id FROM supply_requests r "
        "JOIN supply_depots d ON d.id = r.depot_id WHERE r.item_id = %s AND r.state = 'open' "
        "AND d.area_code LIKE %s ORDER BY r.created_at, r.id",
        (item, significant_prefix(area) + "%")).fetchall()
    lots = cur.execute(
        "SELECT b.id, b.lot_id, b.quantity FROM supply_balances b "
        "JOIN supply_lots l ON l.id = b.lot_id WHERE b.depot_id = %s AND b.item_id = %s "
        "AND b.quantity > 0 ORDER BY l.expires_on, l.lot_number FOR UPDATE OF b",
        (warehouse, item)).fetchall()
    got = shares(sum(q for *_, q in lots), [(r[0], r[1], r[2]) for r in needs])
    to_depot = {r[0]: r[3] for r in needs}
    stock = [[b, lot, q] for b, lot, q in lots]
    transfers: list[tuple[Any, ...]] = []
    k = 0
    for rid, _, _, _ in needs:
        want = got[rid]
        while want:
            take = min(want, stock[k][2])
            transfers.append((uuid.uuid4(), to_depot[rid], stock[k][1], take))
            stock[k][2] -= take
            want -= take
            if stock[k][2] == 0:
                k += 1
    cur.execute(
        "UPDATE supply_requests r SET state = CASE WHEN v.q = r.quantity THEN 'approved' "
        "ELSE 'partly_approved' END, approved_quantity = v.q, decided_at = now(), "
        "decision_reason = 'shared' FROM unnest(%s::uuid[], %s::int[]) v(id, q) "
        "WHERE r.id = v.id", ([r for r, q in got.items() if q], [q for q in got.values() if q]))
    cols = [list(c) for c in zip(*transfers, strict=True)] if transfers else [[], [], [], []]
    cur.execute(
        "INSERT INTO supply_transfers (id, created_at, from_depot_id, to_depot_id, item_id, "
        "lot_id, quantity, state) SELECT t.id, now(), %s, t.d, %s, t.l, t.q, 'in_transit' "
        "FROM unnest(%s::uuid[], %s::uuid[], %s::uuid[], %s::int[]) t(id, d, l, q)",
        (warehouse, item, *cols))
    cur.execute(
        "INSERT INTO supply_ledger (id, created_at, depot_id, item_id, lot_id, kind, quantity, "
        "counterparty, reason, transfer_id) SELECT gen_random_uuid(), now(), %s, %s, t.l, "
        "'transfer_out', -t.q, '', '', t.id FROM unnest(%s::uuid[], %s::uuid[], %s::int[]) "
        "t(id, l, q)", (warehouse, item, cols[0], cols[2], cols[3]))
    cur.execute("UPDATE supply_balances b SET quantity = v.q, updated_at = now() "
                "FROM unnest(%s::uuid[], %s::int[]) v(id, q) WHERE b.id = v.id",
                ([s[0] for s in stock], [s[2] for s in stock]))


def allocate(dsn: str, pairs: list[tuple[str, str]]) -> float:
    """Seconds to allocate every pair, one transaction each; all rolled back after."""
    with psycopg.connect(dsn) as conn:
        t0 = time.perf_counter()
        for warehouse, item in pairs:
            with conn.cursor() as cur:
                conn.execute("SAVEPOINT pair")
                _allocate_one(cur, warehouse, item)
                conn.execute("RELEASE SAVEPOINT pair")
        spent = time.perf_counter() - t0
        conn.rollback()
    return spent


ISSUE = """
UPDATE supply_balances SET quantity = quantity - %(n)s, updated_at = now()
WHERE id = (SELECT b.id FROM supply_balances b JOIN supply_lots l ON l.id = b.lot_id
            WHERE b.depot_id = %(d)s AND b.item_id = %(i)s AND b.quantity >= %(n)s
            ORDER BY l.expires_on, l.lot_number LIMIT 1)
  AND quantity >= %(n)s
RETURNING lot_id"""
LEDGER = """
INSERT INTO supply_ledger (id, created_at, depot_id, item_id, lot_id, kind, quantity,
                           counterparty, reason)
VALUES (gen_random_uuid(), now(), %(d)s, %(i)s, %(l)s, 'issue', -%(n)s, '卡口', '')"""


def issue(conn: psycopg.Connection[Any], depot: str, item: str, n: int = 1) -> float:
    """One issue committed: milliseconds."""
    t0 = time.perf_counter()
    row = conn.execute(ISSUE, {"n": n, "d": depot, "i": item}).fetchone()
    if row is None:
        raise RuntimeError("the baseline ran out of stock")
    conn.execute(LEDGER, {"n": n, "d": depot, "i": item, "l": row[0]})
    conn.commit()
    return _ms(t0)
