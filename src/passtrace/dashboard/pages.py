"""The command dashboard page: numbers rendered here (usable without script), charts and
auto-refresh by web/static/js/dashboard.js from the same figures as the API."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from passtrace.core.clock import LOCAL_TZ
from passtrace.core.i18n import gettext
from passtrace.dashboard import service
from passtrace.web import charts
from passtrace.web.deps import CurrentPrincipal, SessionDep
from passtrace.web.render import render

router = APIRouter(prefix="/dashboard", include_in_schema=False)
REFRESH_S = 60
# A wall screen may refresh faster; never so fast it becomes load (nor slower than 10 min).
REFRESH_BOUNDS = (5, 600)


@router.get("")
def dashboard(request: Request, session: SessionDep, principal: CurrentPrincipal,
              area: str = "", every: str = "") -> Response:
    """The dashboard of my areas, or of one area inside them."""
    data = service.read(session=session, actor=principal, area=area[:40] or None)
    seconds = int(every) if every.isdigit() and len(every) < 5 else REFRESH_S
    seconds = min(max(seconds, REFRESH_BOUNDS[0]), REFRESH_BOUNDS[1])
    reg = data.registrations
    totals = [sum(k.counts[i] for k in reg.by_kind) for i in range(len(data.hour_labels))]
    return render(request, "dashboard/index.html", {
        "d": data, "refresh_s": seconds, "tz": LOCAL_TZ.key,
        "api": "/api/v1/dashboard" + (f"?area={data.area_code}" if data.area_code else ""),
        "payload": data.model_dump(mode="json"),
        # Drawn on the server so the page shows the day without script; the script
        # replaces it with the interactive chart (tooltips, zoom).
        "fallback": charts.line_chart(data.hour_labels, totals,
                                      title=gettext("Registrations per hour"),
                                      y_label=gettext("registrations"))})
