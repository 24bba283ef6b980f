"""The reports download, shared by the API and the pages: authorize, audit, stream."""

from __future__ import annotations

import uuid
from datetime import date

from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session

from passtrace.audit import service as audit_service
from passtrace.core.export import csv_batched_chunks, spooled, xlsx_chunks
from passtrace.core.runtime import Runtime
from passtrace.core.security import Principal
from passtrace.reports import dashboard as dashboard_service
from passtrace.reports import export as export_service

# An enterprise's unified social credit code, as the download's query names it.
CREDIT = r"^[0-9A-Z]{18}$"


def stream_export(*, session: Session, rt: Runtime, principal: Principal,
                  enterprise: str, start: date, end: date, fmt: str,
                  department: uuid.UUID | None) -> StreamingResponse:
    """Authorize, audit once, then stream rows from a session of the response's own."""
    ent, allowed = dashboard_service.scope(session=session, actor=principal,
                                           enterprise_code=enterprise, department_id=department,
                                           permission="report.export")
    export_service.check_range(start, end)
    audit_service.record(session=session, actor=principal, action="report.export",
                         resource_type="enterprise", resource_id=ent.id,
                         detail={"from": start.isoformat(), "to": end.isoformat(),
                                 "format": fmt, "departments": sorted(str(d) for d in allowed)
                                 if allowed is not None else "all"})
    # Everyone in the file sees the export in their access log (one INSERT, before the
    # rows stream from a session of their own).
    audit_service.record_reads(session=session, actor=principal, action="report.export",
                               resource_type="employee", people=export_service.exported_people(
                                   session=session, enterprise=ent, start=start, end=end,
                                   departments=allowed),
                               detail={"from": start.isoformat(), "to": end.isoformat()})
    header = export_service.header()
    ent_id = ent.id

    # Written out before the first byte goes, and the session closed (core/export.spooled
    # says why a download must not hold the database).
    own = rt.sessions()
    try:
        target = own.get(type(ent), ent_id)
        assert target is not None
        batches = export_service.batches(session=own, enterprise=target, start=start,
                                         end=end, departments=allowed)
        if fmt == "xlsx":
            rows = (row for batch in batches for row in batch)
            body = spooled(xlsx_chunks(header, rows, title=f"{start}_{end}"))
        else:
            body = spooled(csv_batched_chunks(header, batches))
    finally:
        own.close()

    name = f"reports-{ent.credit_code}-{start}-{end}.{fmt}"
    media = ("text/csv; charset=utf-8" if fmt == "csv" else
             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    return StreamingResponse(body, media_type=media,
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})
