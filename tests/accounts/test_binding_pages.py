"""The pages: sign up unlinked then link with a code; offices hand out codes; unlinking."""

from __future__ import annotations

import re

from tests.accounts.identity_helpers import CODE, compound_with_resident


def _csrf(client, path: str) -> str:  # type: ignore[no-untyped-def]
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text).group(1)


def _page_login(client, persona_username: str) -> None:  # type: ignore[no-untyped-def]
    resp = client.post("/login", data={"csrf_token": _csrf(client, "/login"),
                                       "username": persona_username,
                                       "password": "correct-horse-42"},
                       follow_redirects=False)
    assert resp.status_code == 303, resp.text


def test_sign_up_without_a_code_explains_how_to_link_then_links_with_one(
        client, make_persona):
    office = compound_with_resident(client, make_persona)
    resp = client.post("/register", follow_redirects=False, headers={"Accept-Language": "en"},
                       data={"csrf_token": _csrf(client, "/register"), "username": "chen88",
                             "password": "long-enough-1", "name": "陈静",
                             "id_number": office.id_number, "phone": ""})
    assert resp.status_code == 303 and resp.headers["location"] == "/me/bind"
    page = client.get("/me/bind", headers={"Accept-Language": "en"})
    assert "claim code" in page.text and "compound office" in page.text
    csrf = _csrf(client, "/me/bind")
    # The compound manager hands out a code through their page (shown once).
    manager = client.__class__(client.app)
    _page_login(manager, office.manager.user.username)
    issued = manager.post(f"/communities/{CODE}/residents/{office.resident_id}/claim-code",
                          data={"csrf_token": _csrf(manager, f"/communities/{CODE}/households")})
    assert issued.status_code == 200, issued.text
    code = re.search(r'id="claim-code"[^>]*>([A-Z0-9-]+)<', issued.text).group(1)
    wrong = client.post("/me/bind", headers={"Accept-Language": "en"}, data={
        "csrf_token": csrf, "name": "陈静", "id_number": office.id_number,
        "claim_code": "ZZZZZ-ZZZZZ"})
    assert wrong.status_code == 422 and "do not match" in wrong.text
    done = client.post("/me/bind", follow_redirects=False, data={
        "csrf_token": csrf, "name": "陈静", "id_number": office.id_number, "claim_code": code})
    assert done.status_code == 303 and done.headers["location"] == "/passes/mine"
    assert client.get("/api/v1/me").json()["person_id"] == office.person_id


def test_an_official_unlinks_on_the_page_and_a_short_reason_is_refused(
        client, make_persona):
    from tests.accounts.identity_helpers import resident_code, sign_up

    office = compound_with_resident(client, make_persona)
    assert sign_up(client, "wrong01", office.id_number, "陈静",
                   code=resident_code(client, office)).status_code == 201
    _page_login(client, office.official.user.username)
    csrf = _csrf(client, f"/people/{office.person_id}/unbind")
    short = client.post(f"/people/{office.person_id}/unbind",
                        data={"csrf_token": csrf, "reason": "x"})
    assert short.status_code == 422
    ok = client.post(f"/people/{office.person_id}/unbind",
                     data={"csrf_token": csrf, "reason": "本人到场核实"})
    assert ok.status_code == 200 and 'id="unbind-done"' in ok.text
