"""Risk areas: declare, lift, history, the published list, the public page."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from passtrace.areas.models import AreaRisk
from passtrace.core.clock import local_today
from passtrace.warnings import service


def test_declare_then_lift_keeps_the_history_and_queues_a_scan(client, session, world):  # type: ignore[no-untyped-def]
    h = world.official.headers
    made = client.post("/api/v1/area-risks", headers=h, json={
        "area_code": "520102", "level": "high", "note": "聚集性疫情"})
    assert made.status_code == 201, made.text
    risk_id = made.json()["id"]
    session.expire_all()
    assert session.get(AreaRisk, __import__("uuid").UUID(risk_id)).scanned_at is None
    elsewhere = client.post(f"/api/v1/area-risks/{risk_id}/end", json={"reason": "清零"},
                            headers=world.outsider.headers)
    assert elsewhere.status_code == 404
    lifted = client.post(f"/api/v1/area-risks/{risk_id}/end", json={"reason": "清零"},
                         headers=h)
    assert lifted.status_code == 200 and lifted.json()["lifted_at"] is not None
    client.post("/api/v1/area-risks", headers=h, json={"area_code": "520102", "level": "low"})
    history = client.get("/api/v1/area-risks/history?area=520102", headers=h).json()["items"]
    assert [r["level"] for r in history] == ["low", "high"]


def test_the_public_page_needs_no_login_and_shows_both_languages(client, session, world):  # type: ignore[no-untyped-def]
    client.post("/api/v1/area-risks", headers=world.official.headers, json={
        "area_code": "520102", "level": "high", "note": "聚集性疫情"})
    client.cookies.clear()
    page = client.get("/risk-areas")
    assert page.status_code == 200
    assert "南明区" in page.text and "Nanming" in page.text and "聚集性疫情" in page.text
    assert "高风险" in page.text
    english = client.get("/risk-areas", headers={"Accept-Language": "en"})
    assert "High risk" in english.text
    api = client.get("/api/v1/public/risk-areas").json()["items"]
    assert api[0]["name_en"].startswith("Nanming")


def _csv(*rows: str) -> bytes:
    return ("code,level,from,until\n" + "\n".join(rows) + "\n").encode()


def test_a_published_list_is_all_or_nothing_with_a_row_report(client, session, world):  # type: ignore[no-untyped-def]
    h = world.official.headers
    today = local_today().isoformat()
    later = (local_today() + timedelta(days=7)).isoformat()
    data = _csv(f"520102,高风险,{today},{later}", f"520103,medium,{today},",  # not mine
                f"520102,low,{today},", "999999,high,2026-13-01,")
    refused = client.post("/api/v1/area-risks/import", headers=h,
                          files={"file": ("list.csv", data, "text/csv")})
    assert refused.status_code == 200 and refused.json()["committed"] is False
    problems = {(p["row"], p["column"]) for p in refused.json()["problems"]}
    assert problems == {(3, "code"), (4, "code"), (5, "code"), (5, "from")}
    session.expire_all()
    assert session.scalar(select(AreaRisk.id)) is None
    partial = client.post("/api/v1/area-risks/import", headers=h, data={"import_valid": "true"},
                          files={"file": ("list.csv", data, "text/csv")})
    assert partial.json()["imported"] == 1
    again = client.post("/api/v1/area-risks/import", headers=h,
                        files={"file": ("list.csv", _csv(f"520102,high,{today},{later}"),
                                        "text/csv")})
    assert again.json()["unchanged"] == 1 and again.json()["imported"] == 0
    page = client.post("/warnings/risk-areas/import", headers=h,
                       files={"file": ("list.csv", data, "text/csv")})
    assert page.status_code == 422 and "没有这个区划代码。" in page.text


def test_a_declared_area_is_scanned_once_by_the_job(client, session, rt, world):  # type: ignore[no-untyped-def]
    client.post("/api/v1/area-risks", headers=world.official.headers,
                json={"area_code": "520102001", "level": "high"})
    session.expire_all()
    first = service.run(session=session, settings=rt.settings)
    assert first.scanned_areas == 1
    assert service.run(session=session, settings=rt.settings).scanned_areas == 0


def test_officials_see_a_declaration_being_applied_until_its_scan_has_run(
        client, session, rt, world) -> None:  # type: ignore[no-untyped-def]
    h = world.official.headers
    made = client.post("/api/v1/area-risks", headers=h,
                       json={"area_code": "520102001", "level": "high"})
    assert made.json()["scanned_at"] is None
    assert "正在标记到访人员" in client.get("/warnings/risk-areas", headers=h).text
    session.expire_all()
    service.run(session=session, settings=rt.settings)
    history = client.get("/api/v1/area-risks/history?area=520102001", headers=h).json()
    assert history["items"][0]["scanned_at"] is not None
    assert "正在标记到访人员" not in client.get("/warnings/risk-areas", headers=h).text


def test_the_form_refuses_bad_input_in_chinese(client, session, world):  # type: ignore[no-untyped-def]
    page = client.post("/warnings/risk-areas", headers=world.official.headers,
                       data={"area_code": "12", "level": "high"})
    assert page.status_code == 422 and "请输入区划代码" in page.text
    session.expire_all()
    assert session.scalar(select(AreaRisk.id)) is None
