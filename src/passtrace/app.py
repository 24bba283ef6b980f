"""Build the web application: API routers, pages, errors, i18n, static files."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from passtrace import __version__
from passtrace.core.config import Settings
from passtrace.core.i18n import negotiate, set_locale
from passtrace.core.runtime import Runtime
from passtrace.web import api_docs, errors, openapi, stale_reads
from passtrace.web.deps import LANG_COOKIE
from passtrace.web.render import STATIC
from passtrace.wiring import wire

# Routes that take large bodies (and enforce the limit on chunked bodies themselves).
BIG_BODY_PATHS = frozenset({"/api/v1/registrations/batch", "/api/v1/registrations/import"})

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
        "script-src 'self'; connect-src 'self'; media-src 'self' blob:; frame-ancestors 'none'"
    ),
}


class LocaleAndHeaders:
    """Negotiate the locale, refuse oversized bodies up front, add security headers.

    A plain ASGI middleware: `@app.middleware("http")` (BaseHTTPMiddleware) runs
    every request through an extra task and memory streams, which costs a hot
    endpoint a good share of its time.
    """

    def __init__(self, app: ASGIApp, rt: Runtime) -> None:
        self.app = app
        self.rt = rt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        # The user's saved choice overrides this once the login is resolved.
        set_locale(negotiate(user_locale=None, cookie=request.cookies.get(LANG_COOKIE),
                             accept_language=request.headers.get("accept-language"),
                             default=self.rt.settings.default_locale))

        prod = self.rt.settings.env == "prod"
        static = scope["path"].startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if not static:
                    # Pages and API answers carry personal data: no browser or proxy
                    # may keep a copy (a shared phone's back button, a caching proxy).
                    headers.setdefault("Cache-Control", "no-store")
                if prod:
                    headers.setdefault("Strict-Transport-Security",
                                       "max-age=31536000; includeSubDomains")
                    _secure_cookies(headers)
            await send(message)

        length = request.headers.get("content-length", "")
        limit = (self.rt.settings.batch_max_bytes if scope["path"] in BIG_BODY_PATHS
                 else self.rt.settings.max_body_bytes)
        if length.isdigit() and int(length) > limit:
            # Refuse before reading: a huge body must not tie up memory or a worker.
            await errors.too_large(request)(scope, receive, send_with_headers)
            return
        # A chunked body (or a Content-Length that lies) is counted as it streams in:
        # past the limit, the route stops receiving and the client gets 413. BodyTooLarge
        # is an HTTPException so FastAPI's body parsing re-raises it instead of turning it
        # into a 400; the handler below is for a route that reads the stream itself.
        capped = _CappedReceive(receive, limit)
        started = False

        async def send_tracking_start(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send_with_headers(message)

        try:
            await self.app(scope, capped, send_tracking_start)
        except errors.BodyTooLarge:
            if started:  # too late to answer; drop the connection
                raise
            await errors.too_large(request)(scope, receive, send_with_headers)


class PassTraceApp(FastAPI):
    """The FastAPI app, with a few hot endpoints served ahead of its middleware stack.

    Every request normally passes seven ASGI layers (server errors, telemetry,
    LocaleAndHeaders, body limit, exceptions, exit stack, router) before its route:
    for a checkpoint check, answered at a thousand a second, that is a few percent of
    the worker's CPU for nothing it needs beyond what `_serve_hot` does itself: the
    locale, the body limit, the security headers and the app's exception handlers.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # POST path -> endpoint (create_app fills it)
        self.hot_endpoints: dict[str, Callable[[Request], Awaitable[Response]]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            endpoint = self.hot_endpoints.get(scope["path"])
            if endpoint is not None:
                await self._serve_hot(endpoint, scope, receive, send)
                return
        await super().__call__(scope, receive, send)

    async def _serve_hot(self, endpoint: Callable[[Request], Awaitable[Response]],
                         scope: Scope, receive: Receive, send: Send) -> None:
        """What the middleware stack does for one endpoint (LocaleAndHeaders alike)."""
        scope["app"] = self
        rt: Runtime = self.state.runtime
        limit = rt.settings.max_body_bytes
        request = Request(scope, _CappedReceive(receive, limit))
        headers = request.headers
        set_locale(negotiate(user_locale=None, cookie=request.cookies.get(LANG_COOKIE)
                             if "cookie" in headers else None,
                             accept_language=headers.get("accept-language"),
                             default=rt.settings.default_locale))
        length = headers.get("content-length", "")
        try:
            if length.isdigit() and int(length) > limit:
                response = errors.too_large(request)
            else:
                response = await endpoint(request)
        except errors.BodyTooLarge:
            response = errors.too_large(request)
        except Exception as exc:  # noqa: BLE001 - rendered by the app's own handlers
            response = await self._handle(request, exc)
        _add_headers(response, prod=rt.settings.env == "prod")
        await response(scope, receive, send)

    async def _handle(self, request: Request, exc: Exception) -> Response:
        """The app's exception handler for `exc` (the most specific class registered)."""
        for cls in type(exc).__mro__:
            handler = self.exception_handlers.get(cls)
            if handler is not None:
                found = handler(request, exc)
                return await found if isinstance(found, Awaitable) else found
        raise exc  # unreachable: Exception has a handler (errors.install)


_HOT_HEADERS = [(k.lower().encode("latin-1"), v.encode("latin-1"))
                for k, v in (*SECURITY_HEADERS.items(), ("Cache-Control", "no-store"))]
_HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")


def _add_headers(response: Response, *, prod: bool) -> None:
    """LocaleAndHeaders' headers on a hot endpoint's response (each unless already set)."""
    raw = response.raw_headers
    present = {name for name, _ in raw}
    raw.extend(h for h in _HOT_HEADERS if h[0] not in present)
    if prod:
        if _HSTS[0] not in present:
            raw.append(_HSTS)
        if b"set-cookie" in present:
            _secure_cookies(MutableHeaders(raw=raw))


def _secure_cookies(headers: MutableHeaders) -> None:
    """Mark every cookie Secure (production runs behind HTTPS only)."""
    cookies = headers.getlist("set-cookie")
    if not cookies:
        return
    del headers["set-cookie"]
    for cookie in cookies:
        if "secure" not in {part.strip().lower() for part in cookie.split(";")}:
            cookie += "; Secure"
        headers.append("set-cookie", cookie)


class _CappedReceive:
    """An ASGI `receive` that raises BodyTooLarge once the body passes `limit` bytes."""

    def __init__(self, receive: Receive, limit: int) -> None:
        self.receive = receive
        self.limit = limit
        self.seen = 0

    async def __call__(self) -> Message:
        message = await self.receive()
        if message["type"] == "http.request":
            self.seen += len(message.get("body", b""))
            if self.seen > self.limit:
                raise errors.BodyTooLarge
        return message


def create_app(settings: Settings | None = None, *, runtime: Runtime | None = None) -> FastAPI:
    """Create the app for a deployment; nothing touches the database here."""
    rt = runtime or Runtime.build(settings or Settings())
    prod = rt.settings.env == "prod"
    wire(rt)
    app = PassTraceApp(
        title="PassTrace",
        version=__version__,
        # In production the schema and docs are served behind login (web/api_docs.py).
        openapi_url=None if prod else api_docs.OPENAPI_PATH,
        docs_url=None if prod else api_docs.DOCS_PATH,
        redoc_url=None,
    )
    app.state.runtime = rt
    if prod:
        app.include_router(api_docs.router)

    if rt.engine.dialect.name == "sqlite":
        # Inside LocaleAndHeaders: a page read refused on a stale snapshot runs again
        # before anything reaches the client (web/stale_reads).
        app.add_middleware(stale_reads.RetryStaleReads)
    app.add_middleware(LocaleAndHeaders, rt=rt)
    errors.install(app)
    _include_routers(app)
    # The checkpoint's hot endpoint, matched before every router (registrations/views.py).
    from passtrace.registrations import views as registration_views

    app.router.routes.insert(0, registration_views.lean_route())
    # ... and ahead of the middleware stack too (PassTraceApp).
    app.hot_endpoints = {registration_views.REGISTRATIONS_PATH:
                         registration_views.register_endpoint}
    # The clerk's issue is matched before every router too (supplies/issue_fast.py), but
    # keeps the middleware: its path carries the depot id, and it is far less frequent.
    from passtrace.supplies import issue_fast

    app.router.routes.insert(0, issue_fast.lean_route())
    openapi.install(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


def routers() -> tuple[list[APIRouter], list[APIRouter]]:
    """Return the API routers (mounted under /api/v1) and the page routers."""
    from passtrace import home
    from passtrace.accounts import admin_pages as account_admin_pages
    from passtrace.accounts import admin_views as account_admin_views
    from passtrace.accounts import claim_pages, second_factor_pages
    from passtrace.accounts import pages as account_pages
    from passtrace.accounts import views as account_views
    from passtrace.analytics import pages as analytics_pages
    from passtrace.analytics import views as analytics_views
    from passtrace.areas import views as area_views
    from passtrace.cases import pages as case_pages
    from passtrace.cases import views as case_views
    from passtrace.communities.compounds import claim_pages as resident_claim_pages
    from passtrace.communities.compounds import pages as community_pages
    from passtrace.communities.compounds import rule_appeal_views, rule_change_pages
    from passtrace.communities.compounds import views as community_views
    from passtrace.communities.deliveries import pages as delivery_pages
    from passtrace.communities.deliveries import views as delivery_views
    from passtrace.communities.outings import pages as outing_pages
    from passtrace.communities.outings import views as outing_views
    from passtrace.communities.visits import pages as visit_pages
    from passtrace.communities.visits import views as visit_views
    from passtrace.dashboard import pages as dashboard_pages
    from passtrace.dashboard import views as dashboard_views
    from passtrace.enterprises import claim_pages as employee_claim_pages
    from passtrace.enterprises import pages as enterprise_pages
    from passtrace.enterprises import views as enterprise_views
    from passtrace.health import pages as health_pages
    from passtrace.health import views as health_views
    from passtrace.notices import pages as notice_pages
    from passtrace.oversight import pages as oversight_pages
    from passtrace.passes import appeal_pages, appeal_views
    from passtrace.passes import pages as pass_pages
    from passtrace.passes import views as pass_views
    from passtrace.people import pages as people_pages
    from passtrace.people import views as people_views
    from passtrace.registrations import pages as registration_pages
    from passtrace.registrations import views as registration_views
    from passtrace.reports import pages as report_pages
    from passtrace.reports import views as report_views
    from passtrace.retention import pages as retention_pages
    from passtrace.retention import views as retention_views
    from passtrace.sites import pages as site_pages
    from passtrace.sites import views as site_views
    from passtrace.supplies import depot_pages as supplies_depot_pages
    from passtrace.supplies import officer_pages as supplies_officer_pages
    from passtrace.supplies import pages as supplies_pages
    from passtrace.supplies import request_pages as supplies_request_pages
    from passtrace.supplies import views as supplies_views
    from passtrace.tracing import pages as tracing_pages
    from passtrace.tracing import verify_pages
    from passtrace.tracing import views as tracing_views
    from passtrace.warnings import pages as warning_pages
    from passtrace.warnings import views as warning_views

    return ([account_views.router, account_admin_views.router, area_views.router,
             pass_views.router, appeal_views.router, people_views.router,
             site_views.router, site_views.device_router, registration_views.router,
             enterprise_views.router, report_views.router,
             community_views.router, community_views.me_router, rule_appeal_views.router,
             outing_views.router,
             visit_views.router, delivery_views.router, retention_views.router,
             case_views.router, tracing_views.router,
             warning_views.risk_router, warning_views.public_router,
             warning_views.alert_router, warning_views.rule_router,
             health_views.router, supplies_views.router, analytics_views.router,
             dashboard_views.router],
            [home.router, account_pages.router, account_admin_pages.router, claim_pages.router,
             second_factor_pages.router,
             resident_claim_pages.router,
             employee_claim_pages.router, appeal_pages.router, pass_pages.router,
             people_pages.router,
             enterprise_pages.router, report_pages.router, notice_pages.router,
             site_pages.router, registration_pages.site_router, registration_pages.router,
             community_pages.router, rule_change_pages.router, outing_pages.router,
             visit_pages.router,
             delivery_pages.router, oversight_pages.router,
             retention_pages.router, case_pages.router, verify_pages.router,
             tracing_pages.router, warning_pages.router, warning_pages.public_router,
             health_pages.router, analytics_pages.router, supplies_pages.router,
             supplies_depot_pages.router, supplies_request_pages.router,
             supplies_officer_pages.router, dashboard_pages.router])


def _include_routers(app: FastAPI) -> None:
    api, pages = routers()
    openapi.declare(api)
    for router in api:
        app.include_router(router, prefix="/api/v1")
    for router in pages:
        app.include_router(router)
