"""One error renderer: JSON for the API, an HTML page for browsers."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from passtrace.core.errors import DomainError, RateLimited, Unauthorized
from passtrace.core.i18n import N_, gettext
from passtrace.web import stale_reads
from passtrace.web.deps import principal_for_error_page
from passtrace.web.field_labels import labelled
from passtrace.web.render import render

log = logging.getLogger("passtrace")

# pydantic error types -> messages people can act on (translated when rendered).
FIELD_MESSAGES = {
    "missing": N_("This field is required."),
    "string_too_long": N_("This text is too long."),
    "string_too_short": N_("This text is too short."),
    "too_long": N_("Too many entries."),
    "literal_error": N_("Choose one of the offered values."),
    "int_parsing": N_("Enter a whole number."),
    "int_type": N_("Enter a whole number."),
    "greater_than_equal": N_("The number is too small."),
    "less_than_equal": N_("The number is too large."),
    "datetime_parsing": N_("Enter a date and time."),
    "datetime_from_date_parsing": N_("Enter a date and time."),
    "datetime_type": N_("Enter a date and time."),
    "uuid_parsing": N_("This is not a valid identifier."),
    "extra_forbidden": N_("This field is not accepted here."),
    "json_invalid": N_("The request body is not valid JSON."),
    "model_attributes_type": N_("The request body must be a JSON object."),
    "dict_type": N_("The request body must be a JSON object."),
    "list_type": N_("Enter a list."),
    "string_type": N_("Enter text."),
    "bool_parsing": N_("Enter true or false."),
    "float_parsing": N_("Enter a number."),
    "float_type": N_("Enter a number."),
    "finite_number": N_("Enter a number."),
    "date_parsing": N_("Enter a date."),
    "date_from_datetime_parsing": N_("Enter a date."),
    "date_from_datetime_inexact": N_("Enter a date."),
    "time_parsing": N_("Enter a time as HH:MM."),
    "enum": N_("Choose one of the offered values."),
    "uuid_type": N_("This is not a valid identifier."),
    "date_out_of_range": N_("Choose a date between 2000-01-01 and 2099-12-31."),
}


def form_field_errors(exc: ValidationError, messages: dict[str, str] | None = None
                      ) -> dict[str, str]:
    """A form's pydantic errors as one translated message per field (the first one).

    `messages` overrides the generic message for a field where it would not say
    what to do (e.g. "Enter a date."): keyed by the field's name, or by
    "name.error_type" for one kind of mistake (e.g. "units.too_long").
    """
    errors: dict[str, str] = {}
    messages = messages or {}
    for e in exc.errors():
        name = str(e["loc"][0]) if e["loc"] else "form"
        kind = e["type"]
        if kind == "string_too_short" and e.get("input") == "":
            kind = "missing"  # an empty box is a missing answer, not a short one
        message = (messages.get(f"{name}.{kind}") or messages.get(name)
                   or FIELD_MESSAGES.get(kind, N_("This value is not valid.")))
        errors.setdefault(_field_key(e["loc"]), gettext(message))
    return errors


def _field_key(loc: tuple[int | str, ...]) -> str:
    """Where a form shows an error: "areas" for an item of a plain list, "stops[1].arrive_at"
    for a field of a row in a repeated group."""
    if not loc:
        return "form"
    if len(loc) > 2 and isinstance(loc[1], int):
        return f"{loc[0]}[{loc[1]}]." + ".".join(str(p) for p in loc[2:])
    return str(loc[0])


STATUS_MESSAGES = {
    404: N_("Page not found."),
    405: N_("This action is not allowed here."),
    413: N_("The upload is too large."),
}


def wants_json(request: Request) -> bool:
    """Tell whether to answer JSON (the API) rather than an HTML page."""
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get(
        "accept", "").split(",")[0]


def _respond(request: Request, status: int, code: str, message: str,
             fields: dict[str, str] | None = None) -> Response:
    if wants_json(request):
        body: dict[str, Any] = {"error": {"code": code, "message": message,
                                          "fields": fields or {}}}
        return JSONResponse(body, status_code=status)
    return render(request, "error.html", {"status": status, "message": message,
                                          "fields": labelled(fields or {})},
                  status_code=status)


def error_response(request: Request, exc: DomainError) -> Response:
    """Answer with a domain error without raising it, so the request still commits.

    For refusals that are themselves recorded (an audited attempt): raising would roll
    the record back with everything else.
    """
    return _respond(request, exc.status, exc.code, exc.translated(), exc.translated_fields())


async def domain_error(request: Request, exc: Exception) -> Response:
    """Render a domain error in the request's language."""
    assert isinstance(exc, DomainError)
    if isinstance(exc, Unauthorized) and not wants_json(request) and request.method == "GET":
        target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        return RedirectResponse(f"/login?next={target}", status_code=303)
    response = _respond(request, exc.status, exc.code, exc.translated(),
                        exc.translated_fields())
    if isinstance(exc, RateLimited) and exc.retry_after:
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


async def validation_error(request: Request, exc: Exception) -> Response:
    """Turn request-schema failures into one translated message plus per-field messages."""
    assert isinstance(exc, RequestValidationError)
    fields: dict[str, str] = {}
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "form")]
        name = ".".join(loc) or "body"
        fields.setdefault(name, gettext(FIELD_MESSAGES.get(err.get("type", ""),
                                                           N_("This value is not valid."))))
    return _respond(request, 422, "invalid", gettext("Some fields are not valid."), fields)


async def http_error(request: Request, exc: Exception) -> Response:
    """Render framework HTTP errors (404, 405, ...) translated."""
    assert isinstance(exc, StarletteHTTPException)
    if not wants_json(request):  # keep the header and the user's menu on a 404
        await principal_for_error_page(request)
    message = gettext(STATUS_MESSAGES.get(exc.status_code,
                                          N_("The request could not be handled.")))
    code = "too_large" if exc.status_code == 413 else f"http_{exc.status_code}"
    response = _respond(request, exc.status_code, code, message)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


class BodyTooLarge(StarletteHTTPException):
    """The request body grew past the route's limit while it was being read."""

    def __init__(self) -> None:
        super().__init__(status_code=413)


def too_large(request: Request) -> Response:
    """Refuse a request body over the configured size."""
    return _respond(request, 413, "too_large", gettext(STATUS_MESSAGES[413]))


async def integrity_conflict(request: Request, exc: Exception) -> Response:
    """Answer 409 when a write collides with a row saved at the same moment."""
    log.info("integrity conflict on %s %s: %s", request.method, request.url.path, exc)
    return _respond(request, 409, "conflict",
                    gettext("This clashes with data saved at the same moment. Nothing was "
                            "saved; please reload and try again."))


async def data_refused(request: Request, exc: Exception) -> Response:
    """Answer 422 when the database refuses a value as data (a NUL byte in text on PostgreSQL).

    Whatever a schema let through, the database is the last judge of what it can
    store; the request's transaction is rolled back, so nothing was saved.
    """
    log.info("database refused a value on %s %s: %s", request.method, request.url.path, exc)
    return _respond(request, 422, "invalid", gettext("Some fields are not valid."))


async def database_busy(request: Request, exc: Exception) -> Response:
    """Answer 503 when the embedded database is locked by another writer."""
    assert isinstance(exc, OperationalError)
    if "locked" not in str(exc.orig) and "busy" not in str(exc.orig).lower():
        return await unexpected_error(request, exc)
    # SQLite allows one writer at a time; the client may simply retry.
    response = _respond(request, 503, "busy",
                        gettext("The server is busy. Nothing was saved; please try again."))
    response.headers["Retry-After"] = "1"
    if request.method in stale_reads.RETRIED_METHODS and stale_reads.stale_snapshot(exc.orig):
        # A read refused at its access-log write: web/stale_reads runs it again (and
        # strips this mark); rolled back whole, so nothing is done twice.
        response.headers[stale_reads.MARK] = "1"
    return response


async def unexpected_error(request: Request, exc: Exception) -> Response:
    """Log a bug and answer a calm 500 without internals."""
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _respond(request, 500, "internal",
                    gettext("Something went wrong on our side. Nothing was saved; "
                            "please try again."))


def install(app: FastAPI) -> None:
    """Register the handlers on an app."""
    app.add_exception_handler(DomainError, domain_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(OperationalError, database_busy)
    app.add_exception_handler(IntegrityError, integrity_conflict)
    app.add_exception_handler(DataError, data_refused)
    app.add_exception_handler(Exception, unexpected_error)
