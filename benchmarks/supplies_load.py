"""The supplies benchmark's database, generated inside PostgreSQL (benchmarks/supplies.py).

Items, lots, depots in Guiyang's area tree, a ledger of receipts, transfers (both legs,
with their transfer rows), issues and adjustments, then the balances as the ledger's
sums (so they agree by construction), and open requests under shortage. Every row comes
from generate_series and md5 of its position: the same parameters give the same data.
The constraints and secondary indexes are dropped for the load and made again after it
(one sort per index instead of a billion-row walk of B-trees), then VACUUM ANALYZE.
"""

from __future__ import annotations

import time
from typing import Any

import psycopg
from sqlalchemy.orm import Session

from passtrace.accounts import service as account_service
from passtrace.accounts.models import User
from passtrace.areas import service as area_service
from passtrace.core import migrate
from passtrace.core.runtime import Runtime

TABLES = ("supply_items", "supply_lots", "supply_depots", "supply_transfers", "supply_ledger",
          "supply_balances", "supply_requests")
CITY = "520100"
LOTS_PER_ITEM = 3
WAREHOUSES = 10  # one district warehouse per district of Guiyang
LOTS_HELD = 2  # lots of each held item at a non-warehouse depot
PASSWORD = "bench-password-1"
REQUESTER_KINDS = ("checkpoint", "community", "hospital", "enterprise")


def _districts(conn: psycopg.Connection[Any]) -> tuple[list[str], list[str]]:
    rows = conn.execute("SELECT code, level FROM areas WHERE code LIKE '5201%%' "
                        "AND code <> %s ORDER BY code", (CITY,)).fetchall()
    return [c for c, lv in rows if lv == "district"], [c for c, _ in rows]


def _drop_constraints(conn: psycopg.Connection[Any]) -> list[str]:
    """Drop the supply tables' secondary indexes and non-key constraints; return the DDL
    that makes them again."""
    again: list[str] = []
    for table in TABLES:
        for name, definition in conn.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = %s::regclass AND contype <> 'p'", (table,)).fetchall():
            conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            again.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        for name, definition in conn.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s "
                "AND indexname NOT IN (SELECT conname FROM pg_constraint)", (table,)
        ).fetchall():
            conn.execute(f'DROP INDEX "{name}"')
            again.append(definition)
    # Indexes before foreign keys: a key's check reads the referenced unique index.
    return sorted(again, key=lambda ddl: "FOREIGN KEY" in ddl)


def _users(rt: Runtime, staff_depots: list[str]) -> None:
    """The city's supplies officer and one depot-bound clerk per issuing client."""
    with Session(rt.engine, expire_on_commit=False) as session:
        area_service.load_bundled(session=session)
        officer = account_service.create(session=session, rt=rt, actor=None,
                                         username="officer", password=PASSWORD,
                                         display_name="物资科")
        account_service.grant(session=session, actor=None, user=officer,
                              role="supplies_officer", scope_type="area", scope_value=CITY)
        for n, code in enumerate(staff_depots):
            clerk = account_service.create(session=session, rt=rt, actor=None,
                                           username=f"clerk{n}", password=PASSWORD,
                                           display_name=f"库管员{n}")
            account_service.grant(session=session, actor=None, user=clerk,
                                  role="supplies_officer", scope_type="depot",
                                  scope_value=code)
        session.commit()


def tokens(rt: Runtime, usernames: list[str]) -> dict[str, str]:
    """An API token for each user (a new session each run)."""
    out = {}
    with Session(rt.engine, expire_on_commit=False) as session:
        for name in usernames:
            user = session.query(User).filter_by(username=name).one()
            out[name], _ = account_service.start_session(session=session, rt=rt, user=user,
                                                         kind="api", ip="127.0.0.1")
        session.commit()
    return out


def load(dsn: str, rt: Runtime, *, items: int, depots: int, ledger_rows: int,
         requests: int, alloc_warehouses: int, alloc_items: int,
         staff_depots: list[str]) -> dict[str, Any]:
    """Migrate, generate, index; return the sizes and how long it took."""
    t0 = time.perf_counter()
    migrate.upgrade(rt.engine)
    _users(rt, staff_depots)
    with psycopg.connect(dsn, autocommit=True) as conn:
        districts, areas = _districts(conn)
        again = _drop_constraints(conn)
        p = {"items": items, "depots": depots, "wh": WAREHOUSES, "lots": LOTS_PER_ITEM,
             "held": LOTS_HELD, "districts": districts, "areas": areas,
             "kinds": list(REQUESTER_KINDS)}
        conn.execute("""
            INSERT INTO supply_items (id, created_at, name, category, unit, pack_size,
                                      shelf_life_days, lead_time_days, safety_days)
            SELECT md5('item' || i)::uuid, now() - interval '90 days',
                   '物资-' || lpad(i::text, 5, '0'),
                   (ARRAY['mask','respirator','gloves','gown','goggles','disinfectant',
                          'test_kit','thermometer','medicine'])[1 + i %% 9], '件', 1, 730, 7, 3
            FROM generate_series(1, %(items)s) i""", p)
        conn.execute("""
            INSERT INTO supply_lots (id, created_at, item_id, lot_number, expires_on)
            SELECT md5('lot' || i || '-' || k)::uuid, now() - interval '90 days',
                   md5('item' || i)::uuid, 'L' || i || '-' || k,
                   date '2027-03-01' + ((i * 37 + k * 151) %% 700)
            FROM generate_series(1, %(items)s) i, generate_series(1, %(lots)s) k""", p)
        # Depots 1..wh are the district warehouses; the rest sit in districts and streets.
        conn.execute("""
            INSERT INTO supply_depots (id, created_at, code, name, kind, area_code)
            SELECT md5('depot' || g)::uuid, now() - interval '90 days',
                   CASE WHEN g <= %(wh)s THEN 'W-' || lpad(g::text, 2, '0')
                        ELSE 'SD-' || lpad(g::text, 5, '0') END,
                   CASE WHEN g <= %(wh)s THEN '区物资库' || g ELSE '物资点' || g END,
                   CASE WHEN g <= %(wh)s THEN 'district_warehouse'
                        ELSE (%(kinds)s::text[])[1 + g %% 4] END,
                   CASE WHEN g <= %(wh)s THEN (%(districts)s::text[])[g]
                        ELSE (%(areas)s::text[])[1 + g %% cardinality(%(areas)s::text[])] END
            FROM generate_series(1, %(depots)s) g""", p)
        # What each depot holds: a warehouse every lot; another depot every 25th item
        # (40 of 1,000), two lots of each, restocked from its district's warehouse.
        conn.execute("""
            CREATE TEMP TABLE held AS
            SELECT row_number() OVER (ORDER BY d.g, i, k) AS b, d.g, d.id AS depot_id,
                   w.id AS warehouse_id, md5('item' || i)::uuid AS item_id,
                   md5('lot' || i || '-' || k)::uuid AS lot_id, i, k
            FROM (SELECT g, id, area_code FROM generate_series(%(wh)s + 1, %(depots)s) g
                  JOIN supply_depots ON id = md5('depot' || g)::uuid) d
            JOIN supply_depots w ON w.kind = 'district_warehouse'
                 AND d.area_code LIKE w.area_code || '%%'
            CROSS JOIN generate_series(1, %(items)s) i
            CROSS JOIN LATERAL (SELECT 1 + (d.g + i + s) %% %(lots)s AS k
                                FROM generate_series(0, %(held)s - 1) s) lk
            WHERE (i + d.g) %% 25 = 0""", p)
        held = conn.execute("SELECT count(*) FROM held").fetchone()[0]  # type: ignore[index]
        wh_balances = WAREHOUSES * items * LOTS_PER_ITEM
        per_held = max(3, (ledger_rows - wh_balances) // max(held, 1))
        p.update(per=per_held, held=held)
        # Each held balance: a transfer in (and its leg out of the warehouse), then
        # issues, a few donations and count adjustments, spread over 60 days; the issues
        # take at most 150 of the 200+ that came in, so no balance goes below zero.
        conn.execute("""
            INSERT INTO supply_transfers (id, created_at, from_depot_id, to_depot_id, item_id,
                                          lot_id, quantity, state, received_quantity,
                                          discrepancy, received_at)
            SELECT md5('transfer' || b)::uuid, now() - interval '60 days', warehouse_id,
                   depot_id, item_id, lot_id, 200 + ('x' || md5('q' || b))::bit(16)::int %% 300,
                   'received', 200 + ('x' || md5('q' || b))::bit(16)::int %% 300, 0,
                   now() - interval '59 days'
            FROM held""", p)
        conn.execute("""
            INSERT INTO supply_ledger (id, created_at, depot_id, item_id, lot_id, kind,
                                       quantity, counterparty, reason, transfer_id)
            SELECT md5('out' || h.b)::uuid, t.created_at, t.from_depot_id, t.item_id, t.lot_id,
                   'transfer_out', -t.quantity, '', '', t.id
            FROM held h JOIN supply_transfers t ON t.id = md5('transfer' || h.b)::uuid
            UNION ALL
            SELECT md5('in' || h.b)::uuid, t.received_at, t.to_depot_id, t.item_id, t.lot_id,
                   'transfer_in', t.quantity, '', '', t.id
            FROM held h JOIN supply_transfers t ON t.id = md5('transfer' || h.b)::uuid""")
        conn.execute("""
            INSERT INTO supply_ledger (id, created_at, depot_id, item_id, lot_id, kind,
                                       quantity, counterparty, reason)
            SELECT md5('m' || b || '-' || n)::uuid,
                   now() - interval '58 days' + (n * interval '57 days') / %(per)s
                         + (b %% 3600) * interval '1 second',
                   depot_id, item_id, lot_id,
                   CASE WHEN (b + n) %% 11 = 0 THEN 'receipt'
                        WHEN (b + n) %% 7 = 0 THEN 'adjustment' ELSE 'issue' END,
                   CASE WHEN (b + n) %% 11 = 0 THEN 10 + (b + n) %% 40
                        WHEN (b + n) %% 7 = 0 THEN -(1 + (b + n) %% 5)
                        ELSE -(1 + (b * 7 + n) %% greatest(1, 150 / %(per)s)) END,
                   CASE WHEN (b + n) %% 11 = 0 THEN '红十字会' WHEN (b + n) %% 7 = 0 THEN ''
                        ELSE '卡口' END,
                   CASE WHEN (b + n) %% 7 = 0 AND (b + n) %% 11 <> 0 THEN 'count: 盘点' ELSE '' END
            FROM held CROSS JOIN generate_series(3, %(per)s) n""", p)
        # The warehouses' receipts cover what they sent on and leave about ten times
        # the requests per warehouse x item (of ~30 units each) for an item: the critical
        # requests get all they asked, the high ones a share, the normal ones nothing;
        # whatever rows are still short of ledger_rows are further deliveries.
        done = conn.execute("SELECT count(*) FROM supply_ledger").fetchone()[0]  # type: ignore[index]
        p["extra"] = max(0, ledger_rows - done - wh_balances)
        p["rpp"] = max(1, requests // (alloc_warehouses * alloc_items))
        conn.execute("""
            INSERT INTO supply_ledger (id, created_at, depot_id, item_id, lot_id, kind,
                                       quantity, counterparty, reason)
            SELECT md5('r' || w || '-' || i || '-' || k)::uuid, now() - interval '80 days',
                   md5('depot' || w)::uuid, md5('item' || i)::uuid,
                   md5('lot' || i || '-' || k)::uuid, 'receipt',
                   %(rpp)s * 3 + (w * 131 + i * 17 + k * 7) %% %(rpp)s + coalesce(o.sent, 0),
                   '国家储备', ''
            FROM generate_series(1, %(wh)s) w CROSS JOIN generate_series(1, %(items)s) i
            CROSS JOIN generate_series(1, %(lots)s) k
            LEFT JOIN (SELECT depot_id, lot_id, -sum(quantity) AS sent FROM supply_ledger
                       WHERE kind = 'transfer_out' GROUP BY depot_id, lot_id) o
                   ON o.depot_id = md5('depot' || w)::uuid
                  AND o.lot_id = md5('lot' || i || '-' || k)::uuid""", p)
        conn.execute("""
            INSERT INTO supply_ledger (id, created_at, depot_id, item_id, lot_id, kind,
                                       quantity, counterparty, reason)
            SELECT md5('x' || e)::uuid, now() - interval '30 days' + e * interval '1 second',
                   md5('depot' || (1 + e %% %(wh)s))::uuid,
                   md5('item' || (1 + e %% %(items)s))::uuid,
                   md5('lot' || (1 + e %% %(items)s) || '-' || (1 + e %% %(lots)s))::uuid,
                   'receipt', 5, '捐赠', ''
            FROM generate_series(1, %(extra)s) e""", p)
        conn.execute("""
            INSERT INTO supply_balances (id, depot_id, item_id, lot_id, quantity, updated_at)
            SELECT md5('bal' || depot_id || lot_id)::uuid, depot_id, item_id, lot_id,
                   sum(quantity), max(created_at)
            FROM supply_ledger GROUP BY depot_id, item_id, lot_id""")
        # Open requests under shortage: alloc_warehouses x alloc_items pairs, each with
        # requests / pairs requests from depots in the warehouse's district.
        p.update(requests=requests, aw=alloc_warehouses, ai=alloc_items)
        conn.execute("""
            INSERT INTO supply_requests (id, created_at, depot_id, item_id, quantity, priority,
                                         needed_by, justification, state, decision_reason,
                                         requested_by)
            SELECT md5('req' || n)::uuid,
                   now() - interval '2 days' + n * interval '10 ms',
                   c.id, md5('item' || (1 + (n / %(aw)s) %% %(ai)s))::uuid,
                   5 + (n * 7) %% 50,
                   CASE WHEN ('x' || md5('p' || n))::bit(8)::int %% 10 < 2 THEN 'critical'
                        WHEN ('x' || md5('p' || n))::bit(8)::int %% 10 < 5 THEN 'high'
                        ELSE 'normal' END,
                   current_date + 7, '执勤消耗', 'open', '',
                   (SELECT id FROM users WHERE username = 'officer')
            FROM generate_series(0, %(requests)s - 1) n
            JOIN (SELECT d.id, w.w, row_number() OVER (PARTITION BY w.w ORDER BY d.code) AS rn,
                         count(*) OVER (PARTITION BY w.w) AS cnt
                  FROM generate_series(0, %(aw)s - 1) w
                  JOIN supply_depots d ON d.kind <> 'district_warehouse'
                   AND d.area_code LIKE (%(districts)s::text[])[1 + w] || '%%') c
              ON c.w = n %% %(aw)s AND c.rn = 1 + (n / %(aw)s) %% c.cnt""", p)
        for ddl in again:
            conn.execute(ddl)
        for table in TABLES:
            conn.execute(f"VACUUM ANALYZE {table}")
        sizes = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # type: ignore[index]
                 for t in TABLES}
    return {"sizes": sizes, "load_s": round(time.perf_counter() - t0, 1),
            "ledger_rows_per_held_balance": per_held}
