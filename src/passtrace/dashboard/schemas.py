"""The dashboard API's shape: counts, their labels (in the caller's language) and links."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class Count(BaseModel):
    """One number, what it counts and the list behind it."""

    key: str
    label: str
    count: int
    href: str


class KindSeries(BaseModel):
    """Registrations per hour at one kind of site."""

    kind: str
    label: str
    counts: list[int]
    href: str


class RegistrationsRead(BaseModel):
    """Registrations: the last 24 hours by the hour, and today so far."""

    today: Count
    today_denied: Count
    today_fevers: Count
    by_kind: list[KindSeries]
    denied_per_hour: list[int]
    fevers_per_hour: list[int]
    denials_by_reason: list[Count]


class SiteRead(BaseModel):
    """A site's day so far; href opens the site's day page."""

    name: str
    kind_label: str
    total: int
    denied: int
    fevers: int
    href: str


class ReportsRead(BaseModel):
    """Today's daily reports: submitted of expected (rate 0..1, None with no staff)."""

    submitted: int
    expected: int
    rate: float | None
    flagged: int
    href: str


class AlertRuleRead(BaseModel):
    """Open alerts of one rule, by age (lt1h, h1to24, d1to3, gt3d)."""

    rule: str
    label: str
    total: int
    ages: dict[str, int]
    href: str


class AlertsRead(BaseModel):
    """Open (not yet closed) alerts."""

    total: Count
    by_rule: list[AlertRuleRead]
    age_labels: dict[str, str]


class CasesRead(BaseModel):
    """Open cases by classification, cases opened today."""

    open: Count
    today: Count
    by_classification: list[Count]


class TracingRead(BaseModel):
    """Tracing tasks of the last 14 days: the share reached within 24 h (0..1)."""

    tasks: Count
    due: int
    reached_in_time: int
    reached_share: float | None
    overdue: Count


class AreaLink(BaseModel):
    """An area one level down, to open its own dashboard."""

    code: str
    name: str
    href: str


class DashboardRead(BaseModel):
    """The command dashboard of a scope (an area, or the viewer's areas)."""

    title: str
    area_code: str | None
    generated_at: datetime
    window_start: datetime
    today_start: datetime
    hour_labels: list[str]
    registrations: RegistrationsRead
    sites: list[SiteRead]
    reports: ReportsRead
    alerts: AlertsRead
    cases: CasesRead
    tracing: TracingRead
    risks: list[Count]
    status: list[Count]
    areas: list[AreaLink]
