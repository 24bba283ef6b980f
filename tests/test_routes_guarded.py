"""Every route needs a login unless it is listed here as public on purpose."""

from __future__ import annotations

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from passtrace.app import routers
from passtrace.web.deps import current_principal

# Public on purpose: logging in and signing up, and what offline checkpoints download.
PUBLIC = {
    ("POST", "/api/v1/auth/token"),
    ("POST", "/api/v1/accounts/register"),
    ("GET", "/api/v1/passes/trust-list"),
    ("GET", "/api/v1/passes/trust-root"),
    ("GET", "/api/v1/passes/revocations"),
    # Thermal scanners authenticate with their own site-scoped device token.
    ("POST", "/api/v1/devices/readings"),
    ("GET", "/login"),
    ("POST", "/login"),
    # The second step of a login: the pending-login cookie (accounts.second_factor) stands
    # in for the session; without it both answer a redirect to /login.
    ("GET", "/login/code"),
    ("POST", "/login/code"),
    ("GET", "/register"),
    ("POST", "/register"),
    ("POST", "/lang"),
    # The current risk areas are published to everyone (issue 15: "a public page, no login").
    ("GET", "/api/v1/public/risk-areas"),
    ("GET", "/risk-areas"),
}


def _calls(dependant: Dependant, target: object) -> bool:
    return any(d.call is target or _calls(d, target) for d in dependant.dependencies)


def _all_routes() -> list[tuple[str, APIRoute]]:
    api, pages = routers()
    found = [("/api/v1", r) for router in api for r in router.routes]
    found += [("", r) for router in pages for r in router.routes]
    return [(prefix, r) for prefix, r in found if isinstance(r, APIRoute)]


def test_every_route_requires_login_unless_listed_public():
    unguarded = {(method, prefix + route.path)
                 for prefix, route in _all_routes() if not _calls(route.dependant,
                                                                  current_principal)
                 for method in route.methods}
    assert unguarded == PUBLIC


def test_the_public_routes_really_answer_without_a_login(client):
    for method, path in sorted(PUBLIC):
        if method == "GET":
            assert client.get(path, follow_redirects=False).status_code < 400, path


def test_a_guarded_route_refuses_anonymous_callers(client):
    guarded = [(m, p + r.path) for p, r in _all_routes() for m in r.methods
               if (m, p + r.path) not in PUBLIC and "{" not in r.path]
    assert guarded  # the check below is not vacuous
    for method, path in guarded:
        resp = client.request(method, path, follow_redirects=False)
        assert resp.status_code in (401, 303, 403), (method, path, resp.status_code)
        if resp.status_code == 303:
            assert resp.headers["location"].startswith("/login"), path
