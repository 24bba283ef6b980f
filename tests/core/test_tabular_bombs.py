"""Hostile spreadsheets: a small upload must not cost a worker gigabytes or a minute."""

from __future__ import annotations

import io
import time
import tracemalloc
import zipfile

import pytest
from openpyxl import Workbook

from passtrace.core import tabular
from passtrace.core.errors import ValidationFailed

ALIASES = {"name": ("姓名",), "id_number": ("身份证号",)}


def _workbook(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _inflate_sheet(data: bytes, padding_bytes: int) -> bytes:
    """Rewrite the workbook with `padding_bytes` of whitespace inside its sheet XML."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as dst:
        for item in src.infolist():
            body = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                body = body.replace(b"<sheetData>", b"<sheetData>" + b" " * padding_bytes, 1)
            dst.writestr(item.filename, body)
    return out.getvalue()


def test_a_zip_bomb_is_refused_before_parsing_with_little_memory():
    bomb = _inflate_sheet(_workbook([["姓名", "身份证号"], ["张三", "x"]]), 200 * 1_048_576)
    assert len(bomb) < 1_048_576  # it passes the upload limit
    tracemalloc.start()
    started = time.monotonic()
    with pytest.raises(ValidationFailed) as caught:
        tabular.read_sheet(bomb, "staff.xlsx", ALIASES, ("name",))
    elapsed = time.monotonic() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert "too large once unpacked" in caught.value.message
    assert elapsed < 2 and peak < 16 * 1_048_576


def test_a_sheet_a_thousand_columns_wide_reads_only_the_first_columns():
    wide = [["姓名", "身份证号", *[f"c{i}" for i in range(2000)]],
            ["张三", "520102199001011234", *range(2000)]]
    rows = tabular.read_sheet(_workbook(wide), "staff.xlsx", ALIASES, ("name",))
    assert [r.cells["name"] for r in rows] == ["张三"]


def test_a_workbook_that_parses_too_long_is_refused(monkeypatch):
    monkeypatch.setattr(tabular, "XLSX_MAX_SECONDS", 0.0)
    data = _workbook([["姓名", "身份证号"], *[["张三", str(i)] for i in range(50)]])
    with pytest.raises(ValidationFailed) as caught:
        tabular.read_sheet(data, "staff.xlsx", ALIASES, ("name",))
    assert "took too long" in caught.value.message


def test_an_ordinary_workbook_still_reads():
    rows = tabular.read_sheet(_workbook([["姓名", "身份证号"], ["李四", "1"]]), "a.xlsx",
                              ALIASES, ("name",))
    assert [(r.number, r.cells["name"]) for r in rows] == [(2, "李四")]
