"""Safe, streamed exports: CSV and Excel (.xlsx, write-only) in constant memory.

Any text cell a spreadsheet could read as a formula (starting with = + - @, or a
tab / carriage return that some importers strip first) gets a leading apostrophe.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CHUNK = 64 * 1024
# Where a cell can begin in csv.writer's output (the start of a batch, after a comma,
# after a line end), optionally opened by a quote, followed by a formula start. A
# match may be a false alarm (a newline inside a quoted cell); a risky cell can
# never go unmatched.
_RISKY_CELL = re.compile("(?:^|[,\n])\"?[" + re.escape("".join(FORMULA_STARTS)) + "]")


def neutralise(value: Any) -> Any:
    """Defuse a text value a spreadsheet would evaluate; other types pass through."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(row: Sequence[Any]) -> list[Any]:
    """Neutralise every cell of a row."""
    return [neutralise(v) for v in row]


def csv_chunks(header: Sequence[str], rows: Iterable[Sequence[Any]], *,
               bom: bool = True) -> Iterator[bytes]:
    """Yield UTF-8 CSV (with a BOM so Excel reads Chinese) in ~64 KiB chunks."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    if bom:
        buf.write("\ufeff")
    writer.writerow(safe_row(header))
    for row in rows:
        writer.writerow(safe_row(row))
        if buf.tell() >= CHUNK:
            yield buf.getvalue().encode("utf-8")
            buf.seek(0)
            buf.truncate()
    if buf.tell():
        yield buf.getvalue().encode("utf-8")


def csv_batched_chunks(header: Sequence[str], batches: Iterable[Sequence[Sequence[Any]]], *,
                       bom: bool = True) -> Iterator[bytes]:
    """Like csv_chunks, for rows arriving in batches (e.g. from a database cursor).

    Each batch is written in one call and yielded as one chunk; only a batch whose
    output could hold a risky cell is written again with every cell passed through
    `neutralise`, so clean data costs one regular-expression scan, not a function
    call per cell.
    """
    buf = io.StringIO()
    writer = csv.writer(buf)
    if bom:
        buf.write("\ufeff")
    writer.writerow(safe_row(header))
    yield buf.getvalue().encode("utf-8")
    for batch in batches:
        buf.seek(0)
        buf.truncate()
        writer.writerows(batch)
        text = buf.getvalue()
        if _RISKY_CELL.search(text):
            buf.seek(0)
            buf.truncate()
            writer.writerows([safe_row(row) for row in batch])
            text = buf.getvalue()
        if text:
            yield text.encode("utf-8")


def xlsx_chunks(header: Sequence[str], rows: Iterable[Sequence[Any]], *,
                title: str = "export",
                on_saved: Callable[[], None] | None = None) -> Iterator[bytes]:
    """Yield an .xlsx built with openpyxl's write-only mode (rows never held in memory)."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    def clean(row: Sequence[Any]) -> list[Any]:
        # Control characters are not allowed in the XML: drop them.
        return [ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v
                for v in safe_row(row)]

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=title[:31] or "export")
    ws.append(clean(header))
    for row in rows:
        ws.append(clean(row))
    with tempfile.TemporaryFile(suffix=".xlsx") as fh:
        wb.save(fh)
        if on_saved:
            on_saved()
        fh.seek(0)
        while chunk := fh.read(CHUNK):
            yield chunk


# A spooled export past this many bytes moves from memory to a temporary file (a
# million-row ledger is ~100 MB of CSV); it is sent on in blocks of SPOOL_BLOCK.
SPOOL_IN_MEMORY = 8 * 1024 * 1024
SPOOL_BLOCK = 64 * 1024


def spooled(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Write every chunk out now, then give an iterator that sends the file on.

    For an export read from the database: streamed straight to the client, its read
    would last as long as the download, holding a pooled connection and an open
    snapshot all that time (thirty stalled downloads use up the pool; one holds back
    VACUUM, or SQLite's WAL checkpoint). Call it while the session is open, close the
    session, and hand the result to the response.
    """
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115 - closed by send()
    try:
        for chunk in chunks:
            spool.write(chunk)
        spool.seek(0)
    except BaseException:
        spool.close()
        raise

    def send() -> Iterator[bytes]:
        try:
            while block := spool.read(SPOOL_BLOCK):
                yield block
        finally:
            spool.close()

    return send()
