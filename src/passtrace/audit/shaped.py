"""Append many audit entries that share a few shapes: the same fields but the resource
and the person (a declared county's flags: 200,000 "flag raised" entries at once).

`service.record_many` builds each entry's canonical JSON with `json.dumps` and COPYs it
value by value: about 110 µs an entry here, most of a declaration's client time. An
entry of a known shape differs from the shape's canonical text (audit/chain.py) only in
the previous hash, the resource id, the position and the person, which sort in that
order; so the text is cut once around four unique markers and each entry's text is
the pieces joined with its own values (as pg_append does for one entry in SQL), and
each COPY line is a constant head and the entry's values. The hashes are the ones
`chain.entry_hash` gives (tests/audit/test_shaped.py), so `audit verify` reads them as
any other entries.
"""

from __future__ import annotations

import hashlib
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
    "reason",
    "detail",
    "ip",
    "lane",
)
COPY_SQL = (
    f"COPY audit_entries ({', '.join(_CONSTANT_COLUMNS)}, resource_id, "
    "subject_person_id, seq, prev_hash, hash) FROM STDIN"
)
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
        return "\\N"
    if isinstance(value, datetime):
        value = value.isoformat()
    return str(value).translate(_COPY_ESCAPES)


class _Template:
    """One shape's canonical text cut around the variable fields, and its COPY head."""

    def __init__(self, fields: dict[str, Any]) -> None:
        self.fields = fields
        while True:
            prev, rid, sid = uuid.uuid4().hex, uuid.uuid4().hex, uuid.uuid4().hex
            seq = str(uuid.uuid4().int)
            text = chain.canonical(
                fields | {"resource_id": rid, "seq": int(seq), "subject_person_id": sid}, prev
            ).decode()
            markers = (prev, rid, seq, sid)
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

    def digest(self, prev: str, resource_id: str, seq: int, subject: str) -> str:
        p = self.pieces
        return hashlib.sha256(
            b"".join(
                (
                    p[0],
                    prev.encode(),
                    p[1],
                    resource_id.encode(),
                    p[2],
                    str(seq).encode(),
                    p[3],
                    subject.encode(),
                    p[4],
                )
            )
        ).hexdigest()


def record_shaped(
    *,
    session: Session,
    actor: Principal | None,
    shapes: Sequence[Shape],
    entries: Iterable[tuple[int, uuid.UUID, uuid.UUID]],
) -> int:
    """Append one main-chain entry per (shape index, resource id, person id), in order;
    how many. Resource ids are UUIDs (their text needs no escaping in JSON or COPY)."""
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
    for kind, resource, person in entries:
        template = templates[kind]
        seq += 1
        rid, sid = str(resource), str(person)
        digest = template.digest(prev, rid, seq, sid)
        if pg:
            lines.append(f"{template.copy_head}\t{rid}\t{sid}\t{seq}\t{prev}\t{digest}\n")
        else:
            rows.append(
                template.fields
                | {
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
