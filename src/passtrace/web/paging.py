"""The query parameters every paged API list takes: `cursor` and a capped `limit`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from passtrace.core.pagination import CURSOR_MAX_LENGTH, DEFAULT_LIMIT, MAX_LIMIT

__all__ = ["DEFAULT_LIMIT", "Cursor", "Limit"]

Cursor = Annotated[str | None, Query(
    max_length=CURSOR_MAX_LENGTH,
    description="The `next` of the previous page; omit for the first page.")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page.")]
