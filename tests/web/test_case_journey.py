"""An official opens a case on the page and reads the person's timeline (real Chromium)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from passtrace.audit.models import AuditEntry
from passtrace.cases.models import Case
from passtrace.core.clock import LOCAL_TZ, local_today, utcnow
from passtrace.core.ids import uuid7
from passtrace.registrations.models import Registration
from passtrace.sites.models import Site
from tests.conftest import next_id_number
from tests.web.conftest import LiveServer, login

pytestmark = pytest.mark.browser


def test_an_official_opens_a_case_and_sees_its_timeline(new_context: Callable[..., Any],
                                                        live_server: LiveServer,
                                                        shot: Callable[..., Any]) -> None:
    number = next_id_number()
    seen_at = utcnow() - timedelta(days=1)
    with live_server.rt.sessions() as s:
        site = s.scalars(select(Site).where(Site.area_code.startswith("520102"))
                         .order_by(Site.code)).first()
        assert site is not None
        s.add(Registration(id=uuid7(), site_id=site.id, lane="1", device_key="browser-test",
                           occurred_at=seen_at, received_at=seen_at, direction="through",
                           method="id_typed", person_hash=live_server.rt.vault.lookup_hash(number),
                           decision="allow", reasons=[]))
        s.commit()
        site_name = site.name

    page = new_context().new_page()
    login(page, "official_nm")
    with page.expect_navigation():
        page.click("#tile-cases")
    with page.expect_navigation():
        page.click("#new-case")
    page.fill("#id_number", number)
    page.select_option("#classification", "confirmed")
    page.fill("#onset_date", (local_today() - timedelta(days=2)).isoformat())
    page.fill("#source", "发热门诊报告")
    with page.expect_navigation():
        page.click("#case-form button[type=submit]")

    assert "/cases/" in page.url
    assert page.locator("#case-classification").inner_text() == "确诊病例"
    row = page.locator("#timeline-table tr.tl-registration")
    assert row.count() == 1
    assert site_name in row.inner_text()
    assert seen_at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M") in row.inner_text()
    assert page.locator("#timeline svg.chart.timeline circle").count() == 1
    shot(page, "case-page", full_page=True)
    # The person's ID number never appears in clear.
    assert number not in page.content()

    case_id = page.url.rsplit("/", 1)[-1]
    with live_server.rt.sessions() as s:
        case = s.scalars(select(Case).where(Case.id == uuid.UUID(case_id))).one()
        actions = set(s.scalars(select(AuditEntry.action).where(
            AuditEntry.subject_person_id == case.person_id)))
    assert {"case.create", "case.view", "case.timeline"} <= actions
