"""The site page names its staff as people (never by login name) and takes one off duty
by account id; a login name the manager types that matches nobody says so, translated."""

from __future__ import annotations

from sqlalchemy import select

from passtrace.accounts.models import RoleBinding
from tests.registrations.conftest import SITE


def _on_duty(session, user_id) -> bool:  # type: ignore[no-untyped-def]
    session.expire_all()
    return session.scalar(select(RoleBinding.id).where(
        RoleBinding.user_id == user_id, RoleBinding.role == "checkpoint_staff",
        RoleBinding.scope_type == "site", RoleBinding.scope_value == SITE)) is not None


def _put_on_duty(client, official, *personas) -> None:  # type: ignore[no-untyped-def]
    for p in personas:
        resp = client.post(f"/sites/{SITE}/staff", data={"username": p.user.username},
                           headers=official.headers, follow_redirects=False)
        assert resp.status_code == 303, resp.text


def _staff_section(html: str) -> str:
    return html.split('id="staff"')[1].split("</section>")[0]


def test_the_site_page_names_staff_without_login_names(client, checkpoint, make_persona):
    official = checkpoint.official
    first, second = make_persona("public", name="张伟"), make_persona("public", name="张伟")
    other = make_persona("public", name="李娜")
    _put_on_duty(client, official, first, second, other)
    html = _staff_section(client.get(f"/sites/{SITE}", headers=official.headers).text)
    for p in (first, second, other, checkpoint.staff):
        assert p.user.username not in html
    # Namesakes are numbered by account age, so the manager can tell them apart.
    assert f'data-staff="{first.user.id}">张伟（1号）' in html
    assert f'data-staff="{second.user.id}">张伟（2号）' in html
    assert f'data-staff="{other.user.id}">李娜\n' in html
    assert f'action="/sites/{SITE}/staff/{second.user.id}/remove"' in html


def test_the_site_page_takes_the_chosen_namesake_off_duty(client, session, checkpoint,
                                                          make_persona):
    official = checkpoint.official
    first, second = make_persona("public", name="张伟"), make_persona("public", name="张伟")
    _put_on_duty(client, official, first, second)
    resp = client.post(f"/sites/{SITE}/staff/{second.user.id}/remove",
                       headers=official.headers, follow_redirects=False)
    assert resp.status_code == 303
    assert _on_duty(session, first.user.id) and not _on_duty(session, second.user.id)
    html = _staff_section(client.get(f"/sites/{SITE}", headers=official.headers).text)
    # The one namesake left needs no number.
    assert f'data-staff="{first.user.id}">张伟\n' in html
    # A login name in the address no longer takes anyone off duty; nor does a stranger's id.
    for target in (first.user.username, second.user.id, "not-an-id"):
        gone = client.post(f"/sites/{SITE}/staff/{target}/remove", headers=official.headers)
        assert gone.status_code == 404, target
        assert "此人不在本站点值守" in gone.text
    assert _on_duty(session, first.user.id)


def test_an_unknown_login_name_is_a_clear_translated_error(client, session, checkpoint):
    official = checkpoint.official
    resp = client.post(f"/sites/{SITE}/staff", data={"username": "no-such-login"},
                       headers=official.headers)
    assert resp.status_code == 404
    assert "没有登录名为 no-such-login 的有效账号" in resp.text
    assert f'href="/sites/{SITE}#staff"' in resp.text  # back to the form
    blank = client.post(f"/sites/{SITE}/staff", data={"username": "  "},
                        headers=official.headers)
    assert blank.status_code == 422 and "请输入要安排值守人员的登录名" in blank.text
    api = client.post(f"/api/v1/sites/{SITE}/staff", json={"username": "no-such-login"},
                      headers=official.headers)
    assert api.status_code == 404
    assert api.json()["error"]["fields"]["username"].startswith("没有登录名为 no-such-login")
    staff = client.get(f"/api/v1/sites/{SITE}/staff", headers=official.headers).json()
    assert len(staff["items"]) == 1  # only the fixture's own staff member


def test_the_api_still_takes_a_login_name_off_duty(client, session, checkpoint, make_persona):
    """Older API clients address staff by login name; the id is what the list now gives."""
    official = checkpoint.official
    newcomer = make_persona("public", name="新值守员")
    _put_on_duty(client, official, newcomer)
    gone = client.delete(f"/api/v1/sites/{SITE}/staff/{newcomer.user.username}",
                         headers=official.headers)
    assert gone.status_code == 204
    assert not _on_duty(session, newcomer.user.id)
    again = client.delete(f"/api/v1/sites/{SITE}/staff/{newcomer.user.id}",
                          headers=official.headers)
    assert again.status_code == 404
    outsider = make_persona("official", "area", "520103")
    staff_id = checkpoint.staff.user.id
    assert client.delete(f"/api/v1/sites/{SITE}/staff/{staff_id}",
                         headers=outsider.headers).status_code == 404
    assert _on_duty(session, staff_id)
