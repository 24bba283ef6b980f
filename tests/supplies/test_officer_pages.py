"""The officer's stock (keyset pages), days-of-cover chart and expiring lots (both
databases)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from passtrace.core.clock import local_today, utcnow
from passtrace.supplies import officer_pages, service
from passtrace.supplies.models import LedgerEntry
from tests.supplies.helpers import depot, item, stock
from tests.supplies.page_helpers import staff_of


def test_stock_by_item_and_depot_pages_without_repeats(client, make_persona, session,
                                                       monkeypatch):
    monkeypatch.setattr(officer_pages, "PAGE_SIZE", 2)
    d = depot(session)
    items = [item(session) for _ in range(3)]
    for n, i in enumerate(items):
        stock(session, d, i, f"PG-{n}", local_today() + timedelta(days=90), 10 + n)
    session.commit()
    officer = make_persona("supplies_officer", "area", "520102")
    seen, url = [], "/supplies/stock"
    for _ in range(10):
        page = client.get(url, headers=officer.headers)
        assert page.status_code == 200
        seen += [i.name for i in items if i.name in page.text]
        if 'id="next-page"' not in page.text:
            break
        url = page.text.split('id="next-page"')[0].rsplit('href="', 1)[1].split('"')[0]
        url = url.replace("&amp;", "&")
    assert sorted(seen) == sorted(i.name for i in items)  # each once, over two pages
    assert client.get("/supplies/stock", headers=staff_of(make_persona, d).headers
                      ).status_code == 403
    assert d.name not in client.get("/supplies/stock", headers=make_persona(
        "supplies_officer", "area", "520103").headers).text


def test_the_cover_chart_draws_the_curve_and_the_threshold(client, make_persona, session):
    d, i = depot(session, "checkpoint"), item(session)
    stock(session, d, i, "CV-1", local_today() + timedelta(days=300), 1000)
    # Ten days of issues, 50 a day, dated in the past: a curve falling towards the line.
    for back in range(10, 0, -1):
        [entry] = service.issue(session=session, actor=None, depot_id=d.id, item_id=i.id,
                                quantity=50, consumer="卡口")
        session.execute(update(LedgerEntry).where(LedgerEntry.id == entry.id)
                        .values(created_at=utcnow() - timedelta(days=back)))
    session.commit()
    officer = make_persona("supplies_officer", "area", "520102")
    page = client.get(f"/supplies/cover?depot={d.id}&item={i.id}", headers=officer.headers)
    assert page.status_code == 200
    chart = page.text[page.text.index('id="cover-chart"'):]
    assert "<svg" in chart and "<polyline" in chart and 'class="reference"' in chart
    assert i.name in chart  # the chart's title names what it shows
    # 500 left at 500/14 a day: 14 days of cover, above the 10-day line: not short.
    assert "14.0" in page.text


def test_expiring_lots_within_the_chosen_days(client, make_persona, session):
    d, i = depot(session), item(session)
    stock(session, d, i, "EXP-SOON", local_today() + timedelta(days=5), 10)
    stock(session, d, i, "EXP-LATER", local_today() + timedelta(days=60), 10)
    session.commit()
    officer = make_persona("supplies_officer", "area", "520102")
    week = client.get("/supplies/expiring?days=7", headers=officer.headers).text
    assert "EXP-SOON" in week and "EXP-LATER" not in week
    quarter = client.get("/supplies/expiring?days=90", headers=officer.headers).text
    assert "EXP-SOON" in quarter and "EXP-LATER" in quarter
    # Full-width digits from a Chinese keyboard count; anything else is refused, not
    # silently answered for another number of days.
    assert "EXP-LATER" in client.get("/supplies/expiring?days=９０",
                                     headers=officer.headers).text
    for typed in ("abc", "0", "366"):
        refused = client.get(f"/supplies/expiring?days={typed}", headers=officer.headers)
        assert refused.status_code == 422 and 'id="form-message"' in refused.text
        assert "EXP-SOON" not in refused.text
    assert client.get("/supplies/expiring", headers=make_persona("public").headers
                      ).status_code == 403
