"""The ledger and the stock report as CSV or Excel: formula-safe, scoped, audited.

An officer exports the depots they may see (their own depot, or depots in their areas);
the CLI without --actor exports every depot and names the OS account in the audit entry.
Headers and movement kinds are in the reader's language; cells are neutralised by
core/export (a lot number such as "=1+1" arrives as text, never as a formula).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, datetime, time, timedelta
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from passtrace.audit import service as audit_service
from passtrace.core import export as core_export
from passtrace.core.clock import LOCAL_TZ
from passtrace.core.errors import Forbidden
from passtrace.core.i18n import N_, gettext
from passtrace.core.security import Principal
from passtrace.supplies import authz
from passtrace.supplies.models import Depot, LedgerEntry, StockBalance, SupplyItem, SupplyLot

Report = Literal["ledger", "stock"]
Format = Literal["csv", "xlsx"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

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


def ledger_rows(session: Session, depots: list[Depot], *, since: date | None = None,
                until: date | None = None) -> list[list[Any]]:
    """Every movement at these depots, oldest first, between two local days (inclusive)."""
    by_id = {d.id: d for d in depots}
    stmt = (select(LedgerEntry, SupplyItem, SupplyLot)
            .join(SupplyItem, SupplyItem.id == LedgerEntry.item_id)
            .join(SupplyLot, SupplyLot.id == LedgerEntry.lot_id)
            .where(LedgerEntry.depot_id.in_(list(by_id)))
            .order_by(LedgerEntry.created_at, LedgerEntry.id))
    if since is not None:
        stmt = stmt.where(LedgerEntry.created_at >= datetime.combine(since, time(), LOCAL_TZ))
    if until is not None:
        stmt = stmt.where(LedgerEntry.created_at < datetime.combine(
            until + timedelta(days=1), time(), LOCAL_TZ))
    rows: list[list[Any]] = []
    for e, item, lot in session.execute(stmt):
        d = by_id[e.depot_id]
        rows.append([_local(e.created_at), d.code, d.name, item.name, item.unit,
                     lot.lot_number, lot.expires_on.isoformat(),
                     gettext(KIND_LABELS.get(e.kind, e.kind)), e.quantity, e.counterparty,
                     e.reason])
    return rows


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


def build(*, session: Session, actor: Principal | None, report: Report,
          depot_codes: list[str] | None = None, since: date | None = None,
          until: date | None = None,
          audit_extra: Mapping[str, Any] | None = None) -> tuple[list[str], list[list[Any]]]:
    """The header and rows of a report over the actor's depots (or the named ones among
    them); one audit entry names the report, the depots and the row count."""
    depots = visible_depots(session, actor)
    if depot_codes:
        wanted = set(depot_codes)
        depots = [d for d in depots if d.code in wanted]
    header: tuple[str, ...]
    if report == "ledger":
        header, rows = LEDGER_HEADER, ledger_rows(session, depots, since=since, until=until)
    else:
        header, rows = STOCK_HEADER, stock_rows(session, depots)
    audit_service.record(session=session, actor=actor, action=f"supplies.export.{report}",
                         resource_type="supply_depot",
                         detail={"rows": len(rows), "depots": [d.code for d in depots],
                                 "since": since.isoformat() if since else None,
                                 "until": until.isoformat() if until else None,
                                 **(audit_extra or {})})
    return [gettext(h) for h in header], rows


def chunks(fmt: Format, header: list[str], rows: list[list[Any]],
           report: Report) -> Iterator[bytes]:
    """The file's bytes, formula-safe (core/export)."""
    if fmt == "xlsx":
        return core_export.xlsx_chunks(header, rows, title=report)
    return core_export.csv_chunks(header, rows)
