"""Hand-built lakes: rows written straight into the lake's layout (tables.py schemas)."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from passtrace.analytics.lake.tables import BY_NAME, TABLES


def T(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:  # noqa: N802
    return datetime(2026, 11, day, hour, minute, second, tzinfo=UTC)


def write_lake(path: Path, rows: dict[str, list[dict[str, Any]]]) -> Path:
    """Write every table (missing ones empty) in the lake's layout."""
    for table in TABLES:
        items = rows.get(table.name, [])
        defaults = {c.name: ([] if c.kind == "reasons" else None) for c in table.columns}
        items = [{**defaults, **r} for r in items]
        if table.partition_by is None:
            (path / table.name).mkdir(parents=True, exist_ok=True)
            pq.write_table(pa.Table.from_pylist(items, schema=table.schema),
                           path / table.name / "part-0.parquet")
            continue
        key = table.partition_by.split(".")[-1]
        by_day: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in items:
            v = r[key]
            by_day[(v.date() if isinstance(v, datetime) else v).isoformat()].append(r)
        for day, day_rows in by_day.items():
            d = path / table.name / f"date={day}"
            d.mkdir(parents=True, exist_ok=True)
            pq.write_table(pa.Table.from_pylist(day_rows, schema=table.schema),
                           d / "part-0.parquet")
    (path / "_manifest.json").write_text('{"schema_version": 1, "tables": {}}')
    return path


SITE_A, SITE_B, SITE_C = (f"00000000-0000-0000-0000-00000000000{i}" for i in (1, 2, 3))


def reg(i: int, person: str, site: str, at: datetime, *, decision: str = "allow",
        reasons: list[str] | None = None) -> dict[str, Any]:
    return {"id": f"10000000-0000-0000-0000-{i:012d}", "site_id": site, "lane": "1",
            "occurred_at": at, "received_at": at, "direction": "in", "method": "qr",
            "person_hash": person, "decision": decision, "reasons": reasons or [],
            "future_flagged": False}


def generated(path: Path, *, seed: int = 7, people: int = 300, sites: int = 12,
              days: int = 3, regs_per_person_day: int = 4) -> Path:
    """A random lake (fixed seed) for engine agreement and benchmarks."""
    rnd = random.Random(seed)
    counties = ["110101", "110102", "110105", "120101"]
    site_rows = [{"id": f"20000000-0000-0000-0000-{s:012d}", "code": f"S{s}", "name": f"S{s}",
                  "kind": "checkpoint", "area_code": rnd.choice(counties) + "001001",
                  "community_code": "", "active": True} for s in range(sites)]
    hashes = [f"{p:064x}" for p in range(1, people + 1)]
    regs, stays = [], []
    n = 0
    for d in range(days):
        day0 = datetime(2026, 11, 10 + d, tzinfo=UTC)
        for h in hashes:
            for _ in range(regs_per_person_day):
                n += 1
                at = day0 + timedelta(seconds=rnd.randrange(86_400),
                                          microseconds=rnd.randrange(1_000_000))
                site = rnd.choice(site_rows)["id"]
                deny = rnd.random() < 0.1
                regs.append(reg(n, h, site, at, decision="deny" if deny else "allow",
                                reasons=[rnd.choice(["fever", "expired", "no_pass"])]
                                if deny else []))
                if not deny and rnd.random() < 0.5:
                    stays.append({"id": regs[-1]["id"], "person_hash": h, "site_id": site,
                                  "started_at": at,
                                  "ended_at": at + timedelta(minutes=rnd.randrange(5, 240)),
                                  "closed_by": "out"})
    ents = [f"40000000-0000-0000-0000-{e:012d}" for e in range(3)]
    # After every other draw, so the rows above stay what they were for this seed.
    ent_rows = [{"id": e, "area_code": counties[i % len(counties)] + "001"}
                for i, e in enumerate(ents)]
    emps = [{"id": f"50000000-0000-0000-0000-{i:012d}", "enterprise_id": ents[i % 3],
             "department_id": None, "status": "active" if i % 7 else "left",
             "created_at": datetime(2026, 11, 9 + i % 3, tzinfo=UTC)} for i in range(30)]
    reports = [{"id": f"60000000-0000-0000-0000-{d * 100 + i:012d}",
                "enterprise_id": e["enterprise_id"], "employee_id": e["id"],
                "report_date": date(2026, 11, 10 + d), "person_hash": hashes[i],
                "stayed_home": False, "late": False, "source": "form",
                "submitted_at": datetime(2026, 11, 10 + d, 8, tzinfo=UTC)}
               for d in range(days) for i, e in enumerate(emps) if rnd.random() < 0.7]
    stops = [{"report_id": r["id"], "seq": 0, "person_hash": r["person_hash"],
              "report_date": r["report_date"], "area_code": rnd.choice(counties) + "002",
              "arrive_at": r["submitted_at"] + timedelta(hours=1), "mode": None}
             for r in reports]
    return write_lake(path, {"registrations": regs, "stays": stays, "sites": site_rows,
                             "employees": emps, "reports": reports, "report_stops": stops,
                             "enterprises": ent_rows})


def day(d: int) -> date:
    return date(2026, 11, d)


__all__ = ["BY_NAME", "SITE_A", "SITE_B", "SITE_C", "T", "day", "generated", "reg",
           "write_lake"]
