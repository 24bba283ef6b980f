"""A city's thousands of sites come a page at a time, in the API and on /sites."""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from passtrace.sites import pages as site_pages
from passtrace.sites.models import Site
from tests.querycount import assert_constant_queries


def _add_sites(session: Session, n: int, start: int = 0, area: str = "520102006") -> None:
    session.add_all(Site(code=f"PG-{i:05d}", name=f"分页卡口{i}", kind="road_checkpoint",
                         area_code=area, lanes=["1"], opening_hours=[], fever_threshold=37.3,
                         community_code="", active=True) for i in range(start, start + n))
    session.commit()


def test_the_site_list_api_pages_through_every_site_once(client, session, make_persona) -> None:
    _add_sites(session, 7)
    _add_sites(session, 2, start=100, area="520103001")  # outside the official's district
    official = make_persona("official", "area", "520102")
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        body = client.get("/api/v1/sites", params=params, headers=official.headers).json()
        assert len(body["items"]) <= 3
        seen += [s["code"] for s in body["items"]]
        cursor = body["next"]
        if cursor is None:
            break
    assert seen == [f"PG-{i:05d}" for i in range(7)]
    bad = client.get("/api/v1/sites", params={"cursor": "nonsense"}, headers=official.headers)
    assert bad.status_code == 422


def test_the_sites_page_shows_one_page_and_links_the_next(client, session, make_persona,
                                                          monkeypatch) -> None:
    monkeypatch.setattr(site_pages, "PAGE_SIZE", 4)
    _add_sites(session, 6)
    official = make_persona("official", "area", "520102")
    first = client.get("/sites", headers=official.headers)
    assert first.status_code == 200
    assert "PG-00003" in first.text and "PG-00004" not in first.text
    link = re.search(r'id="sites-next" href="([^"]+)"', first.text)
    assert link is not None
    second = client.get(link.group(1).replace("&amp;", "&"), headers=official.headers)
    assert "PG-00004" in second.text and "PG-00005" in second.text
    assert "PG-00003" not in second.text and 'id="sites-next"' not in second.text


def test_a_page_of_sites_costs_the_same_statements_however_many_sites(
        rt, client, session, make_persona) -> None:
    official = make_persona("official", "area", "520102")
    _add_sites(session, 3)
    added = iter(range(1000, 100_000, 1000))
    assert_constant_queries(
        rt.engine, lambda: client.get("/api/v1/sites", headers=official.headers),
        lambda: _add_sites(session, 300, start=next(added)))
    body = client.get("/api/v1/sites", headers=official.headers).json()
    assert len(body["items"]) == 50 and body["next"]
