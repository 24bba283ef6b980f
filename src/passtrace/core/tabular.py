"""Read the spreadsheets offices already have: CSV (UTF-8 or GBK) or Excel .xlsx.

Headers are matched through an alias table, so a sheet with Chinese headers
(as a property, HR or district office exports it) and one with English headers
both work. Every row keeps its sheet row number for the error report, and
remembers which cells Excel stored as numbers (an ID number typed into Excel
silently loses its last digits that way; the caller can say so).
"""

from __future__ import annotations

import csv
import io
import time
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from passtrace.core.errors import ValidationFailed

MAX_ROWS = 20_000
# An .xlsx is a zip of XML: a 100 KB upload can inflate to gigabytes, or hold a sheet
# a million columns wide. These bounds are checked before and while parsing, so a hostile
# workbook costs at most a few seconds of one worker. Real staff and resident sheets
# (20,000 rows, about ten columns) stay far below them.
XLSX_MAX_UNCOMPRESSED = 24 * 1_048_576
XLSX_MAX_MEMBERS = 256
XLSX_MAX_COLUMNS = 64
XLSX_MAX_SECONDS = 10.0
Cell = tuple[str, bool]  # text, and whether Excel stored it as a number


@dataclass
class SheetRow:
    """One data row: its 1-based row number in the sheet and its cells by field name."""

    number: int
    cells: dict[str, str]
    numeric: set[str] = field(default_factory=set)


def normalise_header(header: str) -> str:
    """Fold a header for matching: no spaces, underscores or dots, lower case."""
    return "".join(str(header).split()).lower().replace("_", "").replace(".", "")


def _cell(value: object) -> Cell:
    if value is None:
        return "", False
    if isinstance(value, bool):
        return str(value), False
    if isinstance(value, int):
        return str(value), True
    if isinstance(value, float):
        return (f"{value:.0f}" if value.is_integer() else repr(value)), True
    return str(value).strip(), False


def _check_zip_bounds(data: bytes) -> None:
    """Refuse a workbook whose parts would inflate past the bounds, before parsing it.

    The sizes come from the zip's central directory; Python's zipfile never inflates a
    member past its declared size, so a lying directory cannot get around this check.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise ValidationFailed("The Excel file could not be opened; save it as .xlsx "
                               "or CSV.") from None
    if (len(members) > XLSX_MAX_MEMBERS
            or sum(m.file_size for m in members) > XLSX_MAX_UNCOMPRESSED):
        raise ValidationFailed("The Excel file is too large once unpacked. Save only the "
                               "sheet to import, or save it as CSV.")


def _xlsx_rows(data: bytes) -> list[list[Cell]]:
    from openpyxl import load_workbook

    _check_zip_bounds(data)
    deadline = time.monotonic() + XLSX_MAX_SECONDS
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = book.worksheets[0]
        rows = []
        for row in sheet.iter_rows(values_only=True, max_row=MAX_ROWS + 2,
                                   max_col=XLSX_MAX_COLUMNS):
            rows.append([_cell(v) for v in row])
            if time.monotonic() > deadline:
                raise TimeoutError
        book.close()
    except TimeoutError:
        raise ValidationFailed("The Excel file took too long to read. Save it as CSV and "
                               "import that.") from None
    except ValidationFailed:
        raise
    except Exception:  # noqa: BLE001 - any malformed workbook is the uploader's problem
        raise ValidationFailed("The Excel file could not be opened; save it as .xlsx "
                               "or CSV.") from None
    return rows


def _csv_rows(data: bytes) -> list[list[Cell]]:
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


def header_label(aliases: Mapping[str, tuple[str, ...]], name: str) -> str:
    """How a column is named to users: its first alias and its field name, "身份证号/id number"."""
    names = aliases.get(name, ())
    english = name.replace("_", " ")
    return f"{names[0]}/{english}" if names else english


def read_sheet(data: bytes, filename: str, aliases: Mapping[str, tuple[str, ...]],
               required: tuple[str, ...]) -> list[SheetRow]:
    """Parse a sheet whose first non-empty row is headers; map them to fields via aliases.

    Every field in `aliases` is present in each row's cells ("" when the sheet
    lacks the column). A missing required column, or no data rows, raise a
    message naming the columns the first row must have.
    """
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
    lookup = {normalise_header(alias): name for name, names in aliases.items()
              for alias in (name, *names)}
    columns = [lookup.get(normalise_header(text)) for text, _ in raw[start]]
    missing = [name for name in required if name not in columns]
    if missing:
        def labels(names: Iterable[str]) -> str:
            return ", ".join(header_label(aliases, n) for n in names)

        optional = [name for name in aliases if name not in required]
        if optional:
            raise ValidationFailed(
                "The first row lacks the column(s) %(missing)s. It must name the columns "
                "%(required)s (%(optional)s are optional).", missing=labels(missing),
                required=labels(required), optional=labels(optional))
        raise ValidationFailed("The first row lacks the column(s) %(missing)s. It must name "
                               "the columns %(required)s.", missing=labels(missing),
                               required=labels(required))
    if len(raw) - start - 1 > MAX_ROWS:
        raise ValidationFailed("At most %(n)s rows per file.", n=MAX_ROWS)
    rows = []
    for number, raw_row in enumerate(raw[start + 1:], start=start + 2):
        cells = dict.fromkeys(aliases, "")
        numeric: set[str] = set()
        for name, (text, is_number) in zip(columns, raw_row, strict=False):
            if name is not None and not cells[name]:
                cells[name] = text
                if is_number:
                    numeric.add(name)
        if any(cells.values()):
            rows.append(SheetRow(number=number, cells=cells, numeric=numeric))
    if not rows:
        raise ValidationFailed("The file has a header row but no rows to import.")
    return rows
