"""The API contract as published: error body, error statuses, security, operation ids.

Views declare what only they know (a CSV or PNG body, an extra status a service
raises); everything that follows from how a route is built is derived here, once,
so a new route cannot forget it:

- 401/403 and the bearer/cookie security schemes when the route needs a login,
- 404 when it addresses a resource by id (in the path, or in a write's body),
- 409 and 422 when it writes (422 also whenever it takes parameters),
- 413 when it takes a body, 503 ("busy") when it uses the database,

all with the one error body `{"error": {code, message, fields}}` rendered by
web/errors.py. FastAPI's `HTTPValidationError` for 422 is replaced: the API
never answers in that shape.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field

from passtrace.web import deps

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

BEARER = "bearerAuth"
COOKIE = "cookieAuth"
SECURITY_SCHEMES = {
    BEARER: {"type": "http", "scheme": "bearer",
             "description": "A token from POST /api/v1/auth/token."},
    COOKIE: {"type": "apiKey", "in": "cookie", "name": deps.SESSION_COOKIE,
             "description": "The pages' login session; writes also need the "
                            "X-CSRF-Token header."},
}


class ErrorDetail(BaseModel):
    """What went wrong, in the request's language."""

    code: str = Field(description="Stable machine-readable reason, e.g. `not_found`, "
                                  "`invalid`, `busy`.")
    message: str = Field(description="One translated sentence a person can act on.")
    fields: dict[str, str] = Field(description="Translated message per invalid field "
                                               "(dotted path); empty when none.")


class ErrorBody(BaseModel):
    """Every error the API answers (4xx and 5xx) has this body."""

    error: ErrorDetail


ERROR_DESCRIPTIONS = {
    400: "The request cannot be handled as sent.",
    401: "No valid login (missing, expired or revoked token or session).",
    403: "Logged in, but the role or scope does not allow this (or the CSRF token "
         "is missing on a cookie-authenticated write).",
    404: "The resource does not exist, or the caller may not know that it does.",
    409: "The change clashes with stored data or the resource's current state.",
    413: "The request body is larger than the configured limit.",
    422: "Some values are not valid; `fields` says which.",
    429: "Too many attempts; wait and try again.",
    503: "The database is busy; nothing was saved. Retry after `Retry-After` seconds.",
}


ERROR_REF = "#/components/schemas/ErrorBody"


def error_response(status: int) -> dict[str, Any]:
    """An OpenAPI response entry with the error body, for `responses=`."""
    return {"description": ERROR_DESCRIPTIONS[status],
            "content": {"application/json": {"schema": {"$ref": ERROR_REF}}}}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Extra error statuses a view declares beyond the derived ones."""
    return {status: error_response(status) for status in statuses}


def files(description: str, *media_types: str) -> dict[int | str, dict[str, Any]]:
    """Declare a 200 answer that is a file (CSV, XLSX, PNG, SVG), not JSON."""
    schema = {"type": "string", "format": "binary"}
    return {200: {"description": description,
                  "content": {m: {"schema": schema} for m in media_types}}}


def operation_id(route: APIRoute) -> str:
    """Name an operation `<area>_<function>` (e.g. `passes_mine`), stable across releases.

    The area is the domain package. Visits and deliveries (communities/visits,
    communities/deliveries) were published by one module named after the visits, so
    both keep `visits_` ids: generated clients rely on them.
    """
    parts = route.endpoint.__module__.split(".")
    area = parts[1] if len(parts) > 2 else parts[-1]
    if parts[1:3] in (["communities", "visits"], ["communities", "deliveries"]):
        area = "visits"
    return f"{area}_{route.endpoint.__name__}"


def _calls(route: APIRoute) -> set[Any]:
    """Every dependency callable a route runs, however deeply nested."""
    found: set[Any] = set()
    stack: list[Dependant] = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        found.add(dep.call)
        stack.extend(dep.dependencies)
    return found


def derived_statuses(route: APIRoute) -> list[int]:
    """The error statuses a route can give by construction."""
    calls = _calls(route)
    methods = route.methods or set()
    writes = bool(methods & WRITE_METHODS)
    statuses: set[int] = set()
    if deps.current_principal in calls:
        statuses |= {401, 403}
    elif deps.optional_principal in calls and writes:
        statuses.add(403)  # a cookie login without its CSRF token
    # A body read by hand (the batch upload) is declared in openapi_extra instead.
    has_body = route.body_field is not None or "requestBody" in (route.openapi_extra or {})
    if route.dependant.path_params or (writes and has_body):
        statuses.add(404)  # a resource named in the path, or in a write's body
    if writes:
        statuses |= {409, 422}
    if route.dependant.path_params or route.dependant.query_params or route.body_field:
        statuses.add(422)
    if route.body_field is not None or writes:
        statuses.add(413)  # the size limit is checked before the body is read
    if deps.get_session in calls:
        statuses.add(503)
    return sorted(statuses)


def security(route: APIRoute) -> list[dict[str, list[str]]] | None:
    """Which logins a route takes: required, optional ({} first) or none."""
    calls = _calls(route)
    schemes: list[dict[str, list[str]]] = [{BEARER: []}, {COOKIE: []}]
    if deps.current_principal in calls:
        return schemes
    if deps.optional_principal in calls:
        return [{}, *schemes]
    return None


def declare(routers: list[APIRouter]) -> None:
    """Add the derived responses, security and operation ids to every API route.

    Done on the routers before they are included: FastAPI copies a route's
    declarations when it is mounted. Idempotent, since every app built in a
    process shares the routers.
    """
    seen: dict[str, str] = {}
    for router in routers:
        for route in router.routes:
            if not isinstance(route, APIRoute):
                continue
            op_id = operation_id(route)
            if seen.setdefault(op_id, route.path) != route.path:
                raise RuntimeError(f"operation id {op_id} names both {seen[op_id]} "
                                   f"and {route.path}")
            route.operation_id = op_id
            for status in derived_statuses(route):
                route.responses.setdefault(status, error_response(status))
            for declared, entry in route.responses.items():
                if int(declared) >= 400 and "content" not in entry:
                    entry.update(error_response(int(declared)))
            sec = security(route)
            route.openapi_extra = {**(route.openapi_extra or {}),
                                   "security": sec if sec is not None else []}


def install(app: FastAPI) -> None:
    """Publish the security schemes and the error body with the app's OpenAPI document."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version,
                                 description=app.description, routes=app.routes)
            components = schema.setdefault("components", {})
            components["securitySchemes"] = SECURITY_SCHEMES
            error_schema = ErrorBody.model_json_schema(
                ref_template="#/components/schemas/{model}")
            schemas = components.setdefault("schemas", {})
            schemas.update(error_schema.pop("$defs", {}))
            schemas["ErrorBody"] = error_schema
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
