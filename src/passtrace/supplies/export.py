"""The ledger and the stock report as CSV or Excel: formula-safe, scoped, audited.

An officer exports the depots they may see (their own depot, or depots in their areas);
the CLI without --actor exports every depot and names the OS account in the audit entry.
Headers and movement kinds are in the reader's language; cells are neutralised by
core/export (a lot number such as "=1+1" arrives as text, never as a formula).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Literal

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from passtrace.audit import service as audit_service
from passtrace.core import export as core_export
from passtrace.core.clock import LOCAL_TZ, utcnow
from passtrace.core.errors import Forbidden
from passtrace.core.i18n import N_, gettext
from passtrace.core.security import Principal
from passtrace.supplies import authz
from passtrace.supplies.models import Depot, LedgerEntry, StockBalance, SupplyItem, SupplyLot

Report = Literal["ledger", "stock"]
Format = Literal["csv", "xlsx"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_BATCH = 5000  # ledger rows per query while streaming

LEDGER_HEADER = (N_("Time"), N_("Depot code"), N_("Depot"), N_("Item"), N_("Unit"),
                 N_("Lot"), N_("Expires on"), N_("Movement"), N_("Quantity"),
                 N_("Counterparty"), N_("Reason"))
STOCK_HEADER = (N_("Depot code"), N_("Depot"), N_("Area code"), N_("Item"), N_("Unit"),
                N_("Lot"), N_("Expires on"), N_("Quantity"))
KIND_LABELS = {"receipt": N_("Receipt"), "opening": N_("Opening stock"),
               "issue": N_("Issue"), "transfer_out": N_("Transfer out"),
               "transfer_in": N_("Transfer in"), "adjustment": N_("Adjustment")}


def visible_depots(session: Session, actor: Principal | None) -> list[Depot]:
    """The depots an actor may export (all of them for the system itself), by code."""
    depots = list(session.scalars(select(Depot).order_by(Depot.code)))
    if actor is None:
        return depots
    if not (actor.has(authz.MANAGE) or actor.has(authz.REQUEST)):
        raise Forbidden("Only supplies staff may do this.")
    return [d for d in depots if authz.can_manage(actor, d) or authz.can_request(actor, d)]


def _local(at: datetime) -> str:
    return at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M:%S")


def _ledger_query(depots: list[Depot], *, since: date | None, until: date | None,
                  cutoff: datetime) -> Select[Any]:
    """The movements at these depots between two local days (inclusive), before cutoff."""
    columns: tuple[Any, ...] = (
        LedgerEntry.created_at, LedgerEntry.depot_id, SupplyItem.name, SupplyItem.unit,
        SupplyLot.lot_number, SupplyLot.expires_on, LedgerEntry.kind, LedgerEntry.quantity,
        LedgerEntry.counterparty, LedgerEntry.reason)
    stmt = (select(*columns)
            .join(SupplyItem, SupplyItem.id == LedgerEntry.item_id)
            .join(SupplyLot, SupplyLot.id == LedgerEntry.lot_id)
            .where(LedgerEntry.depot_id.in_([d.id for d in depots]),
                   LedgerEntry.created_at < cutoff))
    if since is not None:
        stmt = stmt.where(LedgerEntry.created_at >= datetime.combine(since, time(), LOCAL_TZ))
    if until is not None:
        stmt = stmt.where(LedgerEntry.created_at < datetime.combine(
            until + timedelta(days=1), time(), LOCAL_TZ))
    return stmt


def ledger_batches(session: Session, depots: list[Depot], *, since: date | None = None,
                   until: date | None = None, cutoff: datetime | None = None,
                   kinds: Mapping[str, str] | None = None) -> Iterator[list[list[Any]]]:
    """Every movement at these depots, oldest first, EXPORT_BATCH rows at a time.

    One query whose rows arrive as the file is written (a server-side cursor on
    PostgreSQL, SQLite's lazy cursor), plain columns rather than ORM objects: a
    million-row ledger never sits in memory, and it is sorted once (keyset pages would
    sort the whole ledger again for every page: there is no index on time alone). The
    web view writes the file out before sending it (core/export.spooled), so the read
    never lasts as long as a download. `kinds`: the movement labels, translated by the
    caller.
    """
    by_id = {d.id: d for d in depots}
    kinds = kinds if kinds is not None else kind_labels()
    stmt = (_ledger_query(depots, since=since, until=until, cutoff=cutoff or utcnow())
            .order_by(LedgerEntry.created_at, LedgerEntry.id)
            .execution_options(stream_results=True, yield_per=EXPORT_BATCH))
    for batch in session.execute(stmt).partitions():
        yield [[_local(at), by_id[depot].code, by_id[depot].name, item, unit, lot,
                expires.isoformat(), kinds.get(kind, kind), quantity, counterparty, reason]
               for at, depot, item, unit, lot, expires, kind, quantity, counterparty, reason
               in batch]


def kind_labels() -> dict[str, str]:
    """The movement kinds in the current language."""
    return {k: gettext(v) for k, v in KIND_LABELS.items()}


def stock_rows(session: Session, depots: list[Depot]) -> list[list[Any]]:
    """What each depot holds, lot by lot (depot, item, earliest expiry first)."""
    by_id = {d.id: d for d in depots}
    stmt = (select(StockBalance, SupplyItem, SupplyLot)
            .join(SupplyItem, SupplyItem.id == StockBalance.item_id)
            .join(SupplyLot, SupplyLot.id == StockBalance.lot_id)
            .where(StockBalance.depot_id.in_(list(by_id)), StockBalance.quantity > 0))
    found = sorted(session.execute(stmt).all(),
                   key=lambda r: (by_id[r[0].depot_id].code, r[1].name, r[2].expires_on,
                                  r[2].lot_number))
    return [[by_id[b.depot_id].code, by_id[b.depot_id].name, by_id[b.depot_id].area_code,
             item.name, item.unit, lot.lot_number, lot.expires_on.isoformat(), b.quantity]
            for b, item, lot in found]


@dataclass(frozen=True)
class Prepared:
    """A report ready to stream: its header, its row count (audited), and its rows read
    a batch at a time in a session of the caller's (the request's has committed by then)."""

    header: list[str]
    count: int
    batches: Callable[[Session], Iterator[list[list[Any]]]]


def prepare(*, session: Session, actor: Principal | None, report: Report,
            depot_codes: list[str] | None = None, since: date | None = None,
            until: date | None = None,
            audit_extra: Mapping[str, Any] | None = None) -> Prepared:
    """A report over the actor's depots (or the named ones among them); one audit entry
    names the report, the depots and the row count.

    The ledger's rows are counted now and streamed later: both stop at this moment
    (`cutoff`), so movements recorded while the file streams do not make it disagree
    with its audit entry. (A movement whose transaction is still open at the count and
    stamped before the cutoff can still appear in the file only; the ledger's writes are
    one short transaction each, so that is a matter of milliseconds.)
    """
    depots = visible_depots(session, actor)
    if depot_codes:
        wanted = set(depot_codes)
        depots = [d for d in depots if d.code in wanted]
    header: tuple[str, ...]
    batches: Callable[[Session], Iterator[list[list[Any]]]]
    if report == "ledger":
        cutoff, kinds = utcnow(), kind_labels()
        count = session.scalar(select(func.count()).select_from(
            _ledger_query(depots, since=since, until=until, cutoff=cutoff).subquery())) or 0

        def batches(s: Session) -> Iterator[list[list[Any]]]:
            return ledger_batches(s, depots, since=since, until=until, cutoff=cutoff,
                                  kinds=kinds)
        header = LEDGER_HEADER
    else:
        rows = stock_rows(session, depots)  # one row per depot and lot: small
        count, header = len(rows), STOCK_HEADER

        def batches(s: Session) -> Iterator[list[list[Any]]]:
            return iter([rows] if rows else [])
    audit_service.record(session=session, actor=actor, action=f"supplies.export.{report}",
                         resource_type="supply_depot",
                         detail={"rows": count, "depots": [d.code for d in depots],
                                 "since": since.isoformat() if since else None,
                                 "until": until.isoformat() if until else None,
                                 **(audit_extra or {})})
    return Prepared([gettext(h) for h in header], count, batches)


def chunks(fmt: Format, header: list[str], batches: Iterator[list[list[Any]]],
           report: Report) -> Iterator[bytes]:
    """The file's bytes, formula-safe (core/export), as the batches arrive."""
    if fmt == "xlsx":
        return core_export.xlsx_chunks(header, (row for batch in batches for row in batch),
                                       title=report)
    return core_export.csv_batched_chunks(header, batches)
