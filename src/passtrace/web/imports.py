"""The HTTP side of spreadsheet imports (the pipeline is core/imports.py).

Every import page posts the same form (`ImportForm`: a file and "import the valid
rows"), reads the upload the same way and shows the same row report
(`templates/_import_report.html`: row, column, translated message).
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import UploadFile

from passtrace.core.i18n import gettext
from passtrace.core.imports import MAX_UPLOAD_BYTES, ImportResult, import_report, refused_rows
from passtrace.web.forms import FormModel

YES = ("yes", "true", "on", "1")


class ImportForm(FormModel):
    """An import page's form: the sheet, and whether to import the valid rows when some
    are refused (the box is named as each API names it: import_valid, partial, apply_valid)."""

    file: UploadFile | None = None
    import_valid: str = ""
    partial: str = ""
    apply_valid: str = ""

    @property
    def valid_rows(self) -> bool:
        """Whether the user ticked "import the valid rows"."""
        return any(v.strip().lower() in YES
                   for v in (self.import_valid, self.partial, self.apply_valid))

    @property
    def filename(self) -> str:
        """The uploaded file's name ("" without one)."""
        return (self.file.filename or "") if self.file is not None else ""


async def upload(file: UploadFile | None) -> bytes:
    """Read an upload up to one byte past the limit (the pipeline refuses what is larger)."""
    return await file.read(MAX_UPLOAD_BYTES + 1) if file is not None else b""


def report_context(result: ImportResult, columns: Mapping[str, object]) -> dict[str, object]:
    """What `_import_report.html` shows: the counts and one line per problem, translated.

    `columns` gives each column's label (a msgid or a lazy translation); a row with a
    harmless key (a site code) is shown with it.
    """
    def label(column: str) -> str:
        text = columns.get(column, column)
        return gettext(text) if isinstance(text, str) else str(text)

    report = import_report(result)
    return {"report": report, "refused_rows": refused_rows(result), "problems": [
        (p.row, result.labels.get(p.row, ""), label(p.column), p.message)
        for p in report.problems]}


def status(result: ImportResult) -> int:
    """200 when the import was written, 422 when nothing was."""
    return 200 if result.committed else 422
