"""What the tracing API and pages both show: masked persons and the contact list download."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.responses import StreamingResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from passtrace.people.models import Person
from passtrace.tracing import export as export_service
from passtrace.tracing.models import Contact

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def masked(session: Session, contacts: list[Contact]) -> dict[uuid.UUID, str]:
    """The contacts' masked ID numbers by person id, in one query."""
    ids = [c.person_id for c in contacts if c.person_id]
    if not ids:
        return {}
    return dict(session.execute(select(Person.id, Person.id_masked)
                                .where(Person.id.in_(ids))).all())


def download(fmt: str, header: list[str], rows: list[list[Any]]) -> StreamingResponse:
    """The contact list as an Excel or CSV attachment (formula-safe, core/export)."""
    if fmt == "xlsx":
        return StreamingResponse(
            export_service.xlsx_bytes(header, rows), media_type=XLSX,
            headers={"Content-Disposition": 'attachment; filename="contacts.xlsx"'})
    return StreamingResponse(export_service.csv_bytes(header, rows),
                             media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": 'attachment; filename="contacts.csv"'})
