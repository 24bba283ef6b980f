"""A compound's day at its gates: the overview (in/out by hour, who is out and overdue,
visitors today) and the who-is-out page with the week's outings per household."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response

from passtrace.communities.compounds import overview
from passtrace.communities.compounds import service as community_service
from passtrace.communities.compounds.page_helpers import (
    clean_text,
    community_or_404,
    compound_ctx,
)
from passtrace.communities.outings import service as outing_service
from passtrace.communities.visits import service as visit_service
from passtrace.core.clock import local_today, utcnow
from passtrace.core.i18n import gettext
from passtrace.core.validators import check_day
from passtrace.rules import outings as outing_rules
from passtrace.web import charts
from passtrace.web.deps import CurrentPrincipal, SessionDep
from passtrace.web.render import render

router = APIRouter(include_in_schema=False)


# --- one compound: overview ----------------------------------------------------------------

def _day(raw: str) -> tuple[date, str | None]:
    today = local_today()
    if not raw:
        return today, None
    try:
        day = check_day(date.fromisoformat(raw[:10]))
    except ValueError:  # not a date, or outside the bounds of every date input
        return today, gettext("Enter a date.")
    return (day, None) if day <= today else (today, None)


@router.get("/communities/{code}")
def community_home(request: Request, code: str, session: SessionDep,
                   principal: CurrentPrincipal, day: str = "", saved: str = "") -> Response:
    """Overview: size, who is out and overdue, visitors today, rules, gates, in/out by hour."""
    c = community_or_404(session, principal, code)
    chosen, day_error = _day(clean_text(day, 20))
    today = local_today()
    series = outing_service.in_out_by_hour(session=session, c=c, day=chosen)
    hours = [f"{h:02d}:00" for h in range(24)]
    chart = charts.grouped_bar_chart(
        hours, [(gettext("Entries"), series["in"], "#0a7d32"),
                (gettext("Exits"), series["out"], "#0b5cad")],
        title=gettext("Entries and exits by hour, %(day)s", day=chosen.isoformat()),
        y_label=gettext("persons"))
    return render(request, "communities/overview.html", {
        **compound_ctx(principal, c, "overview"),
        "counts": community_service.counts(session=session, c=c),
        "out_now": outing_service.out_count(session=session, c=c),
        "overdue": len(outing_service.who_is_out(session=session, c=c, overdue_only=True)),
        "visitors": visit_service.visitors_on(session=session, c=c, day=today),
        "rules": outing_rules.summary(outing_rules.rules_of(c)),
        "gates": community_service.gates(session=session, c=c),
        "chart": chart, "day": chosen, "today": today, "day_error": day_error,
        "entries": sum(series["in"]), "exits": sum(series["out"]),
        "prev_day": chosen - timedelta(days=1),
        "next_day": chosen + timedelta(days=1) if chosen < today else None,
        "saved": saved == "rules"})


# --- who is out ----------------------------------------------------------------------------

@router.get("/communities/{code}/out")
def out_now(request: Request, code: str, session: SessionDep, principal: CurrentPrincipal,
            overdue: str = "", week: str = "") -> Response:
    """Who is out now (longest first; overdue in red) and outings per household this week."""
    c = community_or_404(session, principal, code)
    only_overdue = overdue not in ("", "0", "false")
    rows = outing_service.who_is_out(session=session, c=c, overdue_only=only_overdue)
    weekly = outing_service.outings_this_week(session=session, c=c)
    community_service.record_resident_reads(session=session, actor=principal, people=[
        (r.outing_id, r.person_id) for r in rows], via="who_is_out")
    top = weekly[:10]
    short = overview.short_labels(session=session, household_ids=[w.household_id for w in top])
    chart = charts.bar_chart(
        [short.get(w.household_id, w.household) for w in top], [w.outings for w in top],
        title=gettext("Outings this week: the busiest households"),
        y_label=gettext("outings")) if top else None
    return render(request, "communities/out.html", {
        **compound_ctx(principal, c, "out"), "rows": rows, "overdue_only": only_overdue,
        "overdue": outing_service.overdue_count(rows), "week": weekly, "chart": chart,
        "all_week": week == "all",
        "week_start": outing_rules.week_start(utcnow()),
        "max_out_minutes": c.max_out_minutes})
