"""The ledger and stock report as CSV/Excel: formula-safe, scoped to the officer's depots,
audited (both databases)."""

from __future__ import annotations

import csv
import io
from datetime import date

from openpyxl import load_workbook
from sqlalchemy import select

from passtrace.audit.models import AuditEntry
from passtrace.core.clock import LOCAL_TZ
from passtrace.core.export import csv_chunks
from passtrace.core.i18n import gettext, set_locale
from passtrace.supplies import export, service
from passtrace.supplies.models import LedgerEntry, SupplyItem, SupplyLot
from tests.supplies.helpers import depot, item, stock


def _rows(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_the_officer_exports_their_depots_formula_safe(client, make_persona, session):
    officer = make_persona("supplies_officer", "area", "520111")
    mine, theirs = depot(session, area_code="520111"), depot(session, area_code="520112")
    masks = item(session)
    stock(session, mine, masks, "=HYPERLINK(\"http://x\")", date(2027, 6, 30), 50)
    stock(session, theirs, masks, "THEIRS", date(2027, 6, 30), 7)
    service.issue(session=session, actor=None, depot_id=mine.id, item_id=masks.id,
                  quantity=20, consumer="+86 卡口")
    session.commit()
    resp = client.get("/api/v1/supplies/export/ledger", headers=officer.headers)
    assert resp.status_code == 200, resp.text
    header, *rows = _rows(resp.content)
    assert header[:3] == ["时间", "库点编码", "库点"]
    assert [(r[1], r[5], r[7], r[8], r[9]) for r in rows] == [
        (mine.code, "'=HYPERLINK(\"http://x\")", "入库", "50", "红十字会"),
        (mine.code, "'=HYPERLINK(\"http://x\")", "出库", "-20", "'+86 卡口")]
    resp = client.get("/api/v1/supplies/export/stock?format=xlsx", headers=officer.headers)
    assert resp.status_code == 200
    sheet = load_workbook(io.BytesIO(resp.content)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[1:] == [[mine.code, mine.name, "520111", masks.name, "只",
                           "'=HYPERLINK(\"http://x\")", "2027-06-30", 30]]
    entries = session.scalars(select(AuditEntry).where(
        AuditEntry.action.in_(["supplies.export.ledger", "supplies.export.stock"]))
        .order_by(AuditEntry.id)).all()
    assert [(e.action, e.detail["rows"], e.detail["depots"]) for e in entries] == [
        ("supplies.export.ledger", 2, [mine.code]), ("supplies.export.stock", 1, [mine.code])]
    assert client.get("/api/v1/supplies/export/stock?format=pdf",
                      headers=officer.headers).status_code == 422
    public = make_persona("public")
    assert client.get("/api/v1/supplies/export/stock",
                      headers=public.headers).status_code == 403


def _ledger(session, depots, **filters):  # type: ignore[no-untyped-def]
    prepared = export.prepare(session=session, actor=None, report="ledger",
                              depot_codes=depots, **filters)
    return prepared.header, [row for batch in prepared.batches(session) for row in batch]


def test_the_ledger_export_keeps_to_its_days_and_depots(session):
    set_locale("en")
    try:
        a, b, masks = depot(session), depot(session), item(session)
        stock(session, a, masks, "A", date(2027, 1, 1), 5)
        stock(session, b, masks, "B", date(2027, 1, 1), 6)
        header, rows = _ledger(session, [b.code])
        assert header[0] == "Time" and [(r[1], r[7], r[8]) for r in rows] == [
            (b.code, "Receipt", 6)]
        _, none = _ledger(session, [b.code], until=date(2020, 1, 1))
        assert none == []
    finally:
        set_locale("zh_CN")


def _in_memory_csv(session, depots) -> bytes:  # type: ignore[no-untyped-def]
    """The ledger CSV as the export built it before it streamed: every row in one list,
    then csv_chunks (kept here as the reference the streamed file must equal)."""
    by_id = {d.id: d for d in depots}
    stmt = (select(LedgerEntry, SupplyItem, SupplyLot)
            .join(SupplyItem, SupplyItem.id == LedgerEntry.item_id)
            .join(SupplyLot, SupplyLot.id == LedgerEntry.lot_id)
            .where(LedgerEntry.depot_id.in_(list(by_id)))
            .order_by(LedgerEntry.created_at, LedgerEntry.id))
    rows = [[e.created_at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M:%S"),
             by_id[e.depot_id].code, by_id[e.depot_id].name, item.name, item.unit,
             lot.lot_number, lot.expires_on.isoformat(),
             gettext(export.KIND_LABELS.get(e.kind, e.kind)), e.quantity, e.counterparty,
             e.reason] for e, item, lot in session.execute(stmt)]
    header = [gettext(h) for h in export.LEDGER_HEADER]
    return b"".join(csv_chunks(header, rows))


def test_the_streamed_ledger_equals_the_file_built_in_memory(client, make_persona, session,
                                                            monkeypatch):
    # Batches of 2 over 6 movements: rows split across batches must neither skip nor
    # repeat, and formula cells in any batch are still neutralised.
    monkeypatch.setattr(export, "EXPORT_BATCH", 2)
    officer = make_persona("supplies_officer", "area", "520111")
    mine, other = depot(session, area_code="520111"), depot(session, area_code="520111")
    masks = item(session)
    stock(session, mine, masks, "=1+1", date(2027, 6, 30), 50)
    stock(session, other, masks, "L-2", date(2027, 7, 31), 9)
    for n, consumer in enumerate(["@卡口", "社区医院", "-1", "+86 卡口"]):
        service.issue(session=session, actor=None, depot_id=mine.id, item_id=masks.id,
                      quantity=n + 1, consumer=consumer)
    # The first issue shares its time with the first batch's last row (the other depot's
    # receipt, written just before it): a tie across a batch boundary, ordered by id.
    entries = session.scalars(select(LedgerEntry).where(
        LedgerEntry.depot_id.in_([mine.id, other.id])).order_by(LedgerEntry.created_at)).all()
    entries[2].created_at = entries[1].created_at
    session.commit()
    resp = client.get("/api/v1/supplies/export/ledger", headers=officer.headers)
    assert resp.status_code == 200, resp.text
    expected = _in_memory_csv(session, sorted([mine, other], key=lambda d: d.code))
    assert len(_rows(expected)) == 7  # the header and six movements
    assert resp.content == expected
    entry = session.scalars(select(AuditEntry).where(
        AuditEntry.action == "supplies.export.ledger").order_by(AuditEntry.id.desc())).first()
    assert entry is not None and entry.detail["rows"] == 6
