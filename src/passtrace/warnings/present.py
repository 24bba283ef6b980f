"""How alerts, rules and risk areas read to people: labels, explanations, evidence links."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from passtrace.areas import service as area_service
from passtrace.areas.models import Area, AreaRisk
from passtrace.core.clock import LOCAL_TZ, utcnow
from passtrace.core.i18n import N_, get_locale, gettext, lazy_gettext, translations
from passtrace.sites.models import Site
from passtrace.warnings import registry
from passtrace.warnings.models import Alert
from passtrace.warnings.schemas import AlertRead, PublicRisk, RuleRead

# Levels, severities and statuses stand alone in a badge, a table cell or a menu, so they
# read as labels, not as the lowercase words stored in the row ("open", "high risk" looked
# like raw codes).
LEVEL_TEXTS = {"high": N_("High risk"), "medium": N_("Medium risk"), "low": N_("Low risk")}
LEVEL_LABELS = {level: lazy_gettext(text) for level, text in LEVEL_TEXTS.items()}
SEVERITY_LABELS = {"high": lazy_gettext("High"), "medium": lazy_gettext("Medium"),
                   "low": lazy_gettext("Low")}
STATUS_LABELS = {"open": lazy_gettext("Awaiting action"),
                 "acknowledged": lazy_gettext("Acknowledged"),
                 "resolved": lazy_gettext("Resolved"), "dismissed": lazy_gettext("False alarm")}
RESOLUTION_LABELS = {"contacted": lazy_gettext("Person contacted"),
                     "isolated": lazy_gettext("Isolated or quarantined"),
                     "tested": lazy_gettext("Tested"),
                     "negative": lazy_gettext("Negative test recorded"),
                     "referred": lazy_gettext("Referred to a hospital"),
                     "no_action": lazy_gettext("No action needed"),
                     "false_alarm": lazy_gettext("False alarm")}

# A declaration's alert (one per person, warnings.detect.risk_declared): its evidence is
# the person's visits over the look-back, not one day's.
DECLARED = N_("%(area)s was declared a risk area on %(day)s; %(visits)s visits there on "
              "%(days)s.")


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def links(evidence: dict[str, Any]) -> dict[str, str]:
    """Where the evidence can be read (pages officials already have)."""
    out: dict[str, str] = {}
    if (case := _uuid(evidence.get("case"))) is not None:
        out["case"] = f"/cases/{case}"
    if (report := _uuid(evidence.get("report"))) is not None:
        out["report"] = f"/verify/reports/{report}"
    return out


def _names(session: Session, alerts: list[Alert]) -> tuple[dict[str, str], dict[str, str]]:
    site_ids = {u for a in alerts for k in ("site", "other_site")
                if (u := _uuid(a.evidence.get(k))) is not None}
    sites = {str(i): n for i, n in session.execute(
        select(Site.id, Site.name).where(Site.id.in_(site_ids)))} if site_ids else {}
    codes = {c for a in alerts for c in (a.area_code, a.evidence.get("area")) if c}
    areas = area_service.names(session=session, codes=sorted(codes), locale=get_locale())
    return sites, areas


def explanation(alert: Alert, sites: dict[str, str], areas: dict[str, str]) -> str:
    """The rule's explanation filled from the evidence, in the current language."""
    rule = registry.RULES.get(alert.rule_code)
    if rule is None:
        return alert.rule_code
    ev = alert.evidence
    site_of = lambda key: sites.get(str(_uuid(ev.get(key))), gettext("a site"))  # noqa: E731
    values = {"day": alert.day.isoformat(), "site": site_of("site"),
              "other_site": site_of("other_site"),
              "area": areas.get(ev.get("area") or alert.area_code, gettext("an area")),
              "temperature": ev.get("temperature", ""), "threshold": ev.get("threshold", ""),
              "until": ev.get("until", ""), "days": ev.get("days", ""),
              "minutes": ev.get("minutes", ""), "km": ev.get("km", ""),
              "speed": ev.get("speed", "")}
    if alert.rule_code == "risk_visit" and "declared" in ev:
        raw = ev.get("days")
        days: list[Any] = raw if isinstance(raw, list) else []
        return gettext(DECLARED, area=values["area"], day=values["day"],
                       visits=ev.get("visits", ""),
                       days=", ".join(sorted(str(d)[5:] for d in days)))
    # Evidence recorded without a value (an older alert, a site without a threshold then):
    # say the sentence written without it rather than leave a blank ("is  °C").
    text = next((variant for key, variant in rule.without if _missing(ev.get(key))),
                rule.explanation)
    return gettext(text, **values)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def alert_reads(session: Session, alerts: list[Alert],
                now: datetime | None = None) -> list[AlertRead]:
    """Alerts as the queue shows them (names looked up once for the page)."""
    now = now or utcnow()
    sites, areas = _names(session, alerts)
    return [AlertRead(
        id=a.id, rule=a.rule_code,
        rule_title=gettext(registry.RULES[a.rule_code].title)
        if a.rule_code in registry.RULES else a.rule_code,
        severity=a.severity, status=a.status, subject=a.subject_masked or "—",
        area_code=a.area_code, queue_area=a.queue_area, day=a.day, created_at=a.created_at,
        age_minutes=int((now - a.created_at).total_seconds() // 60),
        explanation=explanation(a, sites, areas), evidence=a.evidence,
        links=links(a.evidence), assigned_to=a.assigned_to, resolution=a.resolution,
        note=a.note, escalations=a.escalations) for a in alerts]


def area_names(session: Session, codes: list[str]) -> dict[str, str]:
    """Area names in the current language."""
    return area_service.names(session=session, codes=codes, locale=get_locale())


AREA_CHOICES = 500


def area_choices(session: Session, prefixes: list[str] | None) -> tuple[
        dict[str, str], list[tuple[str, str]]]:
    """What the declare form offers: the official's own areas (code → name) and the areas
    under them down to streets (communities are typed by code), at most AREA_CHOICES."""
    zh = get_locale() == "zh_CN"
    stmt = select(Area).where(Area.level != "community")
    if prefixes is not None:
        if not prefixes:
            return {}, []
        stmt = stmt.where(or_(*(Area.code.startswith(p) for p in prefixes)))
    rows = list(session.scalars(stmt.order_by(Area.code).limit(AREA_CHOICES)))
    label = {a.code: (a.name_zh if zh else a.name_en) for a in rows}
    # A scope's own area is its prefix padded with zeros (5201 → 520100).
    own = {c: label[c] for p in prefixes or () if (c := p.ljust(6, "0")) in label}
    return own, [(a.code, label[a.code]) for a in rows]


def public_risks(session: Session, risks: list[AreaRisk]) -> list[PublicRisk]:
    """Current risks with their names in both languages (the public page shows both)."""
    codes = {r.area_code for r in risks}
    names = {a.code: a for a in session.scalars(select(Area).where(Area.code.in_(codes)))}
    return [PublicRisk(area_code=r.area_code,
                       name_zh=names[r.area_code].name_zh if r.area_code in names else "",
                       name_en=names[r.area_code].name_en if r.area_code in names else "",
                       level=r.level, valid_from=r.valid_from, valid_until=r.valid_until,
                       reason=r.note) for r in risks]


_PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def _template(text: str) -> str:
    """An explanation as the rules page shows it: its %(name)s blanks as "…" (the names are
    codes, not words for people)."""
    return _PLACEHOLDER.sub("…", text)


def rule_reads(session: Session) -> list[RuleRead]:
    """Every rule as it runs now."""
    return [RuleRead(code=code, title=gettext(e.rule.title), severity=e.severity,
                     enabled=e.enabled, params=e.params,
                     explanation=_template(gettext(e.rule.explanation)))
            for code, e in registry.effective(session=session).items()]


def other_language() -> tuple[str, Callable[[str], str]]:
    """The language the page is not in (its `lang` attribute and its gettext): the public
    list reads in Chinese and English whichever one the visitor chose."""
    other = "en" if get_locale() == "zh_CN" else "zh_CN"
    return ("en" if other == "en" else "zh-CN"), translations(other).gettext


def local_time(value: datetime | None) -> str:
    """A time as people here read it."""
    return value.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M") if value else ""
