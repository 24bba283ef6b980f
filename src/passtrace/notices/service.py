"""The notifier interface: in-app notices, and a webhook adapter for SMS / WeCom gateways."""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from passtrace.core.clock import utcnow
from passtrace.core.i18n import get_locale, gettext, set_locale
from passtrace.notices.models import Notice

log = logging.getLogger("passtrace.notices")


@dataclass
class Message:
    """What to tell one user; `text` is an English msgid filled from `params`."""

    user_id: uuid.UUID
    kind: str
    text: str
    dedupe_key: str
    params: dict[str, Any] = field(default_factory=dict)
    link: str = ""


class DeliveryFailed(Exception):
    """A channel gave up on a message after its retries."""


class Notifier(Protocol):
    """A channel that delivers messages; raises DeliveryFailed when it gives up."""

    def send(self, message: Message) -> None:
        """Deliver one message."""


class InAppNotifier:
    """Store a notice the user sees on their home page; the same key twice is a no-op."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def send(self, message: Message) -> None:
        """Add the notice unless one with the same key exists."""
        exists = self.session.scalar(select(Notice.id).where(
            Notice.dedupe_key == message.dedupe_key))
        if exists is not None:
            return
        try:
            with self.session.begin_nested():
                self.session.add(Notice(user_id=message.user_id, kind=message.kind,
                                        message=message.text, params=message.params,
                                        link=message.link, dedupe_key=message.dedupe_key))
        except IntegrityError:
            pass  # another run got there first


class WebhookNotifier:
    """POST each message as JSON to a gateway, retrying with bounded exponential backoff."""

    def __init__(self, url: str, *, attempts: int = 4, backoff_s: float = 0.5,
                 max_backoff_s: float = 8.0, timeout_s: float = 5.0,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.url, self.attempts, self.backoff_s = url, attempts, backoff_s
        self.max_backoff_s, self.timeout_s, self.sleep = max_backoff_s, timeout_s, sleep
        self.last_attempts = 0

    def payload(self, message: Message) -> dict[str, Any]:
        """Build the JSON body: the text in Chinese (the gateway sends it as is)."""
        before = get_locale()
        set_locale("zh_CN")
        try:
            text = gettext(message.text, **message.params)
        finally:
            set_locale(before)
        return {"user_id": str(message.user_id), "kind": message.kind, "text": text,
                "key": message.dedupe_key, "params": message.params, "link": message.link}

    def send(self, message: Message) -> None:
        """Deliver or raise DeliveryFailed after the last attempt."""
        body = json.dumps(self.payload(message), ensure_ascii=False).encode()
        delay = self.backoff_s
        self.last_attempts = 0
        for attempt in range(1, self.attempts + 1):
            self.last_attempts = attempt
            request = urllib.request.Request(
                self.url, data=body, method="POST",
                headers={"Content-Type": "application/json; charset=utf-8",
                         "Idempotency-Key": message.dedupe_key})
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_s) as resp:  # noqa: S310
                    if 200 <= resp.status < 300:
                        return
            except urllib.error.HTTPError as exc:
                if 400 <= exc.code < 500 and exc.code not in (408, 429):
                    raise DeliveryFailed(f"gateway refused: HTTP {exc.code}") from None
                log.warning("webhook attempt %s failed: HTTP %s", attempt, exc.code)
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                log.warning("webhook attempt %s failed: %s", attempt, exc)
            if attempt < self.attempts:
                self.sleep(delay)
                delay = min(delay * 2, self.max_backoff_s)
        raise DeliveryFailed(f"gave up after {self.attempts} attempts")


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
