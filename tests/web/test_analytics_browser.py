"""The analytics page in real Chromium: a district official asks for the busiest sites
of their district, watches the run, downloads the result; another district's official
does not see it.

The lake is exported from the live server's demo database (Nanming's checkpoint
morning), as `passtrace lake export` does.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from passtrace.analytics import jobs as analytics_jobs
from passtrace.analytics.lake.export import export
from passtrace.analytics.lake.source import Source
from passtrace.sites.models import Site
from tests.web.conftest import LiveServer, login

pytestmark = pytest.mark.browser


@pytest.fixture
def lake(live_server: LiveServer, tmp_path: Path) -> Iterator[Path]:
    """The demo exported to a lake, and the server pointed at it (restored after)."""
    rt = live_server.rt
    before = rt.settings
    export(Source(rt.engine), tmp_path / "lake")
    rt.settings = before.model_copy(update={"lake_dir": str(tmp_path / "lake"),
                                            "analytics_results_dir": str(tmp_path / "out")})
    yield tmp_path / "lake"
    rt.settings = before


def _nanming_sites(live_server: LiveServer) -> set[str]:
    with live_server.rt.sessions() as session:
        return {str(i) for i in session.scalars(
            select(Site.id).where(Site.area_code.startswith("520102")))}


def test_an_official_runs_site_load_for_the_district_and_downloads_it(
        new_context: Callable[..., Any], live_server: LiveServer, lake: Path,
        shot: Callable[..., Any]) -> None:
    page = new_context().new_page()
    login(page, "official_nm")
    page.goto("/analytics")
    page.select_option("select[name=job]", "site-load")
    # No area picked: the run stays inside Nanming, the official's district.
    with page.expect_navigation():
        page.click("#run-form button[type=submit]")
    run_url = page.url
    assert "/analytics/runs/" in run_url
    assert page.locator("#run-status").inner_text() == "排队中"
    shot(page, "analytics-queued")

    assert analytics_jobs.run_queued(live_server.rt) == "1 analytics run(s)"
    # The page reloads itself (meta refresh) until the run is done: wait for the done page.
    page.wait_for_selector("#download", timeout=15_000)
    expect(page.locator("#run-status")).to_have_text("已完成")
    with page.expect_download() as got:
        page.click("#download")
    rows = pq.read_table(io.BytesIO(Path(got.value.path()).read_bytes())).to_pylist()
    assert rows, "the demo morning has registrations at Nanming's checkpoint"
    assert {r["site_id"] for r in rows} <= _nanming_sites(live_server)
    assert sum(r["registrations"] for r in rows if r["reason"] == "*") > 0
    shot(page, "analytics-done")

    page.goto("/analytics")
    row = page.locator(f"tr[data-run='{run_url.rsplit('/', 1)[1]}']")
    assert "南明区防控办" in row.inner_text() and "official_nm" not in row.inner_text()

    other = new_context().new_page()
    login(other, "official_yy")  # Yunyan: not their district's run
    assert other.goto(run_url).status == 404
    other.goto("/analytics")
    assert other.locator(f"tr[data-run='{run_url.rsplit('/', 1)[1]}']").count() == 0


def test_the_area_list_names_areas_and_refuses_an_empty_range(
        new_context: Callable[..., Any], live_server: LiveServer, lake: Path) -> None:
    page = new_context().new_page()
    login(page, "official_nm")
    page.goto("/analytics")
    options = page.locator("#areas option").all_inner_texts()
    assert any("南明区" in o for o in options)
    assert not any("云岩区" in o for o in options)  # only the official's jurisdiction
    page.fill("input[name=day_from]", "2026-11-10")
    page.fill("input[name=day_to]", "2026-11-01")
    page.evaluate("document.getElementById('run-form').noValidate = true")
    with page.expect_navigation():
        page.click("#run-form button[type=submit]")
    assert "结束日期早于开始日期" in page.locator("form#run-form").inner_text() \
        or "结束日期早于开始日期" in page.content()


def test_companions_become_the_cases_contacts_and_are_exported_with_a_reason(
        new_context: Callable[..., Any], live_server: LiveServer, lake: Path,
        tmp_path: Path, shot: Callable[..., Any]) -> None:
    """A new case's person passed a Nanming checkpoint; 王建国 passed 40 minutes later
    (outside the case's 30-minute window, inside the run's 60) and someone with no
    person record 10 minutes later. The official runs companions for the case, adds them
    to its contacts, and exports them revealed; 王建国 sees the export."""
    from passtrace.accounts.models import User
    from passtrace.core.clock import utcnow
    from passtrace.core.ids import uuid7
    from passtrace.people.models import Person
    from passtrace.registrations.models import Registration
    from tests.conftest import next_id_number
    from tests.web.test_case_journey import _open_case

    rt = live_server.rt
    number = next_id_number()
    seen_at = utcnow() - timedelta(hours=20)
    with rt.sessions() as s:
        wang = s.scalars(select(Person).join(User, User.person_id == Person.id)
                         .where(User.username == "resident3")).one()
        wang_hash, wang_masked = wang.id_hash, wang.id_masked
        wang_number = rt.vault.read(wang, "id_enc")
        # A checkpoint of its own (inactive and listed last, so other tests' site lists
        # do not change): other tests' passers-by stay out of this run.
        site = Site(code=f"ZZ-BT-{uuid7().hex[-8:]}", name="浏览器测试卡口",
                    kind="road_checkpoint", area_code="520102001", active=False)
        s.add(site)
        s.flush()
        for who, minutes in ((rt.vault.lookup_hash(number), 0), (wang_hash, 40),
                             ("f" * 64, 10)):
            at = seen_at + timedelta(minutes=minutes)
            s.add(Registration(id=uuid7(), site_id=site.id, lane="1",
                               device_key="browser-test", occurred_at=at, received_at=at,
                               direction="through", method="id_typed", person_hash=who,
                               decision="allow", reasons=[]))
        s.commit()

    page = new_context().new_page()
    _open_case(page, number)
    case_id = page.url.rsplit("/", 1)[-1]
    # The lake as it is now (the fixture's was exported before these registrations).
    export(Source(rt.engine), tmp_path / "lake-now")
    rt.settings = rt.settings.model_copy(update={"lake_dir": str(tmp_path / "lake-now")})

    page.goto("/analytics")
    page.select_option("select[name=job]", "companions")
    page.select_option("#cases", case_id)
    page.fill("input[name=window_minutes]", "60")
    with page.expect_navigation():
        page.click("#run-form button[type=submit]")
    assert analytics_jobs.run_queued(rt) == "1 analytics run(s)"
    page.wait_for_selector("#convert-form", timeout=15_000)  # the page reloads until done
    expect(page.locator("#convert-case option")).to_have_count(1)  # the run's one case
    with page.expect_navigation():
        page.click("#convert-submit")
    row = page.locator(f"#conversion-table tr[data-case='{case_id}']")
    cells = row.locator("td").all_inner_texts()
    assert cells[3:] == ["1", "0", "0", "1"]  # 王建国 added; the bare hash only counted
    assert "南明区防控办" in cells[1]  # who, by name
    shot(page, "analytics-companions-added", full_page=True)

    reason = "流调需电话核实时空伴随人员行程"
    page.click("#export-1-contacts summary")
    page.check("#export-1-reveal")
    page.select_option("#export-1-purpose", "contact_tracing")
    page.fill("#export-1-reason", reason)
    with page.expect_download() as download:
        page.click("#export-1-submit")
    exported = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert wang_number in exported and wang_masked in exported

    # The case's contact list names where 王建国 came from, masked.
    with page.expect_navigation():
        row.locator("a").click()
    assert page.url.endswith(f"/cases/{case_id}/contacts")
    contact = page.locator(f"#contact-table tr:has-text('{wang_masked}')")
    assert "人群分析中的时空伴随" in contact.inner_text()
    assert "未联系上" in contact.inner_text()  # a tracing task, like the search's
    assert wang_number not in page.content()

    his = new_context().new_page()
    login(his, "resident3")
    his.goto("/me/access-log")
    first = his.locator("table tbody tr").first
    assert "导出了来自人群分析时空伴随结果的病例接触者名单" in first.inner_text()
    assert reason in first.inner_text()
