"""The one spreadsheet-import pipeline: sites, staff lists and household lists all go through it.

A domain supplies its row schema (`Sheet`: the columns and their header aliases, the
required ones, the values that must be unique in a file, and `check`, which turns a
sheet row into a typed candidate or records why not), a `match` against what is stored
(new, unchanged, or a conflict) and its `write` step. The pipeline does the rest, the
same way for all: read the CSV/XLSX (core/tabular, with its bounds), check every row,
report a value repeated in the file on the later row, match against the database, then
write all or nothing — or only the valid rows when the user asks — and return one row
report: row number, column, translated message.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from pydantic import BaseModel

from passtrace.core.errors import TooLarge
from passtrace.core.i18n import N_, gettext
from passtrace.core.tabular import SheetRow, read_sheet
from passtrace.core.validators import InvalidValue, validate_id_number, validate_phone

# Bigger than any real list (20,000 rows); checked before anything is parsed.
MAX_UPLOAD_BYTES = 5 * 1024 * 1024


@dataclass
class Problem:
    """One reason a row was refused: an English msgid and its values."""

    row: int
    column: str
    message: str
    params: dict[str, Any] = field(default_factory=dict)

    def translated(self) -> str:
        """Return the message in the current language."""
        return gettext(self.message, **self.params)


class Candidate(Protocol):
    """A checked row: its sheet row number (its other fields are the domain's)."""

    row: int


C = TypeVar("C", bound=Candidate)


@dataclass
class Matched(Generic[C]):
    """The valid rows after matching against what is stored: to write, or already there."""

    new: list[C] = field(default_factory=list)
    unchanged: list[C] = field(default_factory=list)


@dataclass
class ImportResult:
    """What an import did; `labels` name refused rows where the sheet has a harmless key."""

    rows: int
    valid: int
    imported: int
    unchanged: int
    committed: bool
    problems: list[Problem]
    labels: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Sheet(Generic[C]):
    """A domain's row schema: its columns and how one row becomes a candidate.

    `unique` maps a candidate attribute to the message for its second occurrence in
    the file ("The same ID number is already on row %(row)s."); `label` is a column
    that names a row in the report (a site code; never personal data); `prepare`
    looks up, in one query, what the rows refer to before they are checked.
    """

    aliases: Mapping[str, tuple[str, ...]]
    required: tuple[str, ...]
    check: Callable[[SheetRow, list[Problem]], C | None]
    unique: Mapping[str, str] = field(default_factory=dict)
    label: str | None = None
    prepare: Callable[[list[SheetRow]], None] | None = None

    def column_order(self, column: str) -> int:
        """Where a column stands, for sorting the report (unknown ones last)."""
        names = list(self.aliases)
        return names.index(column) if column in names else len(names)


def run(sheet: Sheet[C], data: bytes, filename: str, *,
        match: Callable[[list[C], list[Problem]], Matched[C]],
        write: Callable[[Matched[C], ImportResult], int],
        import_valid: bool) -> ImportResult:
    """Read, check, de-duplicate and match every row; write all or nothing unless import_valid.

    `write` gets the matched rows and the result so far (rows, problems: for its audit
    entry) and returns how many rows it imported. Raises ValidationFailed for a file
    that cannot be read (or lacks a required column), TooLarge past the upload limit.
    """
    if len(data) > MAX_UPLOAD_BYTES:
        raise TooLarge("The file is too large (at most %(mb)s MB).",
                       mb=MAX_UPLOAD_BYTES // 1_048_576)
    rows = read_sheet(data, filename, sheet.aliases, sheet.required)
    if sheet.prepare is not None:
        sheet.prepare(rows)
    problems: list[Problem] = []
    checked = [c for r in rows if (c := sheet.check(r, problems)) is not None]
    matched = match(_first_of_each(sheet, checked, problems), problems)
    problems.sort(key=lambda p: (p.row, sheet.column_order(p.column)))
    labels = {}
    if sheet.label is not None:
        refused = {p.row for p in problems}
        labels = {r.number: r.cells[sheet.label] for r in rows
                  if r.number in refused and r.cells.get(sheet.label)}
    result = ImportResult(rows=len(rows), valid=len(matched.new) + len(matched.unchanged),
                          imported=0, unchanged=len(matched.unchanged), committed=False,
                          problems=problems, labels=labels)
    if problems and not import_valid:
        return result
    result.committed = True
    result.imported = write(matched, result)
    return result


def _first_of_each(sheet: Sheet[C], checked: list[C], problems: list[Problem]) -> list[C]:
    """Drop a row whose unique value an earlier row has; the later row is the one reported."""
    seen: dict[str, dict[str, int]] = {name: {} for name in sheet.unique}
    kept: list[C] = []
    for c in checked:
        clash = next(((name, seen[name][v]) for name in sheet.unique
                      if (v := getattr(c, name)) and v in seen[name]), None)
        if clash is not None:
            problems.append(Problem(c.row, clash[0], sheet.unique[clash[0]], {"row": clash[1]}))
            continue
        for name in sheet.unique:
            if value := getattr(c, name):
                seen[name][value] = c.row
        kept.append(c)
    return kept


def refused_rows(result: ImportResult) -> int:
    """How many rows have at least one problem."""
    return len({p.row for p in result.problems})


SAME_ID_NUMBER = N_("The same ID number is already on row %(row)s.")


def person_cells(r: SheetRow, problems: list[Problem]) -> tuple[str, str, str | None]:
    """Check a row's name, ID number and (optional) phone; each failure becomes a Problem.

    Returns (name, id_number, phone) with "" / None for what failed.
    """
    cells = r.cells
    name = " ".join(cells["name"].split())
    if not name:
        problems.append(Problem(r.number, "name", N_("The name is empty.")))
    elif len(name) > 40 or any(ord(c) < 32 for c in name):
        problems.append(Problem(r.number, "name",
                                N_("Please enter the name as on the ID card (1-40 characters).")))
        name = ""
    id_number = ""
    if not cells["id_number"]:
        problems.append(Problem(r.number, "id_number", N_("The ID number is empty.")))
    else:
        try:
            id_number = validate_id_number(cells["id_number"])
        except InvalidValue as exc:
            message = exc.message
            if "id_number" in r.numeric:
                message = N_("Excel stored the ID number as a number and lost digits: format "
                             "the column as text and type it again.")
            problems.append(Problem(r.number, "id_number", message))
    phone = None
    if cells.get("phone"):
        try:
            phone = validate_phone(cells["phone"])
        except InvalidValue as exc:
            problems.append(Problem(r.number, "phone", exc.message))
    return name, id_number, phone


class ImportProblem(BaseModel):
    """One reason a row of an imported sheet was refused."""

    row: int
    column: str
    message: str


class ImportReport(BaseModel):
    """What an import did, row by row (nothing was written unless committed)."""

    rows: int
    valid: int
    imported: int
    unchanged: int
    committed: bool
    problems: list[ImportProblem]


def import_report(result: ImportResult) -> ImportReport:
    """Describe an import, messages translated."""
    return ImportReport(rows=result.rows, valid=result.valid, imported=result.imported,
                        unchanged=result.unchanged, committed=result.committed,
                        problems=[ImportProblem(row=p.row, column=p.column,
                                                message=p.translated())
                                  for p in result.problems])
