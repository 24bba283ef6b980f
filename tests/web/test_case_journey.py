"""An official opens a case on the page, reads the person's timeline, finds and exports the
contacts; the revealed contact sees the export in "who viewed my data" (real Chromium)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from passtrace.accounts.models import User
from passtrace.audit.models import AuditEntry
from passtrace.cases.models import Case
from passtrace.core.clock import LOCAL_TZ, local_today, utcnow
from passtrace.core.ids import uuid7
from passtrace.people.models import Person
from passtrace.registrations.models import Registration
from passtrace.sites.models import Site
from tests.conftest import next_id_number
from tests.web.conftest import LiveServer, login

pytestmark = pytest.mark.browser


def _passed(live_server: LiveServer, person_hash: str, at: Any) -> str:
    """Store that a person passed a Nanming site at `at`; return the site's name."""
    with live_server.rt.sessions() as s:
        site = s.scalars(select(Site).where(Site.area_code.startswith("520102"),
                                            Site.kind == "road_checkpoint")
                         .order_by(Site.code)).first()
        assert site is not None
        s.add(Registration(id=uuid7(), site_id=site.id, lane="1", device_key="browser-test",
                           occurred_at=at, received_at=at, direction="through",
                           method="id_typed", person_hash=person_hash, decision="allow",
                           reasons=[]))
        s.commit()
        return site.name


def _open_case(page: Any, number: str) -> None:
    """The official's way from the home page to a new confirmed case's page."""
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


def test_an_official_opens_a_case_and_sees_its_timeline(new_context: Callable[..., Any],
                                                        live_server: LiveServer,
                                                        shot: Callable[..., Any]) -> None:
    number = next_id_number()
    seen_at = utcnow() - timedelta(days=1)
    site_name = _passed(live_server, live_server.rt.vault.lookup_hash(number), seen_at)

    page = new_context().new_page()
    _open_case(page, number)
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


def test_the_contacts_are_found_exported_revealed_and_the_contact_sees_it(
        new_context: Callable[..., Any], live_server: LiveServer,
        shot: Callable[..., Any]) -> None:
    number = next_id_number()
    seen_at = utcnow() - timedelta(hours=20)
    with live_server.rt.sessions() as s:
        li_na = s.scalars(select(Person).join(User, User.person_id == Person.id)
                          .where(User.username == "resident2")).one()
        li_hash, li_masked = li_na.id_hash, li_na.id_masked
        li_number = live_server.rt.vault.read(li_na, "id_enc")
    _passed(live_server, live_server.rt.vault.lookup_hash(number), seen_at)
    _passed(live_server, li_hash, seen_at + timedelta(minutes=6))  # 李娜, six minutes later

    page = new_context().new_page()
    _open_case(page, number)
    # The case page loads its contacts section (htmx): none searched yet.
    page.wait_for_selector("#contacts #no-contacts")
    with page.expect_navigation():
        page.click("#run-contacts")
    row = page.locator(f"#contact-table tr:has-text('{li_masked}')")
    assert row.count() == 1
    assert "密切接触者" in row.inner_text() and "同一场所前后数分钟内" in row.inner_text()
    assert "未联系上" in row.inner_text()  # a tracing task was made for her
    assert li_number not in page.content()  # masked until revealed

    reason = "流调需电话核实密接人员行程"
    page.click("#export-contacts summary")
    page.check("#export-reveal")
    page.select_option("#export-purpose", "contact_tracing")
    page.fill("#export-reason", reason)
    shot(page, "contacts-export", full_page=True)
    with page.expect_download() as download:
        page.click("#export-submit")
    path = download.value.path()
    assert path is not None
    exported = Path(path).read_text(encoding="utf-8-sig")
    assert li_number in exported and li_masked in exported

    # 李娜 logs in and finds the export, with the reason, in "who viewed my data".
    hers = new_context().new_page()
    login(hers, "resident2")
    hers.goto("/me/access-log")
    first = hers.locator("table tbody tr").first
    assert "导出了病例的接触者名单" in first.inner_text()
    assert reason in first.inner_text()
    assert "防控办工作人员 · 南明区" in first.inner_text()  # who, never a login name
    shot(hers, "access-log-export", full_page=True)
