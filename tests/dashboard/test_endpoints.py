"""Who may open the dashboard, over which areas; bad input is a clear error, never a 500."""

from __future__ import annotations

from datetime import timedelta

from passtrace.core.clock import utcnow
from passtrace.sites.models import Site
from tests.dashboard.conftest import registration


def _sites(session):  # type: ignore[no-untyped-def]
    nanming = Site(code="NM-X", name="南明卡口", kind="road_checkpoint", area_code="520102",
                   lanes=["1"], opening_hours=[], fever_threshold=37.3, community_code="")
    yunyan = Site(code="YY-X", name="云岩卡口", kind="road_checkpoint", area_code="520103",
                  lanes=["1"], opening_hours=[], fever_threshold=37.3, community_code="")
    session.add_all([nanming, yunyan])
    session.flush()
    registration(session, nanming, utcnow() - timedelta(minutes=5))
    registration(session, yunyan, utcnow() - timedelta(minutes=5))
    registration(session, yunyan, utcnow() - timedelta(minutes=3))
    session.commit()


def test_a_district_official_gets_their_district_and_nothing_else(client, session,
                                                                  make_persona):
    _sites(session)
    me = make_persona("official", "area", "520102", name="南明疾控")
    mine = client.get("/api/v1/dashboard", headers=me.headers)
    assert mine.status_code == 200, mine.text
    assert mine.json()["registrations"]["today"]["count"] == 1
    assert mine.json()["area_code"] == "520102"
    other = client.get("/api/v1/dashboard?area=520103", headers=me.headers)
    assert other.status_code == 404
    assert client.get("/api/v1/dashboard?area=520102", headers=me.headers
                      ).json()["registrations"]["today"]["count"] == 1
    page = client.get("/dashboard?area=520103", headers=me.headers)
    assert page.status_code == 404


def test_the_city_official_sees_all_and_drills_into_a_district(client, session, make_persona):
    _sites(session)
    city = make_persona("official", "area", "520100", name="贵阳市疾控")
    assert client.get("/api/v1/dashboard", headers=city.headers
                      ).json()["registrations"]["today"]["count"] == 3
    yunyan = client.get("/api/v1/dashboard?area=520103", headers=city.headers).json()
    assert yunyan["registrations"]["today"]["count"] == 2
    assert yunyan["title"] == "云岩区"


def test_a_resident_is_refused(client, make_persona):
    resident = make_persona("public")
    assert client.get("/api/v1/dashboard", headers=resident.headers).status_code == 403
    assert client.get("/dashboard", headers=resident.headers).status_code == 403


def test_full_width_digits_are_the_same_area_and_junk_is_a_clear_error(client, session,
                                                                       make_persona):
    _sites(session)
    me = make_persona("official", "area", "520102")
    wide = client.get("/api/v1/dashboard", params={"area": "５２０１０２"}, headers=me.headers)
    assert wide.status_code == 200 and wide.json()["registrations"]["today"]["count"] == 1
    for junk in ("abc", "5201", "520102\x00", "'; drop table sites; --", "9" * 40):
        r = client.get("/api/v1/dashboard", params={"area": junk}, headers=me.headers)
        assert r.status_code in (404, 422), (junk, r.status_code)
        assert r.json()["error"]["message"]
    zh = client.get("/api/v1/dashboard", params={"area": "abc"},
                    headers={**me.headers, "Accept-Language": "zh-CN"})
    assert zh.status_code == 422 and "行政区划代码" in zh.json()["error"]["message"]
    unknown = client.get("/api/v1/dashboard", params={"area": "520102999"}, headers=me.headers)
    assert unknown.status_code == 404


def test_every_number_on_the_page_links_to_its_list(client, session, make_persona):
    _sites(session)
    me = make_persona("official", "area", "520102")
    html = client.get("/dashboard", headers=me.headers).text
    for href in ('href="/sites"', 'href="/warnings/alerts?status=open"',
                 'href="/cases?status=open&amp;area=520102"', 'href="/tracing/tasks"',
                 'href="/tracing/tasks?overdue=true"', 'href="/warnings/risk-areas"',
                 'href="/health/flagged?level=red&amp;area=520102"', 'href="/enterprises"',
                 'href="/sites/NM-X"',
                 'href="/warnings/alerts?rule=checkpoint_fever"'):
        assert href in html, href
    assert 'data-figure="registrations.today">1</a>' in html
    assert "/static/vendor/echarts/echarts.common.min.js" in html


def test_the_official_finds_the_dashboard_in_the_menu_and_on_home(client, make_persona):
    me = make_persona("official", "area", "520102")
    home = client.get("/", headers=me.headers).text
    assert 'id="tile-dashboard"' in home and 'href="/dashboard"' in home
    resident = make_persona("public")
    assert 'id="tile-dashboard"' not in client.get("/", headers=resident.headers).text


def test_the_menu_offers_the_dashboard_to_officials_only():
    import uuid

    from passtrace.core.security import Binding, Principal
    from passtrace.web import nav

    official = Principal(user_id=uuid.uuid4(), username="u", display_name="u",
                         person_id=None, bindings=(Binding("official", "area", "520102"),))
    items = nav.items_for(official)
    assert [i.href for i in items if i.key == "warnings"] == ["/dashboard"]
    # The alert queue and the risk areas stay under the same destination.
    assert nav.current(items, "/warnings/alerts") == "warnings"
    assert nav.current(items, "/dashboard") == "warnings"
    assert "/dashboard" not in [i.href for i in nav.items_for(Principal(
        user_id=uuid.uuid4(), username="u", display_name="u", person_id=None,
        bindings=(Binding("public", "global"),)))]
