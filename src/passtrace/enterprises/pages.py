"""Enterprise pages (placeholder while the pages are built)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/enterprises", include_in_schema=False)
