"""Benchmark compound gates at scale: the gate decision and "who is out", over real HTTP.

How to run: `python benchmarks/community.py` (PostgreSQL on 127.0.0.1:5432, user postgres,
trust auth; about 10-15 minutes on 2 cores, most of it loading) builds a fresh database
(dropped at the end) with --compounds 1,000 compounds x --households 500 households
(1-4 residents each, ~1.2M people, residents and household passes, bulk-loaded with
binary COPY), one gate per compound, outing rules on (one member out per household,
3 outings a day, no curfew, 240 minutes out), ~20 % of households with someone out now
and --history-days of past outings with their gate registrations (made in SQL). It then
starts `python -m passtrace serve` on 127.0.0.1 and measures, at a steady paced rate,
sequentially and from 4 connections: POST /api/v1/registrations at --gate-compounds
gates (residents by household-pass QR text or typed ID number, out when in and in when
out, so the rules allow and deny; on PostgreSQL the gate's own fast path,
communities/outings/gate_fast.py), the same registrations at a plain road checkpoint
(baseline: the checkpoint's fast path), and GET /api/v1/communities/{code}/out for one
compound against the raw SQL of its open-outings query. For a quick run:
`--compounds 50 --households 100`; `--explain` prints the query plans. The server CPU
per request (`*_server_cpu_ms_per_req`) is the figure a loaded machine moves least;
benchmarks/gate_cpu.py gives the gate's per decision in-process, against the ORM path.
Prints one JSON object as its last line (DESIGN.md, "Benchmarks").
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import pickle
import platform
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import psycopg
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from checkpoint_env import (  # noqa: E402
    PG_ADMIN_URL,
    CpuMeter,
    Server,
    create_pg_database,
    drop_pg_database,
    package_version,
    settings_env,
)

from passtrace.accounts import service as account_service  # noqa: E402
from passtrace.accounts.models import User  # noqa: E402
from passtrace.areas import service as area_service  # noqa: E402
from passtrace.areas.models import Area  # noqa: E402
from passtrace.codec import PassClaims, encode_pass  # noqa: E402
from passtrace.communities.compounds.models import Community  # noqa: E402
from passtrace.core import migrate  # noqa: E402
from passtrace.core.config import Settings  # noqa: E402
from passtrace.core.ids import uuid7  # noqa: E402
from passtrace.core.pii import mask_id_number, mask_name, mask_phone  # noqa: E402
from passtrace.core.runtime import Runtime  # noqa: E402
from passtrace.core.validators import id_check_char  # noqa: E402
from passtrace.passes import keyring  # noqa: E402
from passtrace.passes.models import Pass  # noqa: E402
from passtrace.people.models import Person  # noqa: E402
from passtrace.sites.models import Site  # noqa: E402
from passtrace.wiring import wire  # noqa: E402

console = Console(stderr=True)
DUMP: list[dict[str, Any]] | None = None  # every request's latency, with --dump-latencies
STREETS = ("520102001", "520102002", "520102003", "520102004", "520102005", "520102006",
           "520103001", "520103002", "520103003", "520103004", "520111001", "520111002",
           "520115001", "520115002")
BIRTHPLACES = ("520102", "520103", "520111", "520112", "520113", "520115", "520181", "522601")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何罗高林"
GIVEN = ("伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛",
         "明", "超", "秀英", "霞", "平", "刚", "桂英", "建华", "文", "兰", "晓东")
CHECKPOINT = "CP-BENCH-01"
PASSWORD = "bench-password-1"
RULES = {"max_out_per_household": 1, "outings_per_window": 3, "window_days": 1,
         "curfew_start": None, "curfew_end": None, "max_out_minutes": 240}
# outings.service.who_is_out, as SQL (the baseline for the list endpoint).
WHO_IS_OUT_SQL = (
    "SELECT o.id, o.person_id, p.name_masked, p.id_masked, o.household_id, b.name, h.unit, "
    "h.room, o.out_at FROM outings o JOIN people p ON p.id = o.person_id "
    "JOIN households h ON h.id = o.household_id "
    "JOIN community_buildings b ON b.id = h.building_id "
    "WHERE o.community_id = %s AND o.back_at IS NULL ORDER BY o.out_at LIMIT 1000")
UUID7_SQL = """
CREATE OR REPLACE FUNCTION bench_uuid7(t timestamptz) RETURNS uuid AS $$
  SELECT encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid()) PLACING
    substring(int8send(floor(extract(epoch FROM t) * 1000)::bigint) FROM 3) FROM 1 FOR 6),
    52, 1), 53, 1), 'hex')::uuid
$$ LANGUAGE sql VOLATILE"""


@dataclass
class Resident:
    """A resident the client registers at a gate."""

    person_id: uuid.UUID
    household_id: uuid.UUID
    id_number: str
    token: str
    gate: str


@dataclass
class Built:
    """What the HTTP phases need to know about the loaded deployment."""

    staff_token: str = ""
    manager_token: str = ""
    measured_code: str = ""
    measured_id: uuid.UUID | None = None
    gate_residents: list[Resident] = field(default_factory=list)
    checkpoint_residents: list[Resident] = field(default_factory=list)
    out_now: set[uuid.UUID] = field(default_factory=set)
    sizes: dict[str, int] = field(default_factory=dict)
    load_s: dict[str, float] = field(default_factory=dict)


def _built_file(db_name: str) -> Path:
    return Path(tempfile.gettempdir()) / f"{db_name}.built.pickle"


def save_built(db_name: str, built: Built) -> None:
    """Keep what the HTTP phases need beside a kept database (tokens, residents)."""
    _built_file(db_name).write_bytes(pickle.dumps(built))


def load_built(db_name: str) -> Built:
    """What an earlier --keep-db run saved for this database."""
    try:
        return pickle.loads(_built_file(db_name).read_bytes())
    except FileNotFoundError:
        sys.exit(f"{db_name} was not loaded by a --keep-db run of this benchmark")


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), TextColumn(
        "{task.completed:,}/{task.total:,}"), TimeElapsedColumn(), TimeRemainingColumn(),
        console=console)


def compound_codes(n: int) -> list[str]:
    """n 12-digit compound codes spread over the demo's streets."""
    return [f"{STREETS[i % len(STREETS)]}{100 + i // len(STREETS):03d}" for i in range(n)]


def id_number_of(n: int) -> str:
    """The n-th distinct valid ID number (birth date and sequence number from n)."""
    born = date(1940, 1, 1) + timedelta(days=n % 27_000)
    first17 = f"{BIRTHPLACES[n % len(BIRTHPLACES)]}{born:%Y%m%d}{(n // 27_000) % 1000:03d}"
    return first17 + id_check_char(first17)


# --- building the deployment ---------------------------------------------------------------


def build(url: str, args: argparse.Namespace, rng: random.Random) -> Built:
    """Migrate, seed users, compounds and gates, then bulk-load people and history."""
    settings = Settings(**{k.removeprefix("PASSTRACE_").lower(): v
                           for k, v in settings_env(url).items()})
    rt = Runtime.build(settings)
    wire(rt)
    out = Built()
    codes = compound_codes(args.compounds)
    step = max(1, args.compounds // args.gate_compounds)
    gate_idx = [i * step for i in range(args.gate_compounds)]
    # The listed compound is one the gates do not serve (its open outings stay put).
    measured = next((i for i in range(args.compounds // 2, args.compounds) if i not in gate_idx),
                    args.compounds // 2)
    out.measured_code = codes[measured]
    try:
        t0 = time.perf_counter()
        migrate.upgrade(rt.engine)
        with Session(rt.engine, expire_on_commit=False) as session:
            area_service.load_bundled(session=session)
            key = keyring.current_signer(session=session, vault=rt.vault)
            _areas_compounds_gates(session, codes, gate_idx[0])
            ids = {code: cid for code, cid in
                   session.execute(select(Community.code, Community.id))}
            manager = _users(session, rt, codes, gate_idx, measured, out)
            session.commit()
        out.measured_id = ids[codes[measured]]
        out.load_s["schema_users_sites_s"] = round(time.perf_counter() - t0, 2)
        t0 = time.perf_counter()
        dsn = url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(dsn) as conn:
            _load_people(conn, rt, args, rng, codes, ids, set(gate_idx), key, manager, out)
            out.load_s["copy_s"] = round(time.perf_counter() - t0, 2)
            t0 = time.perf_counter()
            _load_history(conn, args)
            out.load_s["history_s"] = round(time.perf_counter() - t0, 2)
            t0 = time.perf_counter()
            conn.autocommit = True
            for table in ("people", "passes", "households", "residents", "outings",
                          "registrations", "community_buildings", "communities", "sites"):
                conn.execute(f"VACUUM ANALYZE {table}")
            # Write out what the load dirtied now: otherwise a spread checkpoint runs
            # through the first measured minutes and its writes land on their latency.
            conn.execute("CHECKPOINT")
            out.load_s["vacuum_analyze_checkpoint_s"] = round(time.perf_counter() - t0, 2)
            out.out_now = {r[0] for r in conn.execute(
                "SELECT person_id FROM outings WHERE back_at IS NULL AND community_id = ANY(%s)",
                ([ids[codes[i]] for i in gate_idx],))}
            out.sizes = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # type: ignore[index]
                         for t in ("communities", "households", "residents", "people",
                                   "passes", "outings", "registrations")}
            out.sizes["open_outings"] = conn.execute(
                "SELECT count(*) FROM outings WHERE back_at IS NULL").fetchone()[0]  # type: ignore[index]
            out.sizes["measured_compound_out_now"] = conn.execute(
                "SELECT count(*) FROM outings WHERE back_at IS NULL AND community_id = %s",
                (out.measured_id,)).fetchone()[0]  # type: ignore[index]
            out.sizes["database_mb"] = round(conn.execute(
                "SELECT pg_database_size(current_database())").fetchone()[0] / 2**20)  # type: ignore[index]
        return out
    finally:
        rt.engine.dispose()


def _areas_compounds_gates(session: Session, codes: list[str], checkpoint_idx: int) -> None:
    known = set(session.scalars(select(Area.code)))
    session.execute(insert(Area), [
        {"code": c, "name_zh": f"基准小区{i:04d}", "name_en": f"Bench compound {i}",
         "level": "community", "parent_code": c[:9]}
        for i, c in enumerate(codes) if c not in known])
    session.execute(insert(Community), [
        {"id": uuid7(), "code": c, "name": f"基准小区{i:04d}", "address": f"基准路 {i} 号",
         "visitor_approval": "auto", **RULES} for i, c in enumerate(codes)])
    session.execute(insert(Site), [
        {"id": uuid7(), "code": f"GATE-B{i:04d}", "name": f"基准小区{i:04d}大门",
         "kind": "community_gate", "area_code": c[:9], "lanes": ["1"], "opening_hours": [],
         "fever_threshold": 37.3, "community_code": c, "active": True}
        for i, c in enumerate(codes)])
    # A plain road checkpoint inside the first gate compound's area: its residents'
    # household passes (areas = [that code]) are good there, so it decides the same people.
    session.add(Site(code=CHECKPOINT, name="基准道路卡口", kind="road_checkpoint",
                     area_code=codes[checkpoint_idx], lanes=["1"], opening_hours=[],
                     fever_threshold=37.3, community_code="", active=True))
    session.flush()


def _users(session: Session, rt: Runtime, codes: list[str], gate_idx: list[int],
           measured: int, out: Built) -> User:
    manager = account_service.create(session=session, rt=rt, actor=None, username="manager",
                                     password=PASSWORD, display_name="物业经理")
    account_service.grant(session=session, actor=None, user=manager,
                          role="community_manager", scope_type="community",
                          scope_value=codes[measured])
    staff = account_service.create(session=session, rt=rt, actor=None, username="gatestaff",
                                   password=PASSWORD, display_name="门岗")
    for code in [f"GATE-B{i:04d}" for i in gate_idx] + [CHECKPOINT]:
        account_service.grant(session=session, actor=None, user=staff,
                              role="checkpoint_staff", scope_type="site", scope_value=code)
    out.manager_token, _ = account_service.start_session(session=session, rt=rt, user=manager,
                                                         kind="api", ip="127.0.0.1")
    out.staff_token, _ = account_service.start_session(session=session, rt=rt, user=staff,
                                                       kind="api", ip="127.0.0.1")
    return manager


PEOPLE_COLS = ("id", "id_hash", "id_enc", "id_masked", "name_enc", "name_masked", "phone_enc",
               "phone_masked", "status", "created_at")
PEOPLE_TYPES = ("uuid", "varchar", "bytea", "varchar", "bytea", "varchar", "bytea", "varchar",
                "varchar", "timestamptz")
PASS_COLS = ("id", "person_id", "applicant_user_id", "purpose", "reason", "valid_from",
             "valid_until", "areas", "sites", "companions", "status", "decided_by",
             "decided_at", "area_prefix", "kid", "token_enc", "created_at")
PASS_TYPES = ("uuid", "uuid", "uuid", "varchar", "text", "timestamptz", "timestamptz", "json",
              "json", "int4", "varchar", "uuid", "timestamptz", "varchar", "varchar", "bytea",
              "timestamptz")
HH_COLS = ("id", "community_id", "building_id", "unit", "room", "created_at")
HH_TYPES = ("uuid", "uuid", "uuid", "varchar", "varchar", "timestamptz")
RES_COLS = ("id", "community_id", "household_id", "person_id", "role", "pass_id", "created_at")
RES_TYPES = ("uuid", "uuid", "uuid", "uuid", "varchar", "uuid", "timestamptz")


def _copy(cur: psycopg.Cursor[Any], table: str, cols: tuple[str, ...],
          types: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(list(types))
        for row in rows:
            copy.write_row(row)


def _load_people(conn: psycopg.Connection[Any], rt: Runtime, args: argparse.Namespace,
                 rng: random.Random, codes: list[str], ids: dict[str, uuid.UUID],
                 gate_idx: set[int], key: Any, manager: User, out: Built) -> None:
    """People, buildings, households, residents and household passes, a chunk at a time.

    Passes of the gate compounds are signed one by one; the others (the
    signature is not read on the server's gate path) carry a copy of one signed
    token of the same size: signing 1.2M passes would take ~2 CPU minutes of codec.
    """
    vault, now = rt.vault, datetime.now(UTC)
    until = now + timedelta(days=180)
    filler = None
    n = 0
    chunk = max(1, 20_000 // args.households)
    with _progress() as progress, conn.cursor() as cur:
        task = progress.add_task("COPY people, households, residents, passes",
                                 total=len(codes) * args.households)
        for start in range(0, len(codes), chunk):
            people: list[tuple[Any, ...]] = []
            passes: list[tuple[Any, ...]] = []
            households: list[tuple[Any, ...]] = []
            residents: list[tuple[Any, ...]] = []
            buildings: list[tuple[Any, ...]] = []
            for i in range(start, min(start + chunk, len(codes))):
                code, cid = codes[i], ids[codes[i]]
                names = [uuid7() for _ in range(10)]
                buildings += [(b, cid, str(k + 1), ["1", "2"]) for k, b in enumerate(names)]
                areas = [code]
                for h in range(args.households):
                    hid = uuid7()
                    households.append((hid, cid, names[h % 10], str(h // 10 % 2 + 1),
                                       f"{h // 20 % 33 + 1}{h // 660 + 1:02d}", now))
                    size = rng.choices((1, 2, 3, 4), (20, 35, 30, 15))[0]
                    for m in range(size):
                        id_number = id_number_of(n)
                        n += 1
                        name = rng.choice(SURNAMES) + rng.choice(GIVEN)
                        phone = f"139{rng.randrange(10**8):08d}"
                        pid, pass_id = uuid7(), uuid7()
                        digest = vault.lookup_hash(id_number)
                        bound = {"id_hash": digest}
                        people.append((pid, digest,
                                       vault.encrypt(id_number,
                                                     ad=Person.pii_ad_for("id_enc", bound)),
                                       mask_id_number(id_number),
                                       vault.encrypt(name, ad=Person.pii_ad_for("name_enc", bound)),
                                       mask_name(name),
                                       vault.encrypt(phone,
                                                     ad=Person.pii_ad_for("phone_enc", bound)),
                                       mask_phone(phone), "green", now))
                        if i in gate_idx or filler is None:
                            claims = PassClaims(
                                pass_id=str(pass_id), holder=mask_name(name),
                                id_last4=id_number[-4:], purpose="household",
                                valid_from=int(now.timestamp()),
                                valid_until=int(until.timestamp()),
                                issued_at=int(now.timestamp()), areas=(code,))
                            token = encode_pass(claims, key)
                            filler = filler or token
                        else:
                            token = filler
                        passes.append((pass_id, pid, manager.id, "household",
                                       "住户 / resident", now, until, areas, [], 0, "approved",
                                       manager.id, now, code, key.kid.hex(),
                                       # Stored encrypted, bound to its row (the app's way).
                                       vault.encrypt(token, ad=Pass.pii_ad_for(
                                           "token_enc", {"id": pass_id})), now))
                        role = ("owner" if rng.random() < 0.85 else "tenant") if m == 0 else (
                            "live_in_worker" if rng.random() < 0.03 else "family")
                        residents.append((uuid7(), cid, hid, pid, role, pass_id, now))
                        if i in gate_idx:
                            r = Resident(pid, hid, id_number, token, f"GATE-B{i:04d}")
                            out.gate_residents.append(r)
                            if i == min(gate_idx):
                                out.checkpoint_residents.append(r)
                progress.advance(task, args.households)
            cur.executemany("INSERT INTO community_buildings (id, community_id, name, units) "
                            "VALUES (%s, %s, %s, %s::json)",
                            [(b, c, nm, json.dumps(u)) for b, c, nm, u in buildings])
            _copy(cur, "people", PEOPLE_COLS, PEOPLE_TYPES, people)
            _copy(cur, "passes", PASS_COLS, PASS_TYPES, passes)
            _copy(cur, "households", HH_COLS, HH_TYPES, households)
            _copy(cur, "residents", RES_COLS, RES_TYPES, residents)
            conn.commit()


def _load_history(conn: psycopg.Connection[Any], args: argparse.Namespace) -> None:
    """Past outings (one a day at most per household, 07:00-19:00 local), who is out now
    (some overdue, already noticed as the sweeper would have), and their registrations."""
    steps = (
        ("outings: history", f"""
INSERT INTO outings (id, community_id, household_id, person_id, out_at, back_at,
                     out_registration_id, back_registration_id)
SELECT bench_uuid7(s.out_at), s.community_id, s.household_id, s.person_id, s.out_at, s.back_at,
       bench_uuid7(s.out_at), bench_uuid7(s.back_at)
FROM (SELECT hh.community_id, hh.household_id,
             hh.members[1 + floor(random() * cardinality(hh.members))::int] AS person_id,
             t.out_at, t.out_at + (20 + random() * 150) * interval '1 minute' AS back_at
      FROM bench_households hh CROSS JOIN generate_series(1, {args.history_days}) AS d
      CROSS JOIN LATERAL (SELECT ((date_trunc('day', now() AT TIME ZONE 'Asia/Shanghai')
                  - d * interval '1 day' + interval '7 hours' + random() * interval '12 hours')
                  AT TIME ZONE 'Asia/Shanghai') AS out_at) t
      WHERE random() < {args.daily_outings}) s
ORDER BY s.out_at"""),
        ("outings: out now", f"""
INSERT INTO outings (id, community_id, household_id, person_id, out_at, out_registration_id,
                     overdue_noticed_at)
SELECT bench_uuid7(s.out_at), s.community_id, s.household_id, s.person_id, s.out_at,
       bench_uuid7(s.out_at),
       CASE WHEN s.out_at < now() - interval '{RULES['max_out_minutes']} minutes'
            THEN now() END
FROM (SELECT hh.community_id, hh.household_id,
             hh.members[1 + floor(random() * cardinality(hh.members))::int] AS person_id,
             now() - (5 + random() * 330) * interval '1 minute' AS out_at
      FROM bench_households hh WHERE random() < {args.out_share}) s
ORDER BY s.out_at"""),
        ("registrations for the outings", """
INSERT INTO registrations (id, site_id, lane, device_key, operator_user_id, occurred_at,
    received_at, clock_skew_s, skew_flagged, direction, method, person_hash, person_masked,
    id_last4, pass_id, temperature, companions, origin, destination, decision, reasons,
    decided_by)
SELECT x.id, g.id, '1', 'bench-gate', NULL, x.at, x.at, 0, false, x.direction,
       CASE WHEN random() < 0.7 THEN 'qr' ELSE 'id_typed' END, p.id_hash, p.name_masked,
       right(p.id_masked, 4), r.pass_id, 36.5, 0, '', '', 'allow', '[]'::json, 'server'
FROM (SELECT out_registration_id AS id, out_at AS at, 'out' AS direction, person_id,
             community_id FROM outings
      UNION ALL
      SELECT back_registration_id, back_at, 'in', person_id, community_id FROM outings
      WHERE back_at IS NOT NULL) x
JOIN people p ON p.id = x.person_id
JOIN residents r ON r.person_id = x.person_id AND r.community_id = x.community_id
JOIN communities c ON c.id = x.community_id
JOIN sites g ON g.community_code = c.code
ORDER BY x.at"""),
    )
    conn.execute("SET work_mem = '256MB'")
    conn.execute(UUID7_SQL)
    conn.execute("CREATE TEMP TABLE bench_households AS SELECT household_id, "
                 "(array_agg(community_id))[1] AS community_id, array_agg(person_id) AS members "
                 "FROM residents GROUP BY household_id")
    with _progress() as progress:
        task = progress.add_task("history (SQL)", total=len(steps))
        for name, sql in steps:
            progress.update(task, description=f"history: {name}")
            conn.execute(sql)
            conn.commit()
            progress.advance(task)
    conn.execute("DROP FUNCTION bench_uuid7(timestamptz)")
    conn.commit()


# --- measuring ---------------------------------------------------------------------------


class Client:
    """One keep-alive HTTP/1.1 connection (http.client: cheap on the shared CPU)."""

    def __init__(self, port: int, token: str) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def call(self, method: str, path: str, body: bytes | None = None) -> tuple[int, Any]:
        self.conn.request(method, path, body=body, headers=self.headers)
        resp = self.conn.getresponse()
        data = resp.read()
        return resp.status, orjson.loads(data) if data else None

    def close(self) -> None:
        self.conn.close()


class GateTraffic:
    """Residents going out when in and in when out; one request per resident at a time."""

    def __init__(self, residents: list[Resident], out_now: set[uuid.UUID], id_share: float,
                 rng: random.Random, site: str | None = None) -> None:
        self.residents, self.out = residents, set(out_now)
        self.busy: set[uuid.UUID] = set()
        self.rng, self.id_share, self.site = rng, id_share, site
        self.lock = threading.Lock()
        self.outcomes: Counter[str] = Counter()

    def next(self) -> tuple[Resident, bytes]:
        with self.lock:
            while True:
                r = self.rng.choice(self.residents)
                if r.person_id not in self.busy:
                    break
            self.busy.add(r.person_id)
            typed = self.rng.random() < self.id_share
        direction = "through" if self.site else ("in" if r.person_id in self.out else "out")
        now = datetime.now(UTC).isoformat()
        body: dict[str, Any] = {"id": str(uuid7()), "site": self.site or r.gate, "lane": "1",
                                "device_key": "bench-phone", "occurred_at": now,
                                "sent_at": now, "direction": direction, "temperature": 36.5}
        body |= ({"method": "id_typed", "id_number": r.id_number} if typed
                 else {"method": "qr", "token": r.token})
        return r, orjson.dumps(body)

    def done(self, r: Resident, answer: dict[str, Any]) -> None:
        with self.lock:
            self.busy.discard(r.person_id)
            decision = answer["decision"]
            self.outcomes[decision if decision == "allow" else "deny:" + ",".join(
                x["code"] for x in answer["reasons"])] += 1
            if decision == "allow" and answer["direction"] == "out":
                self.out.add(r.person_id)
            elif decision == "allow" and answer["direction"] == "in":
                self.out.discard(r.person_id)


def paced(port: int, token: str, count: int, rate: float, connections: int,
          request: Callable[[Client], None], label: str
          ) -> tuple[list[float], list[float], float]:
    """Send `count` requests at `rate` per second over `connections` connections.

    Returns latencies from each request's scheduled time (a slow answer also delays
    the ones queued behind it on its connection, as at a real gate), latencies from
    the moment each was sent (the service time alone) and the elapsed seconds.
    """
    latencies: list[float] = []
    service: list[float] = []
    lock = threading.Lock()
    errors: list[str] = []
    start = time.perf_counter() + 0.05

    def worker(w: int) -> None:
        client = Client(port, token)
        try:
            for i in range(w, count, connections):
                due = start + i / rate
                delay = due - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                sent = time.perf_counter()
                try:
                    request(client)
                except Exception as exc:  # noqa: BLE001 - reported after the phase
                    errors.append(f"{type(exc).__name__}: {exc}")
                    return
                done = time.perf_counter()
                with lock:
                    latencies.append(done - due)
                    service.append(done - sent)
                    if DUMP is not None:
                        DUMP.append({"phase": label, "at": round(time.time(), 3),
                                     "ms": round((done - due) * 1000, 2),
                                     "service_ms": round((done - sent) * 1000, 2)})
        finally:
            client.close()

    with _progress() as progress:
        task = progress.add_task(label, total=count)
        threads = [threading.Thread(target=worker, args=(w,)) for w in range(connections)]
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            progress.update(task, completed=len(latencies))
            time.sleep(0.2)
        progress.update(task, completed=len(latencies))
    if errors:
        raise RuntimeError(f"{label}: {errors[0]}")
    return latencies, service, time.perf_counter() - start


def registration_request(traffic: GateTraffic) -> Callable[[Client], None]:
    def send(client: Client) -> None:
        r, body = traffic.next()
        status, answer = client.call("POST", "/api/v1/registrations", body)
        if status != 200 or "decision" not in answer:
            traffic.busy.discard(r.person_id)
            raise RuntimeError(f"{status} {str(answer)[:300]}")
        traffic.done(r, answer)
    return send


def pct(values: list[float], p: float) -> float:
    """The p-th percentile in milliseconds (nearest rank)."""
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, math.ceil(p * len(ordered)) - 1)] * 1000, 2)


def figures(prefix: str, lat: list[float], service: list[float], elapsed: float
            ) -> dict[str, float]:
    return {f"{prefix}_p50_ms": pct(lat, 0.50), f"{prefix}_p95_ms": pct(lat, 0.95),
            f"{prefix}_p99_ms": pct(lat, 0.99), f"{prefix}_max_ms": round(max(lat) * 1000, 2),
            f"{prefix}_service_p50_ms": pct(service, 0.50),
            f"{prefix}_service_p99_ms": pct(service, 0.99),
            f"{prefix}_req_per_s": round(len(lat) / elapsed, 1)}


def measure(server: Server, built: Built, args: argparse.Namespace, rng: random.Random,
            db_name: str) -> dict[str, Any]:
    """The gate and checkpoint phases (sequential, then concurrent) and the list endpoint."""
    res: dict[str, Any] = {}
    gate = GateTraffic(built.gate_residents, built.out_now, args.id_share, rng)
    checkpoint = GateTraffic(built.checkpoint_residents, set(), args.id_share, rng,
                             site=CHECKPOINT)
    for traffic in (gate, checkpoint):  # routers, caches, pooled connections, prepared plans
        paced(server.port, built.staff_token, args.warmup_requests, args.concurrent_rate,
              args.connections, registration_request(traffic), "warm-up")
    gate.outcomes.clear()
    checkpoint.outcomes.clear()
    cpu = CpuMeter(server, db_name)
    used = {"gate": [0.0, 0.0, 0.0], "checkpoint": [0.0, 0.0, 0.0]}
    done = {"gate": 0, "checkpoint": 0}
    for name, conns, count, rate in (("seq", 1, args.gate_requests, args.rate),
                                     ("c4", args.connections, args.concurrent_requests,
                                      args.concurrent_rate)):
        for prefix, traffic in (("gate", gate), ("checkpoint", checkpoint)):
            before = cpu.sample()
            lat, service, elapsed = paced(server.port, built.staff_token, count, rate, conns,
                                          registration_request(traffic),
                                          f"{prefix} {name} @ {rate}/s")
            res |= figures(f"{prefix}_{name}", lat, service, elapsed)
            used[prefix] = [u + a - b for u, a, b in zip(used[prefix], cpu.sample(), before,
                                                         strict=True)]
            done[prefix] += count
    res["gate_decision_p50_ms"] = max(res["gate_seq_p50_ms"], res["gate_c4_p50_ms"])
    res["gate_decision_p95_ms"] = max(res["gate_seq_p95_ms"], res["gate_c4_p95_ms"])
    res["gate_decision_p99_ms"] = max(res["gate_seq_p99_ms"], res["gate_c4_p99_ms"])
    res["checkpoint_decision_p99_ms"] = max(res["checkpoint_seq_p99_ms"],
                                            res["checkpoint_c4_p99_ms"])
    for prefix in ("gate", "checkpoint"):  # CPU per request: the figure noise does not move
        res[f"{prefix}_server_cpu_ms_per_req"] = round(used[prefix][0] * 1000 / done[prefix], 2)
        res[f"{prefix}_postgres_cpu_ms_per_req"] = round(used[prefix][1] * 1000 / done[prefix],
                                                         2)
    res["gate_outcomes"] = dict(gate.outcomes.most_common())
    res["checkpoint_outcomes"] = dict(checkpoint.outcomes.most_common())
    rows: list[int] = []

    def who_is_out(client: Client) -> None:
        # The first page, as the manager's screen asks for it (lists are paged: {items, next}).
        status, answer = client.call(
            "GET", f"/api/v1/communities/{built.measured_code}/out?limit=200")
        if status != 200:
            raise RuntimeError(f"{status} {str(answer)[:300]}")
        rows.append(len(answer["items"]))

    paced(server.port, built.manager_token, 5, 50, 1, who_is_out, "warm-up")
    lat, _, _ = paced(server.port, built.manager_token, args.list_requests, args.list_rate,
                      1, who_is_out, f"who is out @ {args.list_rate}/s")
    res |= {"who_is_out_p50_ms": pct(lat, 0.5), "who_is_out_p95_ms": pct(lat, 0.95),
            "who_is_out_p99_ms": pct(lat, 0.99), "who_is_out_rows": statistics.median(rows)}
    return res


def sql_baseline(dsn: str, built: Built, runs: int, explain: bool) -> dict[str, Any]:
    """The open-outings query alone, straight on psycopg (prepared after a few runs)."""
    times = []
    with psycopg.connect(dsn) as conn:
        for _ in range(runs + 5):
            t0 = time.perf_counter()
            conn.execute(WHO_IS_OUT_SQL, (built.measured_id,)).fetchall()
            times.append(time.perf_counter() - t0)
        if explain:
            for label, sql, params in _plans(built):
                plan = conn.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params).fetchall()
                console.print(f"[bold]{label}[/bold]\n" + "\n".join(r[0] for r in plan))
    times = times[5:]
    return {"who_is_out_sql_p50_ms": pct(times, 0.5), "who_is_out_sql_p95_ms": pct(times, 0.95)}


def _plans(built: Built) -> Iterator[tuple[str, str, tuple[Any, ...]]]:
    r = built.gate_residents[0]
    yield "who is out", WHO_IS_OUT_SQL, (built.measured_id,)
    yield ("members out (gate)", "SELECT count(*) FROM outings WHERE household_id = %s AND "
           "back_at IS NULL AND person_id != %s", (r.household_id, r.person_id))
    yield ("outings in the window (gate)", "SELECT count(*) FROM outings WHERE household_id = %s "
           "AND out_at >= now() - interval '1 day'", (r.household_id,))


def machine() -> dict[str, Any]:
    model = next((line.split(":", 1)[1].strip() for line in
                  Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
    return {"cpus": os.cpu_count(), "cpu_model": model, "memory_gb": round(mem_kb / 2**20, 1),
            "python": platform.python_version(), "os": platform.platform()}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark and print the JSON summary."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--compounds", type=int, default=1000)
    ap.add_argument("--households", type=int, default=500, help="per compound")
    ap.add_argument("--history-days", type=int, default=21)
    ap.add_argument("--daily-outings", type=float, default=0.3,
                    help="share of households with an outing on a past day")
    ap.add_argument("--out-share", type=float, default=0.2,
                    help="share of households with someone out now")
    ap.add_argument("--gate-compounds", type=int, default=8, help="compounds the gates serve")
    ap.add_argument("--gate-requests", type=int, default=1200, help="sequential phase")
    ap.add_argument("--rate", type=float, default=40.0, help="sequential requests per second")
    ap.add_argument("--concurrent-requests", type=int, default=2000)
    ap.add_argument("--concurrent-rate", type=float, default=100.0)
    ap.add_argument("--connections", type=int, default=4, help="concurrent phase")
    ap.add_argument("--warmup-requests", type=int, default=400, help="per path, not measured")
    ap.add_argument("--id-share", type=float, default=0.3, help="typed ID numbers (rest: QR)")
    ap.add_argument("--list-requests", type=int, default=200)
    ap.add_argument("--list-rate", type=float, default=10.0)
    ap.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--sweep-seconds", type=int, default=None,
                    help="the server's overdue sweep interval (default: its own, 120 s)")
    ap.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE plans")
    ap.add_argument("--keep-db", action="store_true", help="keep the database (print its URL)")
    ap.add_argument("--reuse-db", default=None, metavar="NAME",
                    help="measure a database an earlier --keep-db run loaded (skips the "
                         "load, which takes most of the run; its state is what that run left)")
    ap.add_argument("--load-only", action="store_true",
                    help="with --keep-db: load, keep, and measure nothing (measure later with "
                         "--reuse-db, on a quiet machine)")
    ap.add_argument("--dump-latencies", type=Path, default=None,
                    help="write every request's latency (JSON lines) to this file")
    ap.add_argument("--keep-log", type=Path, default=None, help="server log file")
    args = ap.parse_args(argv)
    global DUMP
    DUMP = [] if args.dump_latencies else None
    rng = random.Random(args.seed)
    db_name = args.reuse_db or f"passtrace_bench_community_{uuid.uuid4().hex[:8]}"
    url = (PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + db_name if args.reuse_db
           else create_pg_database(db_name))
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    if args.sweep_seconds is not None:  # the server takes its settings from the environment
        os.environ["PASSTRACE_OVERDUE_SWEEP_SECONDS"] = str(args.sweep_seconds)
    server = Server(url, workers=args.workers, log=args.keep_log)
    started = time.perf_counter()
    try:
        t0 = time.perf_counter()
        built = load_built(db_name) if args.reuse_db else build(url, args, rng)
        if args.keep_db and not args.reuse_db:
            save_built(db_name, built)
        load_s = time.perf_counter() - t0 if not args.reuse_db else sum(built.load_s.values())
        console.print(f"loaded in {load_s:.1f} s: {built.sizes}")
        if args.load_only and args.keep_db:
            console.print(f"kept {url} (measure it: --reuse-db {db_name})")
            return {}
        server.start(timeout=120)
        try:
            results = measure(server, built, args, rng, db_name)
        finally:
            server.stop()
        results |= sql_baseline(dsn, built, args.list_requests, args.explain)
        with psycopg.connect(dsn) as conn:
            pg = conn.execute("SELECT current_setting('server_version'), "
                              "current_setting('shared_buffers')").fetchone()
    finally:
        server.stop()
        if args.keep_db or args.reuse_db:
            console.print(f"kept {url} (measure it again: --reuse-db {db_name})")
        else:
            drop_pg_database(db_name)
    goals = {"gate_decision_p99_ms": 50, "who_is_out_p95_ms": 300}
    results |= {"load_s": round(load_s, 1), "load_steps_s": built.load_s,
                "people_per_s_loaded": round(built.sizes["people"] / built.load_s["copy_s"])}
    summary = {
        "benchmark": "community",
        "params": {
            "compounds": args.compounds, "households_per_compound": args.households,
            "history_days": args.history_days, "daily_outings": args.daily_outings,
            "out_share": args.out_share, "gate_compounds": args.gate_compounds,
            "rules": RULES, "gate_requests": args.gate_requests, "rate_per_s": args.rate,
            "concurrent_requests": args.concurrent_requests,
            "concurrent_rate_per_s": args.concurrent_rate, "connections": args.connections,
            "id_share": args.id_share, "list_requests": args.list_requests,
            "warmup_requests": args.warmup_requests,
            "workers": args.workers, "seed": args.seed,
            "overdue_sweep_seconds": args.sweep_seconds or Settings.model_fields[
                "overdue_sweep_seconds"].default,
            "latency": "from each request's scheduled time; *_decision_* = worse of the "
                       "sequential and the concurrent phase",
            "baselines": "checkpoint: the same residents and passes at a road checkpoint "
                         "(PostgreSQL fast path); who_is_out_sql: outings.service.who_is_out's "
                         "query on psycopg",
            "sizes": built.sizes,
            "machine": machine() | {"postgresql": pg[0] if pg else None,
                                    "shared_buffers": pg[1] if pg else None},
            "psycopg": package_version("psycopg"), "uvicorn": package_version("uvicorn"),
            "sqlalchemy": package_version("sqlalchemy"),
        },
        "results": results,
        "ratios": {
            "gate_vs_checkpoint_p99": round(results["gate_decision_p99_ms"]
                                            / results["checkpoint_decision_p99_ms"], 2),
            "who_is_out_http_vs_sql_p95": round(results["who_is_out_p95_ms"]
                                                / results["who_is_out_sql_p95_ms"], 1),
        },
        "goals": goals,
        "met": {k: results[k] <= v for k, v in goals.items()},
        "wall_s": round(time.perf_counter() - started, 1),
    }
    if args.dump_latencies and DUMP is not None:
        args.dump_latencies.write_text("".join(json.dumps(row) + "\n" for row in DUMP))
    print(json.dumps(summary, ensure_ascii=False, default=str))
    return summary


if __name__ == "__main__":
    main()
