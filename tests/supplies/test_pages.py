"""The officer's overview page: what is short, waiting, in stock and expiring; and who
may open it."""

from __future__ import annotations

from datetime import timedelta

from passtrace.core.clock import local_today
from passtrace.supplies import service
from tests.supplies.helpers import depot, item, stock


def test_the_overview_shows_stock_and_expiring_lots_in_scope(client, make_persona, session):
    officer = make_persona("supplies_officer", "area", "520102")
    other = make_persona("supplies_officer", "area", "520103")
    public = make_persona("public")
    d, i = depot(session), item(session)
    stock(session, d, i, "SOON-1", local_today() + timedelta(days=5), 70)
    service.issue(session=session, actor=None, depot_id=d.id, item_id=i.id, quantity=60,
                  consumer="卡口")
    session.commit()
    page = client.get("/supplies", headers=officer.headers)
    assert page.status_code == 200
    assert "SOON-1" in page.text and i.name in page.text and d.name in page.text
    assert 'id="supplies-shortages"' in page.text  # 10 left at 60 in 14 days: short
    assert d.name not in client.get("/supplies", headers=other.headers).text
    assert client.get("/supplies", headers=public.headers).status_code == 403
