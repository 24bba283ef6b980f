"""FastAPI dependencies: runtime, DB session, current principal, CSRF."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from passtrace.core.db import session_scope
from passtrace.core.errors import Forbidden, Unauthorized
from passtrace.core.i18n import set_locale
from passtrace.core.runtime import PrincipalResolver, Runtime
from passtrace.core.security import Principal

SESSION_COOKIE = "pt_session"
LANG_COOKIE = "pt_lang"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


# Dependencies that do no I/O are `async def`: FastAPI runs a plain `def` dependency
# in the threadpool, and a thread hop per dependency per request is most of the
# framework's cost on a hot endpoint.


async def get_runtime(request: Request) -> Runtime:
    """Return the deployment runtime attached to the app."""
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_session(request: Request, rt: RuntimeDep) -> Iterator[Session]:
    """One session per request; committed once at the end, rolled back on error.

    A request that may write (not GET/HEAD/OPTIONS) is a writer from its first
    statement: on SQLite it waits for the process's write lock instead of reading a
    snapshot another writer may change, which SQLite would refuse as busy at its
    first write (core/sqlite_writes). The session begins on first use, in the
    handler's thread, never while the request body is still being read.
    """
    yield from session_scope(rt.sessions, write=request.method not in SAFE_METHODS)


# scope="function": commit right after the handler returns and BEFORE the response
# is sent, so a failed commit can never be acknowledged to the client as success.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def client_ip(request: Request) -> str | None:
    """Return the client's address (the proxy is trusted to set it)."""
    return request.client.host if request.client else None


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def _check_csrf(request: Request, expected: str) -> None:
    # Cookie-authenticated writes must prove they come from our own pages.
    supplied = request.headers.get("x-csrf-token")
    if supplied is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get("csrf_token")
        supplied = value if isinstance(value, str) else None
    if not supplied or not hmac.compare_digest(supplied, expected):
        raise Forbidden("The form expired or did not come from this site. Please reload the page.",
                        code="csrf")


def _principals(rt: Runtime) -> PrincipalResolver:
    if rt.principals is None:  # an app built without passtrace.wiring.wire(runtime)
        raise RuntimeError("no principal resolver on the runtime: call passtrace.wiring.wire(rt)")
    return rt.principals


def _resolve_in_own_session(rt: Runtime, token: str, ip: str | None) -> Principal | None:
    # Read-only; its own short session, so a route that does not need the request
    # session (the hot registration endpoint) never opens one just for this.
    session = rt.sessions()
    try:
        return _principals(rt).resolve(session=session, token=token, ip=ip)
    finally:
        session.close()


async def optional_principal(request: Request, rt: RuntimeDep) -> Principal | None:
    """Resolve the bearer token or session cookie, if any; check CSRF on cookie writes."""
    token = bearer_token(request)
    if token is None:
        token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    ip = client_ip(request)
    # A login resolved moments ago costs no I/O; otherwise the queries run in the
    # threadpool: blocking database calls must never run on the event loop.
    principal = _principals(rt).cached(token=token, ip=ip)
    if principal is None:
        principal = await run_in_threadpool(_resolve_in_own_session, rt, token, ip)
    if principal is None:
        return None
    if principal.locale:
        set_locale(principal.locale)
    if principal.auth_kind == "web" and request.method not in SAFE_METHODS:
        await _check_csrf(request, principal.csrf_token)
    request.state.principal = principal
    return principal


OptionalPrincipal = Annotated[Principal | None, Depends(optional_principal)]


async def principal_for_error_page(request: Request) -> Principal | None:
    """Resolve who is looking at an error page no route handled (a 404), for its navigation.

    A page read only (GET/HEAD): nothing is checked or changed, and a failure to resolve
    just leaves the page without the user's menu.
    """
    found = getattr(request.state, "principal", None)
    if found is not None or request.method not in ("GET", "HEAD"):
        return found
    try:
        return await optional_principal(request, request.app.state.runtime)
    except Exception:  # noqa: BLE001 - an error page must render whatever went wrong
        return None


async def current_principal(principal: OptionalPrincipal) -> Principal:
    """Require a login (the default for every route)."""
    if principal is None:
        raise Unauthorized("Please log in.")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require(permission: str) -> Any:
    """Build a dependency that requires a permission somewhere in the principal's scopes."""

    async def dependency(principal: CurrentPrincipal) -> Principal:
        if not principal.has(permission):
            raise Forbidden("Your role does not allow this.")
        return principal

    return Depends(dependency)
