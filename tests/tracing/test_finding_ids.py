"""Finding ids stay what uuid5 made before the fast path: stored findings keep their ids."""

from __future__ import annotations

import uuid

from passtrace.tracing import verify


def test_finding_ids_are_uuid5_of_report_class_stop_and_registration() -> None:
    report = uuid.UUID("01a23cd7-f802-7b4f-b89c-0ef3fafa7b6c")
    reg = uuid.UUID("01a23cd7-f802-7c9a-a23d-2277c6124ead")
    for cls, seq, registration in (("corroborated", 1, reg), ("unobservable", 3, None),
                                   ("unreported_visit", None, reg)):
        old = uuid.uuid5(verify.NAMESPACE,
                         f"{report}/{cls}/{seq or ''}/{registration or ''}")
        assert verify.finding_id(report, cls, seq, registration) == old
        # PostgreSQL hands the ids to verify as text: the same finding, the same id.
        assert verify.finding_id(str(report), cls, seq,
                                 str(registration) if registration else None) == old
        assert old.version == 5
