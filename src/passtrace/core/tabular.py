"""Read the spreadsheets offices already have: CSV (UTF-8 or GBK) or Excel .xlsx.

Headers are matched through an alias table so a sheet with Chinese headers
(as exported by a property or HR office) and one with English headers both
work. Every row keeps its sheet row number for the error report.
"""

from __future__ import annotations

import csv
import io
import itertools
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass

from passtrace.core.errors import ValidationFailed

MAX_ROWS = 20_000


@dataclass(frozen=True)
class SheetRow:
    """One data row: its 1-based row number in the sheet and its cells by field name."""

    number: int
    cells: dict[str, str]


def _normalise(header: str) -> str:
    return "".join(header.split()).lower().replace("_", "")


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationFailed("The file is not readable text (UTF-8 or GBK CSV, or .xlsx).")


def _raw_rows(data: bytes, filename: str) -> list[list[str]]:
    if filename.lower().endswith(".xlsx") or data[:4] == b"PK\x03\x04":
        from openpyxl import load_workbook

        try:
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError):
            raise ValidationFailed("The Excel file could not be opened.") from None
        sheet = book.worksheets[0]
        rows = [["" if v is None else str(v).strip() for v in row]
                for row in sheet.iter_rows(values_only=True, max_row=MAX_ROWS + 2)]
        book.close()
        return rows
    reader = csv.reader(io.StringIO(_decode(data)))
    try:
        rows = itertools.islice(reader, MAX_ROWS + 2)
        return [[c.strip() for c in row] for row in rows]
    except csv.Error:
        raise ValidationFailed("The CSV file is malformed.") from None


def read_sheet(data: bytes, filename: str, aliases: Mapping[str, tuple[str, ...]],
               required: tuple[str, ...]) -> list[SheetRow]:
    """Parse a sheet whose first row is headers; map them to field names via aliases."""
    rows = _raw_rows(data, filename)
    while rows and not any(rows[0]):
        rows.pop(0)
    if not rows:
        raise ValidationFailed("The file is empty.")
    lookup = {_normalise(alias): name for name, names in aliases.items()
              for alias in (name, *names)}
    columns = [lookup.get(_normalise(h)) for h in rows[0]]
    missing = [name for name in required if name not in columns]
    if missing:
        raise ValidationFailed("The header row lacks the column(s): %(columns)s.",
                               columns=", ".join(missing))
    if len(rows) - 1 > MAX_ROWS:
        raise ValidationFailed("At most %(n)s rows per file.", n=MAX_ROWS)
    out = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(row):
            continue
        cells = {name: (row[i] if i < len(row) else "")
                 for i, name in enumerate(columns) if name}
        out.append(SheetRow(number=number, cells=cells))
    return out
