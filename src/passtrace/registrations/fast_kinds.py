"""Site kinds that decide on PostgreSQL's fast path too (a compound's gate).

The road checkpoint's fast path (fastpath.py) knows no site kind's rules. A kind
that can decide its own checks on the event loop registers its coroutine here
(passtrace.wiring), so registrations never imports the domain that owns the rules;
a kind with none registered takes the generic ORM path in a thread.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, Protocol

from passtrace.core.runtime import Runtime
from passtrace.core.security import Principal
from passtrace.registrations.schemas import RegistrationIn


class FastCheck(Protocol):
    """service.register for one kind, on the fast path's connections."""

    def __call__(self, fast: Any, *, rt: Runtime, actor: Principal,
                 data: RegistrationIn) -> Awaitable[Any]:
        """Check one person and return a service.Checked (committed)."""
        ...


_checks: dict[str, FastCheck] = {}


def register_fast_kind(name: str, check: FastCheck) -> None:
    """Register (or replace) the fast check of a site kind, by its provider's name."""
    _checks[name] = check


def fast_check(name: str) -> FastCheck | None:
    """The fast check registered for a site kind, if any."""
    return _checks.get(name)
