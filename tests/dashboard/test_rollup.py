"""The hourly registration counts the dashboard reads (dashboard/rollup.py), both databases.

The figures must equal a count of the registrations themselves at every boundary
(local midnight, hour edges, the window's first hour, the instant of `now`), before and
after the counts are folded, and whatever path wrote the rows: a device's late batch
into an hour already folded, an import, an override, a deletion.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from passtrace.core.clock import freeze
from passtrace.core.ids import uuid7
from passtrace.core.security import Binding, Principal
from passtrace.dashboard import rollup, service
from passtrace.dashboard.models import RegistrationHour, RegistrationHourDelta
from passtrace.dashboard.schemas import DashboardRead
from passtrace.dashboard.window import window
from passtrace.registrations import imports, ingest
from passtrace.registrations import service as registration_service
from passtrace.registrations.models import Registration
from passtrace.registrations.schemas import BatchIn
from passtrace.sites.models import Site
from tests.conftest import next_id_number
from tests.dashboard.conftest import NOW, local, registration

US = timedelta(microseconds=1)


def official(value: str = "520102") -> Principal:
    return Principal(user_id=uuid.uuid4(), username="o", display_name="疾控",
                     person_id=None, bindings=(Binding("official", "area", value),))


def read(session: Any, now: datetime = NOW) -> DashboardRead:
    session.expire_all()
    return service.read(session=session, actor=official(), now=now)


def by_hour(d: DashboardRead) -> list[int]:
    return [sum(k.counts[i] for k in d.registrations.by_kind)
            for i in range(len(d.hour_labels))]


def live(session: Any, now: datetime = NOW) -> tuple[list[int], int, int, int]:
    """The same figures counted from the registrations rows, in Python: per hour, today,
    denied today, fevers today (the district's sites, the window ending at `now`)."""
    w = window(now)
    hours = [0] * 24
    today = denied = fevers = 0
    rows = session.execute(select(Registration.occurred_at, Registration.decision,
                                  Registration.temperature, Site.fever_threshold)
                           .join(Site, Site.id == Registration.site_id)
                           .where(Site.area_code.startswith("520102")))
    for at, decision, temperature, threshold in rows:
        at = at if at.tzinfo else at.replace(tzinfo=UTC)
        if not w.start <= at < w.end:
            continue
        hours[int((at - w.start).total_seconds() // 3600)] += 1
        if at >= w.today_start:
            today += 1
            denied += decision == "deny"
            fevers += temperature is not None and temperature >= threshold
    return hours, today, denied, fevers


def figures(d: DashboardRead) -> tuple[list[int], int, int, int]:
    r = d.registrations
    return by_hour(d), r.today.count, r.today_denied.count, r.today_fevers.count


def site_today(d: DashboardRead) -> tuple[int, int, int]:
    """The busiest sites' today (total, denied, fevers), summed: the test's one site."""
    return (sum(s.total for s in d.sites), sum(s.denied for s in d.sites),
            sum(s.fevers for s in d.sites))


@pytest.fixture
def frozen() -> Iterator[None]:
    freeze(NOW)
    yield
    freeze(None)


def fold(session: Any, now: datetime = NOW) -> None:
    rollup.fold(session, now=now)
    session.commit()


def test_every_boundary_counts_as_the_rows_say_before_and_after_folding(session, site):
    w = window(NOW)
    assert w.today_start == local(3, 0)  # local midnight is 16:00 UTC, on the hour
    at = [
        w.start - US,  # 10:59:59.999999 yesterday: before the window
        w.start,  # 11:00 yesterday: the first hour
        local(3, 0) - US,  # 23:59:59.999999: yesterday's last hour, not today
        local(3, 0),  # midnight: today's first
        local(3, 8, 59) + timedelta(seconds=59) + 999_999 * US,  # the end of 08:00
        local(3, 9),  # 09:00 sharp
        NOW - US,  # just before now, in the open hour
        NOW,  # now itself: not yet (the window ends at now)
        local(3, 10, 45),  # later in the open hour: not yet
        local(3, 11) - US,  # the open hour's last instant: not yet
        local(3, 11),  # the next hour's first
        local(3, 11, 5),  # the next hour
    ]
    for i, moment in enumerate(at):
        registration(session, site, moment, decision="deny" if i % 2 else "allow",
                     reasons=["revoked"] if i % 2 else None,
                     temperature=38.0 if i % 3 == 0 else 36.5)
    session.commit()
    expected = live(session)
    hours, today, denied, fevers = expected
    assert sum(hours) == 6 and (today, denied, fevers) == (4, 2, 2)
    assert [hours[i] for i in (0, 12, 13, 21, 22, 23)] == [1] * 6
    # The open hour's rows still ahead of now (10:30, 10:45, 10:59:59.999999) are taken
    # away once from the counts, in the hourly series and the busiest sites alike: taken
    # twice or missed, these would be off by one or three.
    assert figures(read(session)) == expected
    assert site_today(read(session)) == (today, denied, fevers)
    fold(session)
    assert session.scalar(select(func.count()).select_from(RegistrationHourDelta)) == 0
    assert figures(read(session)) == expected
    assert site_today(read(session)) == (today, denied, fevers)
    # At 11:00 sharp the 10:00 hour has closed (10:30 to 10:59:59.999999 count); 11:00
    # itself is now, not yet, nor is 11:05.
    later = local(3, 11)
    assert figures(read(session, later)) == (at_eleven := live(session, later))
    assert site_today(read(session, later)) == at_eleven[1:]
    assert at_eleven[1:] == (7, 4, 3)
    assert by_hour(read(session, later))[22] == 4 and by_hour(read(session, later))[23] == 0


def test_a_late_offline_batch_into_a_folded_hour_counts_at_once(session, rt, site, frozen,
                                                                 make_persona):
    registration(session, site, local(3, 8, 10))
    session.commit()
    fold(session)
    assert by_hour(read(session))[21] == 1  # 08:00
    staff = make_persona("checkpoint_staff", "site", site.code)
    # A phone offline since 08:00 uploads two rows of that (folded) hour, and one of 07:00.
    body = BatchIn(site=site.code, device_key="phone-1", sent_at=NOW, registrations=[
        {"id": str(uuid7()), "lane": "1", "occurred_at": t.isoformat(), "direction": "through",
         "method": "id_typed", "id_number": next_id_number(), "decision": "allow",
         "reasons": ["unknown_person"], "override_reason": "人工核验身份证无误"}
        for t in (local(3, 8, 20), local(3, 8, 40), local(3, 7, 30))])
    out = ingest.ingest(session=session, rt=rt, actor=staff.principal, batch=body)
    assert out["stored"] == 3, out
    session.commit()
    d = read(session)
    assert by_hour(d)[21] == 3 and by_hour(d)[20] == 1
    assert figures(d) == live(session)
    fold(session)
    assert figures(read(session)) == live(session)
    # Sent again (a retry): duplicates, nothing counted twice.
    again = ingest.ingest(session=session, rt=rt, actor=staff.principal, batch=body)
    session.commit()
    assert again["stored"] == 0 and by_hour(read(session))[21] == 3


def test_an_import_of_yesterdays_rows_counts_in_their_hours(session, rt, site, frozen):
    fold(session)
    data = ("external_id,site_code,id_number,occurred_at,direction,temperature,plate\n"
            f"x-1,{site.code},{next_id_number()},2026-12-02T23:30:00+08:00,through,38.5,\n"
            f"x-2,{site.code},{next_id_number()},2026-12-03T00:00:00+08:00,through,36.4,\n"
            f"x-3,{site.code},{next_id_number()},2026-12-01T09:00:00+08:00,through,,\n")
    result = imports.import_registrations(session=session, vault=rt.vault, actor=None,
                                          stream=io.BytesIO(data.encode()),
                                          commit=session.commit)
    session.commit()
    assert result.imported == 3
    d = read(session)
    assert by_hour(d)[12] == 1 and by_hour(d)[13] == 1  # 23:00 yesterday, 00:00 today
    assert d.registrations.today.count == 1 and sum(d.registrations.fevers_per_hour) == 1
    assert figures(d) == live(session)
    fold(session)
    assert figures(read(session)) == live(session)


def test_an_override_moves_the_denial_and_a_deletion_takes_it_away(session, site, frozen,
                                                                   make_persona):
    row = registration(session, site, local(3, 9, 15), decision="deny", reasons=["expired"])
    session.commit()
    fold(session)
    d = read(session)
    assert d.registrations.today_denied.count == 1
    assert {c.key: c.count for c in d.registrations.denials_by_reason} == {"expired": 1}
    staff = make_persona("checkpoint_staff", "site", site.code)
    registration_service.override(session=session, actor=staff.principal,
                                  registration_id=row.id, reason="持有效纸质证明")
    session.commit()
    d = read(session)
    assert d.registrations.today.count == 1 and d.registrations.today_denied.count == 0
    assert d.registrations.denials_by_reason == []
    fold(session)
    assert figures(read(session)) == live(session)
    session.delete(session.get(Registration, row.id))
    session.commit()
    assert read(session).registrations.today.count == 0
    fold(session)
    assert read(session).registrations.today.count == 0
    # The folded hour's row, now zero, is gone; hours older than two days too.
    assert session.scalar(select(func.count()).select_from(RegistrationHour).where(
        RegistrationHour.site_id == site.id)) == 0
