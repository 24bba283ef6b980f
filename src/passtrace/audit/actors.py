"""Who did something, as a person reading their own history should see it.

An audit entry keeps the actor's login name (for the chain and for oversight); people
see a role and an office instead ("防控官员 · 南明区"), never a login name. The names of
offices live in higher domains, so they register a describer here (passtrace.wiring).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Iterable
from typing import Protocol

from sqlalchemy.orm import Session

from passtrace.core.i18n import gettext

Describer = Callable[[Session, Collection[uuid.UUID]], dict[uuid.UUID, str]]
_DESCRIBERS: dict[str, Describer] = {}


class HasActor(Protocol):
    """An audit entry, or anything with its actor's user id (read only)."""

    @property
    def actor_user_id(self) -> uuid.UUID | None:
        """The acting user (None: the system)."""


def register_describer(name: str, describer: Describer) -> None:
    """Plug in what turns user ids into "role · office" labels (idempotent per name)."""
    _DESCRIBERS[name] = describer


def labels(*, session: Session, entries: Iterable[HasActor]) -> Callable[[HasActor], str]:
    """Describe the actors of many entries in one round trip; return a lookup per entry."""
    ids = {e.actor_user_id for e in entries if e.actor_user_id is not None}
    found: dict[uuid.UUID, str] = {}
    for describe in _DESCRIBERS.values():
        found.update(describe(session, ids) if ids else {})

    def label(entry: HasActor) -> str:
        if entry.actor_user_id is None:
            return gettext("The system")
        return found.get(entry.actor_user_id) or gettext("Staff")

    return label
