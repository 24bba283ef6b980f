"""The dashboard's figures on a hand-built district with known answers (both databases)."""

from __future__ import annotations

import re
import uuid
from datetime import date
from typing import Any

import pytest
from sqlalchemy import event, text

from passtrace.areas.models import Area
from passtrace.core.security import Binding, Principal
from passtrace.dashboard import figures, scope, service
from passtrace.dashboard.schemas import DashboardRead
from passtrace.dashboard.window import window
from passtrace.registrations import partitions
from tests.dashboard.conftest import NOW, World

NINE = 22  # 24 hourly buckets end with 10:00 local (NOW 10:30): 11:00 yesterday first


def official(scope_type: str = "area", value: str = "520102") -> Principal:
    return Principal(user_id=uuid.uuid4(), username="o", display_name="疾控",
                     person_id=None, bindings=(Binding("official", scope_type, value),))


def read(session: Any, who: Principal, area: str | None = None) -> DashboardRead:
    return service.read(session=session, actor=who, area=area, now=NOW)


def counts(items: list[Any]) -> dict[str, int]:
    return {c.key: c.count for c in items}


def test_the_district_sees_its_registrations_by_hour_kind_and_reason(session, world: World):
    d = read(session, official())
    assert d.hour_labels[0] == "11:00" and d.hour_labels[NINE] == "09:00"
    kinds = {k.kind: k.counts for k in d.registrations.by_kind}
    assert set(kinds) == {"community_gate", "road_checkpoint"}  # Yunyan's venue is not ours
    assert kinds["community_gate"][NINE] == 3 and sum(kinds["community_gate"]) == 3
    # 08:15 today denied, 20:00 yesterday in the 24 h; two days ago and 11:00 (after now) not
    assert kinds["road_checkpoint"][NINE - 1] == 1 and sum(kinds["road_checkpoint"]) == 2
    assert d.registrations.today.count == 4
    assert d.registrations.today_denied.count == 1
    assert d.registrations.today_fevers.count == 1
    assert d.registrations.denied_per_hour[NINE - 1] == 1
    assert counts(d.registrations.denials_by_reason) == {"revoked": 1}
    assert d.registrations.denials_by_reason[0].href == "/warnings/alerts?rule=pass_invalid"
    sites = {s.name: (s.total, s.denied, s.fevers) for s in d.sites}
    assert sites == {"南明检查站": (1, 1, 1), "南明一号门": (3, 0, 0)}
    assert d.sites[0].href == "/sites/NM-C1"  # most denials first, linking its day page


def test_the_district_sees_its_alerts_cases_contacts_risks_status_and_reports(session, world):
    d = read(session, official())
    rules = {a.rule: a.ages for a in d.alerts.by_rule}
    assert rules == {"checkpoint_fever": {"lt1h": 0, "h1to24": 1, "d1to3": 0, "gt3d": 0},
                     "pass_invalid": {"lt1h": 0, "h1to24": 0, "d1to3": 0, "gt3d": 1}}
    assert d.alerts.total.count == 2
    assert d.cases.open.count == 2
    assert counts(d.cases.by_classification) == {"confirmed": 1, "suspected": 1}
    assert d.tracing.tasks.count == 3 and d.tracing.due == 2
    assert d.tracing.reached_in_time == 1 and d.tracing.reached_share == 0.5
    assert d.tracing.overdue.count == 1 and d.tracing.overdue.href == "/tracing/tasks?overdue=true"
    assert counts(d.risks) == {"high": 1, "medium": 0, "low": 0}
    assert counts(d.status) == {"red": 1, "yellow": 1}  # the manual flag counts here
    assert (d.reports.submitted, d.reports.expected, d.reports.flagged) == (3, 4, 1)
    assert d.reports.rate == 0.75


def test_the_city_sees_every_district(session, world):
    d = read(session, official("area", "520100"))
    assert d.registrations.today.count == 6
    assert d.registrations.today_fevers.count == 2  # Yunyan's 37.5 against 37.3
    assert {k.kind for k in d.registrations.by_kind} == {"community_gate", "road_checkpoint",
                                                        "venue"}
    assert d.alerts.total.count == 3 and d.cases.open.count == 3
    assert counts(d.risks) == {"high": 1, "medium": 1, "low": 0}
    assert {a.code for a in d.areas} >= {"520102", "520103"}  # drill down into districts
    assert counts(d.status) == {"red": 1, "yellow": 1}  # the flag with no area: not here
    everywhere = read(session, official("global", ""))
    assert counts(everywhere.status) == {"red": 1, "yellow": 2}


def test_drilling_into_an_area_narrows_every_figure(session, world):
    d = read(session, official("area", "520100"), area="520102001")
    assert d.title == session.get(Area, "520102001").name_zh  # the area's own name
    assert d.registrations.today.count == 3
    assert d.alerts.total.count == 1 and d.cases.open.count == 1
    assert d.cases.open.href == "/cases?status=open&area=520102001"
    assert counts(d.risks)["high"] == 1


def test_on_postgresql_the_registrations_read_only_the_open_hours_partition(session, world):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite keeps registrations in one table")
    partitions.create_ahead(session, today=date(2026, 11, 25), days_ahead=12)
    where = scope.resolve(session=session, actor=official(), area=None)
    stmt = figures.registrations_statement(session, where, window(NOW))
    compiled = stmt.compile(dialect=session.get_bind().dialect,
                            compile_kwargs={"literal_binds": True})
    plan = "\n".join(r[0] for r in session.execute(text(f"EXPLAIN {compiled}")))
    scanned = set(re.findall(r"registrations_(p\d{8}|default)", plan))
    # The closed hours come from the hourly counts; only the rest of the open hour (10:30
    # to 11:00 local, 02:30-03:00 UTC, an hour's slack either side) is read live.
    assert scanned == {"p20261203"}, plan


def test_the_open_hours_live_rows_are_read_once_for_the_series_and_the_busiest_sites(
        session, world):
    # The hourly series and the busiest sites both need the open hour's rows still ahead
    # of now, the one part read from registrations: one statement reads it for both.
    engine = session.get_bind().engine
    seen: list[str] = []

    def spy(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", spy)
    try:
        d = read(session, official())
    finally:
        event.remove(engine, "before_cursor_execute", spy)
    live = [s for s in seen if re.search(r"\b(FROM|JOIN)\s+registrations\b", s)]
    assert len(live) == 1, live
    assert d.registrations.today.count == sum(s.total for s in d.sites) == 4
