"""The ledger and stock report as CSV/Excel: formula-safe, scoped to the officer's depots,
audited (both databases)."""

from __future__ import annotations

import csv
import io
from datetime import date

from openpyxl import load_workbook
from sqlalchemy import select

from passtrace.audit.models import AuditEntry
from passtrace.core.i18n import set_locale
from passtrace.supplies import export, service
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


def test_the_ledger_export_keeps_to_its_days_and_depots(session):
    set_locale("en")
    try:
        a, b, masks = depot(session), depot(session), item(session)
        stock(session, a, masks, "A", date(2027, 1, 1), 5)
        stock(session, b, masks, "B", date(2027, 1, 1), 6)
        header, rows = export.build(session=session, actor=None, report="ledger",
                                    depot_codes=[b.code])
        assert header[0] == "Time" and [(r[1], r[7], r[8]) for r in rows] == [
            (b.code, "Receipt", 6)]
        _, none = export.build(session=session, actor=None, report="ledger",
                               depot_codes=[b.code], until=date(2020, 1, 1))
        assert none == []
    finally:
        set_locale("zh_CN")
