"""Supplies from spreadsheets: the item catalogue and a depot's opening stock.

Both go through the one import pipeline (core/imports.py) and give its row report; like
the site import they write all or nothing unless the officer asks for the valid rows.
Re-importing a file adds nothing:
- an item is keyed by its name: a row equal to the stored item is "unchanged", a row
  with other values updates the item (each change audited with before and after);
- opening stock is keyed by depot x item x lot: one "opening" ledger entry per depot x
  lot (a unique index), so a row already loaded is "unchanged" and one loaded with
  another quantity is refused (correct stock with a count, not a second opening).
Stock moves only through ledger.move, which locks the balance row.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from passtrace.audit import service as audit_service
from passtrace.core import imports
from passtrace.core.db import locked
from passtrace.core.errors import Conflict
from passtrace.core.i18n import N_
from passtrace.core.imports import ImportResult, Matched, Problem
from passtrace.core.security import Principal
from passtrace.core.tabular import SheetRow
from passtrace.core.validators import EARLIEST_DAY, LATEST_DAY
from passtrace.supplies import authz, ledger, service
from passtrace.supplies.models import CATEGORIES, Depot, LedgerEntry, SupplyItem, SupplyLot

ITEM_COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("物资名称", "名称", "item", "item name"),
    "category": ("类别", "分类", "category"),
    "unit": ("单位", "unit"),
    "pack_size": ("包装数量", "每包数量", "pack size"),
    "shelf_life_days": ("保质期天数", "保质期", "shelf life"),
    "lead_time_days": ("采购周期天数", "到货天数", "lead time"),
    "safety_days": ("安全天数", "safety days"),
}
STOCK_COLUMNS: dict[str, tuple[str, ...]] = {
    "depot": ("库点编码", "库点", "depot code", "depot"),
    "item": ("物资名称", "物资", "item", "item name"),
    "lot": ("批号", "lot", "lot number"),
    "expires_on": ("有效期至", "失效日期", "expiry", "expires on"),
    "quantity": ("数量", "期初数量", "quantity", "qty"),
}
CATEGORY_ALIASES = {"口罩": "mask", "医用口罩": "mask", "防护口罩": "respirator",
                    "N95": "respirator", "手套": "gloves", "防护服": "gown", "隔离衣": "gown",
                    "护目镜": "goggles", "消毒液": "disinfectant", "消毒用品": "disinfectant",
                    "检测试剂": "test_kit", "试剂盒": "test_kit", "体温计": "thermometer",
                    "药品": "medicine"}
OPENING = "opening"
MAX_QUANTITY = 10_000_000
# Told (rows written, rows to write) as the write goes: the CLI's progress bar.
Progress = Callable[[int, int], None]
# Item fields an import may set, with their bounds (None: no upper limit).
NUMBERS = {"pack_size": (1, 100_000), "shelf_life_days": (1, 36_500),
           "lead_time_days": (0, 365), "safety_days": (0, 365)}
DEFAULTS = {"pack_size": 1, "shelf_life_days": None, "lead_time_days": 7, "safety_days": 3}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


def clean(text: str) -> str:
    """NFKC (full-width letters and digits to ASCII), spaces collapsed, once per cell."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def whole_number(text: str) -> int | None:
    """"1,200" / "１２００" / "1200.0" (Excel) -> 1200; anything else None."""
    value = clean(text).replace(",", "")
    if value.endswith(".0"):
        value = value[:-2]
    return int(value) if value.isascii() and value.isdigit() else None


def parse_day(text: str) -> date | None:
    """2027-01-31, 2027/1/31, 2027.01.31, 2027年1月31日, 20270131, or Excel's datetime."""
    value = clean(text).split(" ")[0]
    if len(value) == 8 and value.isascii() and value.isdigit():
        value = f"{value[:4]}-{value[4:6]}-{value[6:]}"
    m = _DATE.match(value)
    if m is None:
        return None
    try:
        day = date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None
    return day if EARLIEST_DAY <= day <= LATEST_DAY else None


# --- items -------------------------------------------------------------------------------

@dataclass
class _ItemRow:
    row: int
    name: str
    values: dict[str, object]


@dataclass
class ItemImport:
    """What an item import did: the row report, and the items created and updated."""

    result: ImportResult
    created: int = 0
    updated: int = 0


def _text(r: SheetRow, column: str, limit: int, problems: list[Problem]) -> str:
    value = clean(r.cells[column])
    if not value or len(value) > limit or _CONTROL.search(value):
        problems.append(Problem(r.number, column, N_("Give 1 to %(n)s characters."),
                                {"n": limit}))
        return ""
    return value


def _check_item(r: SheetRow, problems: list[Problem]) -> _ItemRow | None:
    before = len(problems)
    name = _text(r, "name", 80, problems)
    unit = _text(r, "unit", 16, problems)
    raw = clean(r.cells["category"])
    category = CATEGORY_ALIASES.get(raw, raw.lower())
    if category not in CATEGORIES:
        problems.append(Problem(r.number, "category", N_("Unknown item category %(value)s."),
                                {"value": raw}))
    values: dict[str, object] = {"category": category, "unit": unit}
    for column, (low, high) in NUMBERS.items():
        if not clean(r.cells[column]):
            values[column] = DEFAULTS[column]
            continue
        n = whole_number(r.cells[column])
        if n is None or not low <= n <= high:
            problems.append(Problem(r.number, column, N_(
                "Give a whole number from %(low)s to %(high)s."), {"low": low, "high": high}))
        values[column] = n
    return _ItemRow(r.number, name, values) if len(problems) == before else None


def _changes(item: SupplyItem, values: dict[str, object]) -> dict[str, list[object]]:
    return {k: [getattr(item, k), v] for k, v in values.items() if getattr(item, k) != v}


def import_items(*, session: Session, actor: Principal | None, data: bytes, filename: str,
                 apply_valid: bool, progress: Progress | None = None) -> ItemImport:
    """Create or update catalogue items from CSV/Excel, keyed by name."""
    stored: dict[str, SupplyItem] = {}
    done = ItemImport(result=ImportResult(0, 0, 0, 0, False, []))

    def match(rows: list[_ItemRow], problems: list[Problem]) -> Matched[_ItemRow]:
        stored.update({i.name: i for i in session.scalars(
            select(SupplyItem).where(SupplyItem.name.in_([r.name for r in rows])))})
        matched: Matched[_ItemRow] = Matched()
        for r in rows:
            same = r.name in stored and not _changes(stored[r.name], r.values)
            (matched.unchanged if same else matched.new).append(r)
        return matched

    def write(matched: Matched[_ItemRow], result: ImportResult) -> int:
        for n, r in enumerate(matched.new, start=1):
            if progress is not None:
                progress(n, len(matched.new))
            if r.name not in stored:
                # Two imports creating one item at once: the unique name refuses the second
                # (its transaction rolls back whole; the officer re-runs it: all unchanged).
                session.add(SupplyItem(name=r.name, **r.values))
                done.created += 1
                continue
            # Two imports (or an import and an edit) changing one item at once: the row
            # lock makes the second compare with what the first wrote, so the audit holds
            # the real before and after.
            item = locked(session, SupplyItem, stored[r.name].id)
            assert item is not None  # items are never deleted
            changes = _changes(item, r.values)
            for name, (_, after) in changes.items():
                setattr(item, name, after)
            if changes:
                done.updated += 1
                audit_service.record(session=session, actor=actor,
                                     action="supplies.item.update",
                                     resource_type="supply_item", resource_id=item.id,
                                     detail={"changes": changes, "via": "import"})
        _flush_or_conflict(session)
        audit_service.record_many(session=session, actor=actor, entries=[
            {"action": "supplies.item.create", "resource_type": "supply_item",
             "resource_id": stored_id, "detail": {"via": "import"}}
            for stored_id in session.scalars(select(SupplyItem.id).where(SupplyItem.name.in_(
                [r.name for r in matched.new if r.name not in stored])))])
        audit_service.record(session=session, actor=actor, action="supplies.item.import",
                             resource_type="supply_item",
                             detail={"created": done.created, "updated": done.updated,
                                     "unchanged": len(matched.unchanged),
                                     "refused": imports.refused_rows(result)})
        return done.created + done.updated

    sheet = imports.Sheet(ITEM_COLUMNS, ("name", "category", "unit"), _check_item,
                          unique={"name": N_("The same item name is already on row %(row)s.")},
                          label="name")
    done.result = imports.run(sheet, data, filename, import_valid=apply_valid, match=match,
                              write=write)
    return done


def _flush_or_conflict(session: Session) -> None:
    """Flush; a row another import stored meanwhile becomes a translated conflict."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict("Another import stored some of these rows at the same moment. "
                       "Import the file again: rows already stored are skipped.") from None


# --- opening stock -----------------------------------------------------------------------

@dataclass
class _StockRow:
    row: int
    depot: Depot
    item: SupplyItem
    lot: str
    expires_on: date
    quantity: int


@dataclass
class _Known:
    depots: dict[str, Depot] = field(default_factory=dict)
    items: dict[str, SupplyItem] = field(default_factory=dict)


def _check_stock(r: SheetRow, known: _Known, actor: Principal | None,
                 problems: list[Problem]) -> _StockRow | None:
    before = len(problems)
    code, name = clean(r.cells["depot"]), clean(r.cells["item"])
    depot, item = known.depots.get(code), known.items.get(name)
    # A depot the actor cannot see at all (another area's) reads as unknown, as on the
    # pages and the API (404): the row report must not confirm that its code exists.
    if depot is None or (actor is not None and not authz.sees(actor, depot)):
        problems.append(Problem(r.number, "depot", N_("Unknown depot %(code)s."),
                                {"code": code}))
    elif actor is not None and not authz.can_manage(actor, depot):
        problems.append(Problem(r.number, "depot", N_(
            "The depot %(code)s is outside your scope."), {"code": code}))
    if item is None:
        problems.append(Problem(r.number, "item", N_("Unknown item %(name)s."),
                                {"name": name}))
    lot = _text(r, "lot", 40, problems)
    expires_on = parse_day(r.cells["expires_on"])
    if expires_on is None:
        problems.append(Problem(r.number, "expires_on", N_(
            "Give the expiry date as YYYY-MM-DD (between 2000 and 2099).")))
    quantity = whole_number(r.cells["quantity"])
    if quantity is None or not 1 <= quantity <= MAX_QUANTITY:
        problems.append(Problem(r.number, "quantity", N_(
            "Give the quantity as a whole number from 1 to %(max)s."), {"max": MAX_QUANTITY}))
    if len(problems) > before:
        return None
    assert depot is not None and item is not None and expires_on is not None
    assert quantity is not None
    return _StockRow(r.number, depot, item, lot, expires_on, quantity)


@dataclass
class StockImport:
    """What an opening-stock import did: the row report and the units it loaded."""

    result: ImportResult
    units: int = 0


def import_stock(*, session: Session, actor: Principal | None, data: bytes, filename: str,
                 apply_valid: bool, progress: Progress | None = None) -> StockImport:
    """Load opening stock (depot code, item name, lot, expiry, quantity) into the ledger."""
    known = _Known()
    done = StockImport(result=ImportResult(0, 0, 0, 0, False, []))

    def prepare(rows: list[SheetRow]) -> None:
        # What the rows refer to, looked up in two queries before any row is checked.
        codes = {clean(r.cells["depot"]) for r in rows}
        names = {clean(r.cells["item"]) for r in rows}
        known.depots = {d.code: d for d in session.scalars(
            select(Depot).where(Depot.code.in_(codes)))}
        known.items = {i.name: i for i in session.scalars(
            select(SupplyItem).where(SupplyItem.name.in_(names)))}

    def match(rows: list[_StockRow], problems: list[Problem]) -> Matched[_StockRow]:
        lots = {(lot.item_id, lot.lot_number): lot for lot in session.scalars(
            select(SupplyLot).where(SupplyLot.item_id.in_({r.item.id for r in rows})))}
        opened = {(e.depot_id, e.lot_id): e.quantity for e in session.scalars(
            select(LedgerEntry).where(LedgerEntry.kind == OPENING,
                                      LedgerEntry.depot_id.in_({r.depot.id for r in rows})))}
        matched: Matched[_StockRow] = Matched()
        first: dict[tuple[str, str, str], int] = {}
        for r in rows:
            key = (r.depot.code, r.item.name, r.lot)
            if key in first:
                problems.append(Problem(r.row, "lot", N_(
                    "The same depot, item and lot are already on row %(row)s."),
                    {"row": first[key]}))
                continue
            first[key] = r.row
            lot = lots.get((r.item.id, r.lot))
            if lot is not None and lot.expires_on != r.expires_on:
                problems.append(Problem(r.row, "expires_on", N_(
                    "Lot %(lot)s is already recorded with the expiry date %(day)s."),
                    {"lot": r.lot, "day": lot.expires_on.isoformat()}))
                continue
            loaded = opened.get((r.depot.id, lot.id)) if lot is not None else None
            if loaded is None:
                matched.new.append(r)
            elif loaded == r.quantity:
                matched.unchanged.append(r)
            else:
                problems.append(Problem(r.row, "quantity", N_(
                    "This lot's opening stock at this depot is already %(n)s; correct it "
                    "with a stock count."), {"n": loaded}))
        return matched

    def write(matched: Matched[_StockRow], result: ImportResult) -> int:
        for n, r in enumerate(matched.new, start=1):
            if progress is not None:
                progress(n, len(matched.new))
            lot = service.lot_for(session=session, item=r.item, lot_number=r.lot,
                                  expires_on=r.expires_on)
            # Two imports of one sheet at once: both found no opening entry above. The
            # unique index on (depot, lot) for kind "opening" refuses the second's entry.
            try:
                with session.begin_nested():
                    ledger.move(session, depot_id=r.depot.id, lot=lot, kind=OPENING,
                                quantity=r.quantity,
                                actor_id=actor.user_id if actor else None,
                                reason="opening stock import")
            except IntegrityError:
                raise Conflict("Another import stored some of these rows at the same "
                               "moment. Import the file again: rows already stored are "
                               "skipped.") from None
            done.units += r.quantity
        audit_service.record(session=session, actor=actor, action="supplies.stock.import",
                             resource_type="supply_depot",
                             detail={"rows": len(matched.new), "units": done.units,
                                     "unchanged": len(matched.unchanged),
                                     "depots": sorted({r.depot.code for r in matched.new}),
                                     "refused": imports.refused_rows(result)})
        return len(matched.new)

    sheet = imports.Sheet(STOCK_COLUMNS, tuple(STOCK_COLUMNS),
                          lambda r, problems: _check_stock(r, known, actor, problems),
                          label="depot", prepare=prepare)
    done.result = imports.run(sheet, data, filename, import_valid=apply_valid, match=match,
                              write=write)
    return done

