"""Build the web application: API routers, pages, errors, i18n, static files."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from passtrace import __version__
from passtrace.core.config import Settings
from passtrace.core.i18n import negotiate, set_locale
from passtrace.core.runtime import Runtime
from passtrace.web import errors, openapi
from passtrace.web.deps import LANG_COOKIE

STATIC = Path(__file__).resolve().parent / "web" / "static"

# Routes that take large bodies (and enforce the limit on chunked bodies themselves).
BIG_BODY_PATHS = frozenset({"/api/v1/registrations/batch"})

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
                             accept_language=request.headers.get("accept-language")))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        length = request.headers.get("content-length", "")
        limit = (self.rt.settings.batch_max_bytes if scope["path"] in BIG_BODY_PATHS
                 else self.rt.settings.max_body_bytes)
        if length.isdigit() and int(length) > limit:
            # Refuse before reading: a huge body must not tie up memory or a worker.
            await errors.too_large(request)(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)


def create_app(settings: Settings | None = None, *, runtime: Runtime | None = None) -> FastAPI:
    """Create the app for a deployment; nothing touches the database here."""
    rt = runtime or Runtime.build(settings or Settings())
    app = FastAPI(
        title="PassTrace",
        version=__version__,
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
    )
    app.state.runtime = rt

    app.add_middleware(LocaleAndHeaders, rt=rt)
    errors.install(app)
    _include_routers(app)
    openapi.install(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


def routers() -> tuple[list[APIRouter], list[APIRouter]]:
    """Return the API routers (mounted under /api/v1) and the page routers."""
    from passtrace.accounts import pages as account_pages
    from passtrace.accounts import views as account_views
    from passtrace.areas import views as area_views
    from passtrace.communities import pages as community_pages
    from passtrace.communities import views as community_views
    from passtrace.communities import visit_pages, visit_views
    from passtrace.enterprises import pages as enterprise_pages
    from passtrace.enterprises import views as enterprise_views
    from passtrace.notices import pages as notice_pages
    from passtrace.passes import pages as pass_pages
    from passtrace.passes import views as pass_views
    from passtrace.people import pages as people_pages
    from passtrace.people import views as people_views
    from passtrace.registrations import pages as registration_pages
    from passtrace.registrations import views as registration_views
    from passtrace.reports import pages as report_pages
    from passtrace.reports import views as report_views
    from passtrace.sites import pages as site_pages
    from passtrace.sites import views as site_views

    return ([account_views.router, area_views.router, pass_views.router, people_views.router,
             site_views.router, site_views.device_router, registration_views.router,
             enterprise_views.router, report_views.router, report_views.risk_router,
             community_views.router, community_views.me_router, visit_views.router],
            [account_pages.router, pass_pages.router, people_pages.router,
             enterprise_pages.router, report_pages.router, notice_pages.router,
             site_pages.router, registration_pages.router, community_pages.router,
             visit_pages.router])


def _include_routers(app: FastAPI) -> None:
    api, pages = routers()
    openapi.declare(api)
    for router in api:
        app.include_router(router, prefix="/api/v1")
    for router in pages:
        app.include_router(router)
