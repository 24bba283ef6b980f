"""Figures to what the page and the API show: labels in the viewer's language and, for
every number, the link to the list behind it (the lists log their own reads)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from passtrace.cases.present import CLASSIFICATION_LABELS
from passtrace.core.clock import LOCAL_TZ
from passtrace.core.i18n import N_, get_locale, gettext
from passtrace.dashboard.figures import AGES, Figures
from passtrace.dashboard.schemas import (
    AlertRuleRead,
    AlertsRead,
    AreaLink,
    CasesRead,
    Count,
    DashboardRead,
    KindSeries,
    RegistrationsRead,
    ReportsRead,
    SiteRead,
    TracingRead,
)
from passtrace.dashboard.scope import Scope, drill_down
from passtrace.health.present import LEVEL_LABELS as HEALTH_LABELS
from passtrace.rules.reasons import REASONS
from passtrace.sites.present import KIND_LABELS
from passtrace.warnings import registry
from passtrace.warnings.present import LEVEL_LABELS as RISK_LABELS

AGE_LABELS = {"lt1h": N_("under 1 hour"), "h1to24": N_("1 to 24 hours"),
              "d1to3": N_("1 to 3 days"), "gt3d": N_("over 3 days")}
# Denial reasons a rule turns into alerts: their list is that rule's queue. The others
# are listed on each site's day page (the site list leads there).
REASON_RULES = {"revoked": "pass_invalid", "expired": "pass_invalid",
                "area_not_allowed": "pass_outside_area",
                "site_not_allowed": "pass_outside_area", "fever": "checkpoint_fever"}
ALERTS, SITES, CASES, TASKS = "/warnings/alerts", "/sites", "/cases", "/tracing/tasks"
RISKS, FLAGGED, ENTERPRISES = "/warnings/risk-areas", "/health/flagged", "/enterprises"


def _link(path: str, **query: str) -> str:
    kept = {k: v for k, v in query.items() if v}
    return f"{path}?{urlencode(kept)}" if kept else path


def _kind(kind: str) -> str:
    return gettext(KIND_LABELS[kind]) if kind in KIND_LABELS else gettext("Other sites")


def _rule(code: str) -> str:
    rule = registry.RULES.get(code)
    return gettext(rule.title) if rule else gettext("Other alerts")


def _reason(code: str) -> str:
    return gettext(REASONS[code]) if code in REASONS else gettext("Other reasons")


def title(session: Session, scope: Scope) -> str:
    """What the dashboard covers: the area's name, or all the viewer's areas."""
    if scope.area is not None:
        return scope.area.name_zh if get_locale() == "zh_CN" else scope.area.name_en
    return gettext("All my areas") if scope.prefixes is not None else gettext("All areas")


def to_read(session: Session, scope: Scope, f: Figures) -> DashboardRead:
    """The dashboard as the page draws it and the API answers it."""
    area = scope.area.code if scope.area is not None else ""
    reg = f.registrations
    alerts = [AlertRuleRead(rule=rule, label=_rule(rule), total=sum(ages.values()),
                            ages={k: ages.get(k, 0) for k, _ in AGES},
                            href=_link(ALERTS, status="open", rule=rule))
              for rule, ages in sorted(f.alerts.items(), key=lambda kv: -sum(kv[1].values()))]
    hours = [(f.window.start + timedelta(hours=i)).astimezone(LOCAL_TZ).strftime("%H:00")
             for i in range(len(reg.denied_per_hour))]
    return DashboardRead(
        title=title(session, scope), area_code=area or None,
        # The instant every figure is as of (the window's end), so a check can recount it.
        generated_at=f.window.end,
        window_start=f.window.start, today_start=f.window.today_start, hour_labels=hours,
        registrations=RegistrationsRead(
            today=Count(key="today", label=gettext("Registrations today"), count=reg.today,
                        href=SITES),
            today_denied=Count(key="denied", label=gettext("Denied today"),
                               count=reg.today_denied, href=SITES),
            today_fevers=Count(key="fevers", label=gettext("Fevers at checkpoints today"),
                               count=reg.today_fevers,
                               href=_link(ALERTS, rule="checkpoint_fever")),
            by_kind=[KindSeries(kind=k, label=_kind(k), counts=v, href=SITES)
                     for k, v in sorted(reg.by_kind.items())],
            denied_per_hour=reg.denied_per_hour, fevers_per_hour=reg.fevers_per_hour,
            denials_by_reason=[
                Count(key=code, label=_reason(code), count=n,
                      href=_link(ALERTS, rule=REASON_RULES[code])
                      if code in REASON_RULES else SITES)
                for code, n in sorted(reg.denials_by_reason.items(), key=lambda kv: -kv[1])]),
        sites=[SiteRead(name=s.name, kind_label=_kind(s.kind), total=s.total, denied=s.denied,
                        fevers=s.fevers, href=f"{SITES}/{s.code}") for s in f.sites],
        reports=ReportsRead(submitted=f.reports.submitted, expected=f.reports.expected,
                            rate=f.reports.rate, flagged=f.reports.flagged, href=ENTERPRISES),
        alerts=AlertsRead(
            total=Count(key="open", label=gettext("Open alerts"),
                        count=sum(a.total for a in alerts), href=_link(ALERTS, status="open")),
            by_rule=alerts, age_labels={k: gettext(v) for k, v in AGE_LABELS.items()}),
        cases=CasesRead(
            open=Count(key="open", label=gettext("Open cases"), count=sum(f.cases.values()),
                       href=_link(CASES, status="open", area=area)),
            today=Count(key="today", label=gettext("Cases opened today"), count=f.cases_today,
                        href=_link(CASES, area=area)),
            by_classification=[
                Count(key=c, label=gettext(CLASSIFICATION_LABELS.get(c, c)), count=n,
                      href=_link(CASES, status="open", classification=c, area=area))
                for c, n in sorted(f.cases.items())]),
        tracing=TracingRead(
            tasks=Count(key="tasks", label=gettext("Contacts to reach (14 days)"),
                        count=f.tracing.tasks, href=TASKS),
            due=f.tracing.due, reached_in_time=f.tracing.reached_in_time,
            reached_share=f.tracing.reached_share,
            overdue=Count(key="overdue", label=gettext("Not reached and overdue"),
                          count=f.tracing.overdue, href=_link(TASKS, overdue="true"))),
        risks=[Count(key=level, label=str(RISK_LABELS[level]), count=f.risks.get(level, 0),
                     href=RISKS) for level in ("high", "medium", "low")],
        status=[Count(key=level, label=gettext(HEALTH_LABELS[level]),
                      count=f.status.get(level, 0),
                      href=_link(FLAGGED, level=level, area=area))
                for level in ("red", "yellow")],
        areas=_areas(session, scope))


def _areas(session: Session, scope: Scope) -> list[AreaLink]:
    zh = get_locale() == "zh_CN"
    return [AreaLink(code=a.code, name=a.name_zh if zh else a.name_en,
                     href=_link("/dashboard", area=a.code))
            for a in drill_down(session=session, scope=scope)
            if scope.area is None or a.code != scope.area.code]

