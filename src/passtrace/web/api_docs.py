"""The API's OpenAPI document and its docs page, behind login in production.

An outside reader of a production deployment learns nothing from the schema that a
logged-in user could not read; elsewhere (dev, demo, test) they stay public so a
developer can browse them.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from passtrace.web.deps import CurrentPrincipal

OPENAPI_PATH = "/api/v1/openapi.json"
DOCS_PATH = "/api/v1/docs"

router = APIRouter(include_in_schema=False)


@router.get(OPENAPI_PATH)
async def openapi_document(request: Request, _: CurrentPrincipal) -> dict[str, Any]:
    """The OpenAPI document, for logged-in users only."""
    return request.app.openapi()


@router.get(DOCS_PATH)
async def docs_page(_: CurrentPrincipal) -> HTMLResponse:
    """The interactive API docs, for logged-in users only."""
    return get_swagger_ui_html(openapi_url=OPENAPI_PATH, title="PassTrace API")
