"""Placeholder: filled in by the communities work (see issue 4)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
