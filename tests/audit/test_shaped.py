"""Entries written by shape (audit/shaped.py) are the entries record_many writes: same
fields, same hashes, a chain `audit verify` accepts (both databases)."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from passtrace.audit import service as audit_service
from passtrace.audit import shaped
from passtrace.audit.models import AuditEntry
from passtrace.audit.verify import verify
from passtrace.core.clock import freeze, utcnow

FIELDS = (
    "actor_name",
    "action",
    "resource_type",
    "resource_id",
    "subject_person_id",
    "reason",
    "detail",
    "ip",
    "lane",
)


def _entries(session, after: int) -> list[AuditEntry]:  # type: ignore[no-untyped-def]
    return list(
        session.scalars(select(AuditEntry).where(AuditEntry.seq > after).order_by(AuditEntry.seq))
    )


def test_shaped_entries_match_record_many_field_for_field_and_verify(session) -> None:  # type: ignore[no-untyped-def]
    # A detail a COPY line must escape (tab, newline, backslash) and a reason in Chinese.
    odd = {"level": "yellow", "note": "a\tb\nc\\d", "名": "黄码"}
    shapes = [
        shaped.Shape("health.flag.raise", "status_flag", {"level": "yellow"}),
        shaped.Shape("health.flag.raise", "status_flag", odd, reason="风险区\t域"),
    ]
    rows = [(n % 2, uuid.uuid4(), uuid.uuid4()) for n in range(5)]
    freeze(utcnow())
    try:
        mark = int(
            session.scalar(select(AuditEntry.seq).order_by(AuditEntry.seq.desc()).limit(1)) or 0
        )
        assert shaped.record_shaped(session=session, actor=None, shapes=shapes, entries=rows) == 5
        session.flush()
        ours = _entries(session, mark)
        middle = ours[-1].seq
        audit_service.record_many(
            session=session,
            actor=None,
            entries=[
                {
                    "action": shapes[k].action,
                    "resource_type": shapes[k].resource_type,
                    "resource_id": rid,
                    "subject_person_id": pid,
                    "reason": shapes[k].reason,
                    "detail": shapes[k].detail,
                }
                for k, rid, pid in rows
            ],
        )
        session.flush()
        reference = _entries(session, middle)
    finally:
        freeze(None)
    session.expire_all()
    assert [e.seq for e in ours] == list(range(mark + 1, mark + 6))
    for mine, theirs in zip(ours, reference, strict=True):
        assert {f: getattr(mine, f) for f in FIELDS} == {f: getattr(theirs, f) for f in FIELDS}
        assert mine.at == theirs.at
    assert ours[1].detail == odd and ours[1].reason == "风险区\t域"
    assert ours[0].subject_person_id == rows[0][2] and ours[0].resource_id == str(rows[0][1])
    assert verify(session=session).broken is None


def test_entries_with_their_own_reasons_and_no_person_match_record_many(session) -> None:  # type: ignore[no-untyped-def]
    # An allocation's decisions: each its own explanation (quotes, a tab, Chinese, none)
    # and no person.
    shapes = [shaped.Shape("supplies.request.approved", "supply_request"),
              shaped.Shape("supplies.request.partly_approved", "supply_request")]
    reasons = ['In full: "critical" fits', "3 of 5:\t分配\\按需", None, "ok"]
    rows = [(n % 2, uuid.uuid4(), None) for n in range(4)]
    freeze(utcnow())
    try:
        mark = int(
            session.scalar(select(AuditEntry.seq).order_by(AuditEntry.seq.desc()).limit(1)) or 0
        )
        shaped.record_shaped(session=session, actor=None, shapes=shapes, entries=rows,
                             reasons=reasons)
        session.flush()
        ours = _entries(session, mark)
        audit_service.record_many(session=session, actor=None, entries=[
            {"action": shapes[k].action, "resource_type": shapes[k].resource_type,
             "resource_id": rid, "reason": why}
            for (k, rid, _), why in zip(rows, reasons, strict=True)])
        session.flush()
        reference = _entries(session, ours[-1].seq)
    finally:
        freeze(None)
    session.expire_all()
    for mine, theirs in zip(ours, reference, strict=True):
        assert {f: getattr(mine, f) for f in FIELDS} == {f: getattr(theirs, f) for f in FIELDS}
    assert [e.reason for e in ours] == reasons and ours[0].subject_person_id is None
    assert verify(session=session).broken is None
