"""Pass pages without a browser: pagination, HTML errors, form errors."""

from __future__ import annotations

import uuid

from tests.passes.helpers import apply


def test_the_review_queue_pages_with_a_cursor(client, make_persona):
    official = make_persona("official", "area", "520102")
    created = []
    for _ in range(5):
        resident = make_persona("public")
        created.append(apply(client, resident.headers)["id"])
    seen: list[str] = []
    url = "/api/v1/passes/review?limit=2"
    while url:
        page = client.get(url, headers=official.headers).json()
        seen += [p["id"] for p in page["items"]]
        url = f"/api/v1/passes/review?limit=2&cursor={page['next']}" if page["next"] else ""
    mine = [pid for pid in seen if pid in created]
    assert mine == list(reversed(created))  # newest first, each exactly once


def test_browsers_get_an_html_error_page(client, make_persona):
    resident = make_persona("public")
    resp = client.get(f"/passes/{uuid.uuid4()}", headers={**resident.headers,
                                                          "Accept": "text/html"})
    assert resp.status_code == 404
    assert resp.headers["content-type"].startswith("text/html")
    assert 'id="error-message"' in resp.text


def test_an_unknown_page_is_a_translated_404(client):
    resp = client.get("/no/such/page", headers={"Accept-Language": "en"})
    assert resp.status_code == 404 and "Page not found." in resp.text
    api = client.get("/api/v1/nothing-here")
    assert api.status_code == 404 and api.json()["error"]["code"] == "http_404"


def test_the_apply_form_reshows_field_errors_and_saves_nothing(client, make_persona):
    resident = make_persona("public")
    resp = client.post("/passes/apply", headers={**resident.headers, "Accept-Language": "en"},
                       data={"purpose": "commute", "valid_from": "2026-01-01T08:00",
                             "valid_until": "garbage", "areas": ["520102006"],
                             "companions": "many"})
    # Bearer-authenticated form posts skip CSRF (no cookie to ride on).
    assert resp.status_code == 422
    assert "Enter a date and time." in resp.text
    assert client.get("/api/v1/passes/mine", headers=resident.headers).json()["items"] == []


def test_the_detail_page_shows_the_history_of_decisions(client, make_persona):
    resident = make_persona("public")
    official = make_persona("official", "area", "520102")
    p = apply(client, resident.headers)
    client.post(f"/api/v1/passes/{p['id']}/reject", json={"reason": "材料不全"},
                headers=official.headers)
    page = client.get(f"/passes/{p['id']}", headers={**resident.headers, "Accept-Language": "en"})
    history = page.text[page.text.index('id="history"'):]
    assert history.index("Applied for a pass") < history.index("Rejected a pass")
    assert "材料不全" in history
    # Who decided, as a role and office: never the official's login name.
    assert "Prevention office official · " in history
    assert official.user.username not in history


def test_the_home_page_counts_what_waits_for_an_official(client, make_persona):
    official = make_persona("official", "area", "520103")  # Yunyan: nothing pending there yet
    resident = make_persona("public")
    apply(client, resident.headers, areas=["520103003"])
    apply(client, resident.headers, areas=["520103003"])
    apply(client, resident.headers, areas=["520102006"])  # not Yunyan's
    page = client.get("/", headers={**official.headers, "Accept-Language": "en"})
    assert "2 waiting" in page.text


def test_an_oversized_body_is_refused_before_it_is_read(client, make_persona):
    resident = make_persona("public")
    resp = client.post("/api/v1/passes", content=b"{" + b" " * 2_000_000 + b"}",
                       headers={**resident.headers, "Content-Type": "application/json"})
    assert resp.status_code == 413 and resp.json()["error"]["code"] == "too_large"


def test_approving_from_the_queue_answers_the_updated_row(client, make_persona):
    resident = make_persona("public")
    official = make_persona("official", "area", "520102")
    p = apply(client, resident.headers)
    hx = {**official.headers, "HX-Request": "true", "Accept-Language": "en"}
    row = client.post(f"/passes/{p['id']}/approve", headers=hx)
    assert row.status_code == 200
    assert row.text.lstrip().startswith("<tr") and 'data-status="approved"' in row.text
    assert "inline-decide" not in row.text  # nothing left to decide
    again = client.post(f"/passes/{p['id']}/approve", headers=hx)
    assert again.status_code == 200 and "already decided" in again.text
    outsider = make_persona("official", "area", "520103")
    refused = client.post(f"/passes/{p['id']}/approve",
                          headers={**outsider.headers, "HX-Request": "true"})
    assert refused.status_code == 404


def test_apply_again_prefills_my_old_pass_but_not_someone_elses(client, make_persona):
    resident = make_persona("public")
    p = apply(client, resident.headers, purpose="medical", plate="贵AD12345", companions=2,
              areas=["520103003"])
    form = client.get(f"/passes/apply?copy={p['id']}", headers=resident.headers).text
    assert '<option value="medical" selected>' in form
    assert '<option value="520103003" selected>' in form
    assert 'value="贵AD12345"' in form and 'value="2"' in form
    other = make_persona("public")
    assert client.get(f"/passes/apply?copy={p['id']}", headers=other.headers).status_code == 404
