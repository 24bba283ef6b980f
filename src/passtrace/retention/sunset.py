"""End of a deployment: keep aggregate statistics, delete every personal record and key.

What Singapore did with SafeEntry data in 2023. `passtrace sunset --confirm` first writes
aggregate counts (per day, site kind and area; nothing about any one person) to a file,
then deletes, table by table in short batches, everything except the places and
organisations (areas, sites, compounds and their buildings and flats, enterprises and
departments), the aggregate daily report counts and the audit log.

The audit log is kept whole: it is append-only and chained, and it is the record of who
processed whose data. After the sunset its entries name people only by a random id that
no longer resolves to anyone (the people table and the encryption keys are gone), and
each deletion batch adds a receipt (`sunset.delete`) to the chain, in the transaction of
the deletion it describes, so `passtrace audit verify` covers them; a last receipt
(`sunset.complete`) holds the totals and the statistics file's SHA-256.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Table, delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from passtrace.audit import chain
from passtrace.audit import service as audit
from passtrace.communities.deliveries.models import Delivery
from passtrace.communities.visits.models import Visit
from passtrace.core.clock import LOCAL_TZ, utcnow
from passtrace.core.db import Base
from passtrace.core.ids import uuid7
from passtrace.passes.models import Pass
from passtrace.people.models import Person
from passtrace.registrations.models import Registration
from passtrace.reports.models import DailyReport
from passtrace.sites.models import Site

# Places, organisations and aggregates: no person in them. Everything else goes.
KEPT = frozenset({"areas", "sites", "devices", "communities", "community_buildings",
                  "households", "enterprises", "departments", "report_day_counts",
                  "audit_entries", "alembic_version"})
DELETE_ACTION = "sunset.delete"
COMPLETE_ACTION = "sunset.complete"
BATCH = 1000


def doomed_tables() -> list[Table]:
    """The tables the sunset empties, children before parents (of every table the caller
    registered: entry points import `passtrace.models`)."""
    return [t for t in reversed(Base.metadata.sorted_tables) if t.name not in KEPT]


def counts(*, session: Session) -> dict[str, int]:
    """Rows each doomed table holds now (what `sunset` without --confirm prints)."""
    return {t.name: int(session.scalar(select(func.count()).select_from(t)) or 0)
            for t in doomed_tables()}


def _day(moment: Any) -> str:
    return moment.astimezone(LOCAL_TZ).date().isoformat()


def statistics(*, session: Session) -> dict[str, Any]:
    """Aggregate counts only: per local day, site kind and area; per day and purpose."""
    sites = {sid: (kind, area) for sid, kind, area in session.execute(
        select(Site.id, Site.kind, Site.area_code))}
    regs: Counter[tuple[str, str, str, str, str]] = Counter()
    rows = session.execute(select(Registration.occurred_at, Registration.site_id,
                                  Registration.direction, Registration.decision)
                           .execution_options(yield_per=5000))
    for at, site_id, direction, decision in rows:
        kind, area = sites.get(site_id, ("unknown", ""))
        regs[(_day(at), kind, area, direction, decision)] += 1
    passes: Counter[tuple[str, str, str]] = Counter(
        (_day(at), purpose, status) for at, purpose, status in session.execute(
            select(Pass.created_at, Pass.purpose, Pass.status)))
    reports = Counter(str(d) for d in session.scalars(select(DailyReport.report_date)))
    visits = Counter(str(d) for d in session.scalars(select(Visit.visit_date)))
    deliveries = Counter(_day(at) for at in session.scalars(select(Delivery.created_at)))
    return {
        "generated_at": utcnow().isoformat(),
        "people": int(session.scalar(select(func.count()).select_from(Person)) or 0),
        "registrations": [
            {"day": d, "site_kind": k, "area": a, "direction": dr, "decision": dc, "count": n}
            for (d, k, a, dr, dc), n in sorted(regs.items())],
        "passes": [{"day": d, "purpose": p, "status": s, "count": n}
                   for (d, p, s), n in sorted(passes.items())],
        "daily_reports": [{"day": d, "count": n} for d, n in sorted(reports.items())],
        "visits": [{"day": d, "count": n} for d, n in sorted(visits.items())],
        "deliveries": [{"day": d, "count": n} for d, n in sorted(deliveries.items())],
    }


def write_statistics(path: Path, stats: dict[str, Any]) -> str:
    """Write the statistics readable by their owner only (never over a file); its SHA-256."""
    body = json.dumps(stats, ensure_ascii=False, indent=1).encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(body)
    return hashlib.sha256(body).hexdigest()


def delete_batch(*, session: Session, table: Table, run_id: uuid.UUID) -> int:
    """Delete up to BATCH rows of `table` with their receipt; how many went."""
    # One writer of the chain at a time (and so one sunset batch at a time).
    chain.lock_head(session)
    pk = list(table.primary_key.columns)
    if len(pk) == 1:
        ids = list(session.scalars(select(pk[0]).limit(BATCH)))
        if not ids:
            return 0
        session.execute(delete(table).where(pk[0].in_(ids)))
        n = len(ids)
    else:  # composite keys: small tables, one statement
        n = int(session.scalar(select(func.count()).select_from(table)) or 0)
        if not n:
            return 0
        session.execute(delete(table))
    audit.record(session=session, actor=None, action=DELETE_ACTION, resource_type="sunset",
                 resource_id=table.name,
                 detail={"table": table.name, "rows": n, "run_id": str(run_id)})
    return n


@dataclass
class SunsetReport:
    """What a sunset deleted, per table, and its receipts."""

    run_id: uuid.UUID
    deleted: dict[str, int] = field(default_factory=dict)
    receipts: int = 0


def _batches(sessions: sessionmaker[Session], table: Table,
             run_id: uuid.UUID) -> Iterator[int]:
    while True:
        with sessions() as session:
            n = delete_batch(session=session, table=table, run_id=run_id)
            session.commit()
        if n == 0:
            return
        yield n


def run(*, sessions: sessionmaker[Session], stats_sha256: str, destroyed: list[str],
        progress: Callable[[str, int], None] | None = None) -> SunsetReport:
    """Delete every doomed table, batch by batch, each batch committed with its receipt."""
    report = SunsetReport(run_id=uuid7())
    for table in doomed_tables():
        total = 0
        for n in _batches(sessions, table, report.run_id):
            total += n
            report.receipts += 1
            if progress is not None:
                progress(table.name, n)
        report.deleted[table.name] = total
    with sessions() as session:
        audit.record(session=session, actor=None, action=COMPLETE_ACTION,
                     resource_type="sunset", resource_id=str(report.run_id),
                     detail={"deleted": report.deleted, "statistics_sha256": stats_sha256,
                             "key_files_destroyed": destroyed, "run_id": str(report.run_id)})
        session.commit()
    report.receipts += 1
    return report
