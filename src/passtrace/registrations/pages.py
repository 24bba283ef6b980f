"""The checkpoint page: scan or type, decide (online or offline), register.

The page itself is server-rendered (site and lane chosen here); scanning,
offline verification, the queue and the sync run in the browser
(static/js/checkpoint/). Its service worker is served from /checkpoint/sw.js
so that its scope covers the page.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from functools import cache

from fastapi import APIRouter, Request
from fastapi.responses import Response

from passtrace.areas import service as area_service
from passtrace.audit import actors
from passtrace.core.clock import local_day_bounds, local_today
from passtrace.core.errors import Forbidden
from passtrace.core.i18n import N_, get_locale, gettext
from passtrace.core.validators import Day
from passtrace.registrations import stats
from passtrace.registrations.disagreements import registration_disagreements
from passtrace.rules.decide import REASONS
from passtrace.rules.offline import ALERT_KINDS
from passtrace.sites import authz as site_authz
from passtrace.sites import present as site_present
from passtrace.sites import service as site_service
from passtrace.sites.models import Site
from passtrace.web import charts
from passtrace.web.deps import CurrentPrincipal, SessionDep
from passtrace.web.render import STATIC, render

router = APIRouter(prefix="/checkpoint", include_in_schema=False)
# A site's day is its registrations' statistics, so registrations serves it (sites
# sits below registrations). Mounted after sites.pages.router, so /sites/new wins.
site_router = APIRouter(prefix="/sites", include_in_schema=False)

JS = "/static/js/checkpoint/"
# What the service worker keeps for offline use (besides the page itself).
OFFLINE_ASSETS = (
    "/static/app.css",
    "/static/checkpoint.css",
    "/static/vendor/htmx/htmx.min.js",
    "/static/vendor/jsqr/jsQR.js",
    *(JS + name for name in ("page.js", "base45.js", "cbor.js", "cose.js", "trust.js",
                             "decide.js", "idnumber.js", "uuid7.js", "queue.js",
                             "scanner.js", "status.js")),
)
# Kinds of site where people pass through rather than enter and leave.
THROUGH_KINDS = frozenset({"road_checkpoint", "temporary_intersection"})
# The ID-number messages of core/validators.py, keyed as static/js/checkpoint/idnumber.js.
ID_MESSAGES = {
    "id_foreign": N_("An ID number may contain only the digits 0-9 and X; remove other "
                     "characters (letters, symbols or digits of another script)."),
    "id_length": N_("An ID number has 18 characters."),
    "id_chars": N_("An ID number is 17 digits followed by a digit or X."),
    "id_region": N_("The ID number does not start with a valid region code."),
    "id_date": N_("The birth date in the ID number is not a real date."),
    "id_plausible": N_("The birth date in the ID number is not plausible."),
    "id_check": N_("The ID number's check digit is wrong; please check for a typo."),
}


def _ui_strings() -> dict[str, str]:
    """Texts the page's scripts show, translated here (no strings hard-coded in JS)."""
    return {
        "allow": gettext("ALLOW"),
        "deny": gettext("DENY"),
        "online": gettext("Online"),
        "offline": gettext("Offline"),
        "never": gettext("never"),
        "decided_offline": gettext("Decided on this device (offline); it will be uploaded."),
        "not_uploadable": gettext("Decided on this device (offline); not uploaded: no pass "
                                  "or ID number to record."),
        "id_ok": gettext("The ID number is valid."),
        "camera_error": gettext("The camera could not be started."),
        "camera_on": gettext("Point the camera at the pass QR code."),
        "trust_missing": gettext("No trust list on this device yet: connect once to download "
                                 "it."),
        "override_saved": gettext("Overridden: let through. Reason: %(reason)s"),
        "override_needs_network": gettext("This registration was already uploaded: overriding "
                                          "it needs the network."),
        "request_failed": gettext("The server refused the request: %(message)s"),
        "temp_from_scanner": gettext("From the thermal scanner, %(age)s s ago"),
        "temp_invalid": gettext("The temperature must be between 30.0 and 45.0 °C."),
        "refused": gettext("Refused by the server: %(num)s"),
        "no_plate": gettext("none"),
        "went_in": gettext("Going in"),
        "went_out": gettext("Going out"),
        "went_through": gettext("Passing through"),
        "check": gettext("CHECK BY EYE"),
        "offline_id_check": gettext("Offline, an ID number cannot be looked up: check the "
                                    "person's pass or ID card by eye."),
        "offline_id_queued": gettext("Queued: the server decides when this check is "
                                     "uploaded."),
        "area_elsewhere": gettext("an area elsewhere"),
        # A scanned health-status code (static/js/checkpoint/status.js).
        "level_green": gettext("Green"),
        "level_yellow": gettext("Yellow"),
        "level_red": gettext("Red"),
        "status_changed": gettext("The status changed after this code was issued: this is "
                                  "the status now."),
        "status_expired": gettext("This status code has expired: ask the person to open a "
                                  "fresh one."),
        "status_forged": gettext("This status code is not genuine (its signature does not "
                                 "verify)."),
        "status_unknown_key": gettext("This status code is not genuine (signed with an "
                                      "unknown key)."),
        "status_not_code": gettext("This is not a status code."),
        "status_checked_here": gettext("Checked on this device with the synced status list."),
        **{key: gettext(msg) for key, msg in ID_MESSAGES.items()},
    }


def _area_names(session: SessionDep, code: str, locale: str) -> dict[str, str]:
    """The names of the site's area and the areas containing it: a pass good here names one.

    The verdict shows a pass's areas by name, offline too, so the page carries them.
    """
    prefixes = [code[:2] + "0000", code[:4] + "00", code[:6], code[:9], code[:12]]
    codes = sorted({c for c in prefixes if c and len(c) <= len(code)} | {code})
    return area_service.names(session=session, codes=codes, locale=locale)


def _staff_sites(session: SessionDep, principal: CurrentPrincipal) -> list[Site]:
    return [s for s in site_service.list_visible(session=session, actor=principal)
            if s.active and site_authz.is_staff(principal, s)]


@router.get("")
def checkpoint(request: Request, session: SessionDep, principal: CurrentPrincipal,
               site: str | None = None, lane: str | None = None) -> Response:
    """Choose a site and a lane, then scan and register."""
    if not principal.has("registration.create"):
        raise Forbidden("Your role does not allow this.")
    sites = _staff_sites(session, principal)
    if site is None and len(sites) == 1:
        site = sites[0].code
    if site is None:
        return render(request, "checkpoint/choose.html", {"sites": sites, "site": None})
    chosen = site_service.get_for_staff(session=session, actor=principal, code=site)
    if lane is None and len(chosen.lanes) == 1:
        lane = chosen.lanes[0]
    if lane not in chosen.lanes:
        return render(request, "checkpoint/choose.html", {"sites": sites, "site": chosen})
    read = site_present.to_read_many(session, [chosen])[0]
    config = {
        "site": {"code": read.code, "name": read.name, "kind": read.kind,
                 "area_code": read.area_code, "fever_threshold": read.fever_threshold,
                 "opening_hours": read.opening_hours, "lanes": read.lanes,
                 "community_code": read.community_code},
        "lane": lane,
        # At a compound's gate the server (or, offline, this device) picks in or out
        # from the person's state; the guard confirms, and toggles only for exceptions.
        "direction": "through" if read.kind in THROUGH_KINDS
        else "auto" if read.community_code else "in",
        "csrf": principal.csrf_token,
        "reasons": {code: gettext(msg) for code, msg in REASONS.items()},
        "area_names": _area_names(session, read.area_code, get_locale()),
        "text": _ui_strings(),
    }
    return render(request, "checkpoint/page.html", {"site": read, "lane": lane,
                                                     "config": config})


@cache
def _worker_script() -> bytes:
    """The service worker, with the asset list and a content hash as its cache version."""
    digest = hashlib.sha256()
    for path in OFFLINE_ASSETS:
        digest.update((STATIC / path.removeprefix("/static/")).read_bytes())
    source = (STATIC / "js" / "checkpoint" / "sw.js").read_text(encoding="utf-8")
    digest.update(source.encode())
    return (source.replace("__VERSION__", digest.hexdigest()[:16])
            .replace("__ASSETS__", json.dumps(list(OFFLINE_ASSETS)))).encode()


@router.get("/sw.js")
def service_worker(principal: CurrentPrincipal) -> Response:
    """The checkpoint's service worker (scope /checkpoint: it keeps the page for offline use)."""
    return Response(_worker_script(), media_type="text/javascript", headers={
        "Service-Worker-Allowed": "/checkpoint", "Cache-Control": "no-cache"})


@site_router.get("/{code}")
def site_day(request: Request, code: str, session: SessionDep, principal: CurrentPrincipal,
             day: Day | None = None) -> Response:
    """A site's day: persons per hour, lanes, denials by reason, devices still offline."""
    site = site_service.get_visible(session=session, actor=principal, code=code)
    today = local_today()
    day = day or today
    figures = (stats.site_stats(session=session, site=site, day=day)
               if site_authz.can_see_stats(principal, site) else None)
    context: dict[str, object] = {
        "site": site_present.to_read_many(session, [site])[0], "figures": figures, "day": day,
        "prev_day": day - timedelta(days=1), "next_day": day + timedelta(days=1)
        if day < today else None,
        "is_staff": site_authz.is_staff(principal, site),
        "can_manage": site_authz.can_manage(principal, site),
        "reason_labels": {c: gettext(m) for c, m in REASONS.items()},
        "staff": site_present.staff_members(site_service.staff_of(session=session, site=site))
        if site_authz.can_manage(principal, site) else []}
    if site_authz.can_manage(principal, site):
        # Offline rows the server judged otherwise (no person data is shown).
        since, until = local_day_bounds(day)
        context["disagreements"] = registration_disagreements(
            session=session, area_code=site.area_code, site_id=site.id, since=since,
            until=until)
        context["alert_labels"] = {c: gettext(m) for c, m in ALERT_KINDS.items()}
        context["decision_labels"] = {"allow": gettext("Allowed"), "deny": gettext("Denied")}
    if figures is not None:
        # A phone is named by its site, number, user and first day, not its browser key.
        context["device_who"] = actors.labels(session=session, entries=figures.devices)
        context["hour_chart"] = charts.bar_chart(
            [f"{h:02d}:00" for h in range(24)], figures.per_hour,
            title=gettext("Persons per hour"), y_label=gettext("persons"))
        if figures.denials_by_reason:
            context["denial_chart"] = charts.bar_chart(
                [gettext(REASONS[c])[:14] for c, _ in figures.denials_by_reason],
                [n for _, n in figures.denials_by_reason],
                title=gettext("Denials by reason"), y_label=gettext("persons"),
                color="#b3261e")
    return render(request, "sites/day.html", context)
