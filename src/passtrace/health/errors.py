"""Refusals the health pages and API explain."""

from __future__ import annotations

from passtrace.core.errors import NotFound


class PersonNotFound(NotFound):
    """No such person, or one the caller has no authority over (never tell which)."""

    def __init__(self) -> None:
        super().__init__("No such person.")
