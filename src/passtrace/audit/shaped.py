"""Append many audit entries that share a few shapes: the same fields but the resource,
the person and the reason (a declared county's flags: 200,000 "flag raised" entries at
once; an allocation's decisions, each with its own explanation).

`service.record_many` builds each entry's canonical JSON with `json.dumps` and COPYs it
value by value: about 110 µs an entry here, most of a declaration's client time. An
entry of a known shape differs from the shape's canonical text (audit/chain.py) only in
the previous hash, the reason, the resource id, the position and the person, which
sort in that order; so the text is cut once around five unique markers and each
entry's text is the pieces joined with its own values (as JSON: the reason and the
person may be null) (as pg_append does for one entry in SQL), and
each COPY line is a constant head and the entry's values. The hashes are the ones
`chain.entry_hash` gives (tests/audit/test_shaped.py), so `audit verify` reads them as
any other entries.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import insert
from sqlalchemy.orm import Session

from passtrace.audit import chain
from passtrace.audit.models import AuditEntry
from passtrace.audit.service import entry_fields, pg_cursor
from passtrace.core.clock import utcnow
from passtrace.core.security import Principal

_CONSTANT_COLUMNS = (
    "at",
    "actor_user_id",
    "actor_name",
    "action",
    "resource_type",
    "detail",
    "ip",
    "lane",
)
COPY_SQL = (
    f"COPY audit_entries ({', '.join(_CONSTANT_COLUMNS)}, reason, resource_id, "
    "subject_person_id, seq, prev_hash, hash) FROM STDIN"
)
NULL = "\\N"  # COPY's text for NULL
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


@dataclass(frozen=True)
class Shape:
    """What the entries of one shape share: an action on a resource type, a detail."""

    action: str
    resource_type: str
    detail: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None


def _copy_text(value: Any) -> str:
    """A value as COPY's text format writes it (NULL as \\N)."""
    if value is None:
        return NULL
    if isinstance(value, datetime):
        value = value.isoformat()
    return str(value).translate(_COPY_ESCAPES)


def _reason_forms(reason: str | None) -> tuple[bytes, str]:
    """A reason as the canonical JSON holds it and as a COPY line does."""
    # json, as chain.canonical writes it (orjson escapes a few characters otherwise).
    return json.dumps(reason, ensure_ascii=False).encode(), _copy_text(reason)


class _Template:
    """One shape's canonical text cut around the variable fields, and its COPY head."""

    def __init__(self, fields: dict[str, Any]) -> None:
        self.fields = fields
        while True:
            prev, why, rid, sid = (uuid.uuid4().hex for _ in range(4))
            seq = str(uuid.uuid4().int)
            text = chain.canonical(
                fields
                | {"reason": why, "resource_id": rid, "seq": int(seq), "subject_person_id": sid},
                prev,
            ).decode()
            # The strings are cut with their quotes: a value goes in as its JSON.
            markers = (f'"{prev}"', f'"{why}"', f'"{rid}"', seq, f'"{sid}"')
            # Markers nothing else in the entry contains, met in the expected order.
            if all(text.count(m) == 1 for m in markers) and sorted(markers, key=text.index) == list(
                markers
            ):
                break
        pieces, rest = [], text
        for marker in markers:
            head, rest = rest.split(marker)
            pieces.append(head.encode())
        pieces.append(rest.encode())
        self.pieces = pieces
        detail = orjson.dumps(fields["detail"]).decode()
        self.copy_head = "\t".join(
            _copy_text(detail if c == "detail" else fields.get(c, 0)) for c in _CONSTANT_COLUMNS
        )

    def digest(self, prev: str, reason: bytes, resource_id: str, seq: int,
               subject: str | None) -> str:
        """The entry's hash; `reason` already as JSON."""
        p = self.pieces
        return hashlib.sha256(
            b"".join(
                (
                    p[0],
                    f'"{prev}"'.encode(),
                    p[1],
                    reason,
                    p[2],
                    f'"{resource_id}"'.encode(),
                    p[3],
                    str(seq).encode(),
                    p[4],
                    f'"{subject}"'.encode() if subject is not None else b"null",
                    p[5],
                )
            )
        ).hexdigest()


def record_shaped(
    *,
    session: Session,
    actor: Principal | None,
    shapes: Sequence[Shape],
    entries: Iterable[tuple[int, uuid.UUID, uuid.UUID | None]],
    reasons: Sequence[str | None] | None = None,
) -> int:
    """Append one main-chain entry per (shape index, resource id, person id or None), in
    order; how many. `reasons`: each entry's own reason instead of its shape's. Resource
    and person ids are UUIDs (their text needs no escaping in JSON or COPY)."""
    now = utcnow()
    templates = []
    for shape in shapes:
        fields = entry_fields(
            actor, shape.action, shape.resource_type, "", shape.reason, shape.detail
        ) | {"at": now, "lane": chain.MAIN_LANE}
        templates.append(_Template(fields))
    chain.lock_head(session)
    seq, prev = chain.read_head(session)
    pg = session.get_bind().dialect.name == "postgresql"
    lines: list[str] = []
    rows: list[dict[str, Any]] = []
    shaped_reasons = [_reason_forms(shape.reason) for shape in shapes]
    for n, (kind, resource, person) in enumerate(entries):
        template = templates[kind]
        seq += 1
        rid, sid = str(resource), (str(person) if person is not None else None)
        reason = reasons[n] if reasons is not None else shapes[kind].reason
        why_json, why_copy = (
            _reason_forms(reason) if reasons is not None else shaped_reasons[kind]
        )
        digest = template.digest(prev, why_json, rid, seq, sid)
        if pg:
            lines.append(
                f"{template.copy_head}\t{why_copy}\t{rid}\t{NULL if sid is None else sid}"
                f"\t{seq}\t{prev}\t{digest}\n"
            )
        else:
            rows.append(
                template.fields
                | {
                    "reason": reason,
                    "resource_id": rid,
                    "subject_person_id": person,
                    "seq": seq,
                    "prev_hash": prev,
                    "hash": digest,
                }
            )
        prev = digest
    if not pg:
        if rows:
            session.execute(insert(AuditEntry), rows)
        return len(rows)
    session.flush()
    with pg_cursor(session) as cur, cur.copy(COPY_SQL) as copy:
        for start in range(0, len(lines), 10_000):
            copy.write("".join(lines[start : start + 10_000]))
    return len(lines)
