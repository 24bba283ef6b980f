"""Server-rendered pages: one Jinja environment with Babel translations."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from passtrace.core import i18n
from passtrace.core.clock import LOCAL_TZ
from passtrace.web import nav

TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC = Path(__file__).resolve().parent / "static"
# What an <input type="datetime-local"> sends and expects (local time, no zone).
LOCAL_INPUT = "%Y-%m-%dT%H:%M"


def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Format a UTC datetime in local time."""
    return value.astimezone(LOCAL_TZ).strftime(fmt) if value else ""


@cache
def environment() -> Environment:
    """Build the template environment once."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "xml"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        lambda s: i18n.translations(i18n.get_locale()).gettext(s),
        lambda s, p, n: i18n.translations(i18n.get_locale()).ngettext(s, p, n),
        newstyle=True,
    )
    env.filters["localtime"] = local_time
    return env


def render(request: Request, template: str, context: dict[str, Any] | None = None,
           *, status_code: int = 200) -> HTMLResponse:
    """Render a page with the principal, locale and CSRF token available."""
    principal = getattr(request.state, "principal", None)
    nav_items = nav.items_for(principal)
    ctx = {
        "request": request,
        "principal": principal,
        "csrf_token": principal.csrf_token if principal else "",
        "locale": i18n.get_locale(),
        "locales": i18n.LOCALE_NAMES,
        "html_lang": "zh-CN" if i18n.get_locale() == "zh_CN" else "en",
        "nav_items": nav_items,
        "nav_current": nav.current(nav_items, request.url.path),
    }
    ctx.update(context or {})
    html = environment().get_template(template).render(ctx)
    return HTMLResponse(html, status_code=status_code)


def error_page(request: Request, message: str, status: int, back: str) -> HTMLResponse:
    """The error page with a way back (for a page action that was refused)."""
    return render(request, "error.html", {"status": status, "message": message, "back": back},
                  status_code=status)


def claim_code_page(request: Request, code: str, expires_at: object, *, back: str) -> HTMLResponse:
    """A claim code, shown this once (only its keyed hash is stored)."""
    return render(request, "accounts/claim_code.html",
                  {"code": code, "expires_at": expires_at, "back": back})
