"""Read a staff list: CSV (UTF-8 or GBK, as Excel saves it) or Excel .xlsx.

Headers may be Chinese (部门/姓名/身份证号/手机号/工号) or English; blank lines are
skipped; each row keeps its sheet row number for the error report.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field

from passtrace.core.errors import ValidationFailed

MAX_ROWS = 20_000
COLUMNS = ("department", "name", "id_number", "phone", "employee_no")
REQUIRED = ("department", "name", "id_number")
_ALIASES = {
    "department": ("部门", "部门名称", "所属部门", "department", "dept"),
    "name": ("姓名", "name", "full name"),
    "id_number": ("身份证号", "身份证号码", "身份证", "id number", "id no", "id",
                  "id card", "id card number"),
    "phone": ("手机号", "手机号码", "手机", "联系电话", "电话", "phone", "mobile",
              "mobile number", "phone number"),
    "employee_no": ("工号", "员工编号", "employee no", "employee number", "staff no",
                    "employee id"),
}


def _norm(header: str) -> str:
    return "".join(str(header).split()).lower().replace("_", "").replace(".", "")


_LOOKUP = {_norm(alias): name for name, aliases in _ALIASES.items() for alias in aliases}


@dataclass
class StaffRow:
    """One data row: sheet row number, cells by column, columns Excel stored as numbers."""

    number: int
    cells: dict[str, str]
    numeric: set[str] = field(default_factory=set)


def _cell(value: object) -> tuple[str, bool]:
    """Return a cell as text, and whether Excel stored it as a number."""
    if value is None:
        return "", False
    if isinstance(value, bool):
        return str(value), False
    if isinstance(value, int):
        return str(value), True
    if isinstance(value, float):
        return (f"{value:.0f}" if value.is_integer() else repr(value)), True
    return str(value).strip(), False


def _xlsx_rows(data: bytes) -> list[list[tuple[str, bool]]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = book.worksheets[0]
        rows = [[_cell(v) for v in row]
                for row in sheet.iter_rows(values_only=True, max_row=MAX_ROWS + 2)]
        book.close()
    except Exception:  # noqa: BLE001 - any malformed workbook is the uploader's problem
        raise ValidationFailed("The Excel file could not be opened; save it as .xlsx "
                               "or CSV.") from None
    return rows


def _csv_rows(data: bytes) -> list[list[tuple[str, bool]]]:
    text = None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    if text is None or "\x00" in text:
        raise ValidationFailed("The file is neither an Excel (.xlsx) file nor CSV text.")
    try:
        out = []
        for i, row in enumerate(csv.reader(io.StringIO(text))):
            if i > MAX_ROWS + 1:
                break
            out.append([(c.strip(), False) for c in row])
    except csv.Error:
        raise ValidationFailed("The CSV file is malformed.") from None
    return out


def read_staff(data: bytes, filename: str = "") -> list[StaffRow]:
    """Parse an uploaded staff list; raise ValidationFailed if it is unreadable."""
    if not data:
        raise ValidationFailed("The file is empty.")
    is_xlsx = data[:4] == b"PK\x03\x04" or (filename.lower().endswith(".xlsx")
                                            and zipfile.is_zipfile(io.BytesIO(data)))
    raw = _xlsx_rows(data) if is_xlsx else _csv_rows(data)
    start = 0
    while start < len(raw) and not any(text for text, _ in raw[start]):
        start += 1
    if start == len(raw):
        raise ValidationFailed("The file is empty.")
    columns = [_LOOKUP.get(_norm(text)) for text, _ in raw[start]]
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        raise ValidationFailed("The first row must name the columns 部门/department, 姓名/name "
                               "and 身份证号/ID number (手机号/phone and 工号/employee no "
                               "are optional).")
    if len(raw) - start - 1 > MAX_ROWS:
        raise ValidationFailed("At most %(n)s rows per file.", n=MAX_ROWS)
    rows = []
    for offset, raw_row in enumerate(raw[start + 1:], start=start + 2):
        cells = {name: "" for name in COLUMNS}
        numeric: set[str] = set()
        for name, (text, is_number) in zip(columns, raw_row, strict=False):
            if name is not None and not cells[name]:
                cells[name] = text
                if is_number:
                    numeric.add(name)
        if any(cells.values()):
            rows.append(StaffRow(number=offset, cells=cells, numeric=numeric))
    if not rows:
        raise ValidationFailed("The file has a header row but no staff.")
    return rows
