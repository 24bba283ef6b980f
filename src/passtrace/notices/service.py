"""The notifier interface: in-app notices, and gateway copies through the outbox.

Nothing here touches the network: a notifier writes rows in the caller's transaction
(a notice, an outbox message), and the job runner sends the outbox after commit.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from passtrace.core import outbox
from passtrace.core.clock import utcnow
from passtrace.core.config import Settings
from passtrace.core.db import dialect_insert
from passtrace.core.i18n import get_locale, gettext, set_locale
from passtrace.core.ids import uuid7
from passtrace.notices.models import Notice


@dataclass
class Message:
    """What to tell one user; `text` is an English msgid filled from `params`."""

    user_id: uuid.UUID
    kind: str
    text: str
    dedupe_key: str
    params: dict[str, Any] = field(default_factory=dict)
    link: str = ""


class Notifier(Protocol):
    """A channel that records a message in the caller's transaction."""

    def send(self, message: Message) -> None:
        """Record one message (the same dedupe key twice is a no-op)."""


class InAppNotifier:
    """Store a notice the user sees on their home page; the same key twice is a no-op."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def send(self, message: Message) -> None:
        """Add the notice unless one with the same key exists.

        Race: two runs noticing the same thing at once; the unique dedupe key and
        ON CONFLICT DO NOTHING keep one notice (no SELECT-then-INSERT window).
        """
        self.send_many([message])

    def send_many(self, messages: list[Message]) -> None:
        """send() for a batch, in one statement (a job telling many people)."""
        if not messages:
            return
        now = utcnow()
        if self.session.get_bind().dialect.name == "postgresql":
            _insert_unnested(self.session, now, messages)
            return
        self.session.execute(
            dialect_insert(self.session)(Notice).on_conflict_do_nothing(
                index_elements=["dedupe_key"]),
            [{"id": uuid7(), "created_at": now, "user_id": m.user_id, "kind": m.kind,
              "message": m.text, "params": m.params, "link": m.link,
              "dedupe_key": m.dedupe_key, "read_at": None} for m in messages])


def _insert_unnested(session: Session, now: datetime, messages: list[Message]) -> None:
    """PostgreSQL: the batch as one INSERT from one JSON array, with the same ON CONFLICT
    DO NOTHING. An allocation's commit tells thousands of requesters at once: an
    executemany binds every value on its own, one statement per thousand rows, and
    text arrays cost psycopg a regex per element; one json.dumps (C) does it all."""
    session.flush()
    rows = [{"id": str(uuid7()), "user_id": str(m.user_id), "kind": m.kind,
             "message": m.text, "params": m.params, "link": m.link, "key": m.dedupe_key}
            for m in messages]
    session.execute(text(
        "INSERT INTO notices (id, created_at, user_id, kind, message, params, link, "
        "dedupe_key, read_at) SELECT v.id, :at, v.user_id, v.kind, v.message, v.params, "
        "v.link, v.key, NULL FROM json_to_recordset(CAST(:rows AS json)) AS v(id uuid, "
        "user_id uuid, kind text, message text, params json, link text, key text) "
        "ON CONFLICT (dedupe_key) DO NOTHING"),
        {"at": now, "rows": json.dumps(rows, ensure_ascii=False)})


def webhook_payload(message: Message) -> dict[str, Any]:
    """The gateway's JSON: the text in Chinese (the gateway forwards it as is)."""
    before = get_locale()
    set_locale("zh_CN")
    try:
        text = gettext(message.text, **message.params)
    finally:
        set_locale(before)
    return {"user_id": str(message.user_id), "kind": message.kind, "text": text,
            "key": message.dedupe_key, "params": message.params, "link": message.link}


class WebhookOutboxNotifier:
    """Queue a copy for the notification gateway; the job runner sends it after commit."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.queued = 0

    def send(self, message: Message) -> None:
        """Enqueue under the message's own dedupe key (a re-run queues nothing new)."""
        self.send_many([message])

    def send_many(self, messages: list[Message]) -> None:
        """send() for a batch, in one statement."""
        self.queued += outbox.enqueue_many(
            session=self.session, channel="webhook",
            messages=[(f"notice:{m.dedupe_key}", webhook_payload(m)) for m in messages])


class Fanout:
    """Send each message through several notifiers."""

    def __init__(self, *notifiers: Notifier) -> None:
        self.notifiers = notifiers

    def send(self, message: Message) -> None:
        """Hand the message to every notifier."""
        for n in self.notifiers:
            n.send(message)

    def send_many(self, messages: list[Message]) -> None:
        """Hand the messages to every notifier, each in its own batch."""
        for n in self.notifiers:
            send_all(n, messages)


def send_all(notifier: Notifier, messages: list[Message]) -> None:
    """Send many messages: one statement per channel where the notifier batches."""
    many = getattr(notifier, "send_many", None)
    if many is not None:
        many(messages)
        return
    for message in messages:
        notifier.send(message)


def standard_notifier(session: Session, settings: Settings) -> Notifier:
    """In-app always; plus the webhook gateway (through the outbox) when one is configured."""
    if not settings.notify_webhook_url:
        return InAppNotifier(session)
    return Fanout(InAppNotifier(session), WebhookOutboxNotifier(session))


def unread_count(*, session: Session, user_id: uuid.UUID) -> int:
    """Count a user's unread notices."""
    return session.scalar(select(func.count()).select_from(Notice).where(
        Notice.user_id == user_id, Notice.read_at.is_(None))) or 0


def list_for(*, session: Session, user_id: uuid.UUID, limit: int = 50) -> list[Notice]:
    """List a user's notices, newest first."""
    return list(session.scalars(select(Notice).where(Notice.user_id == user_id)
                                .order_by(Notice.id.desc()).limit(limit)))


def mark_all_read(*, session: Session, user_id: uuid.UUID) -> None:
    """Mark every notice of a user read."""
    session.execute(update(Notice).where(Notice.user_id == user_id, Notice.read_at.is_(None))
                    .values(read_at=utcnow()))
