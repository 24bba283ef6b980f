"""Invite links: the employee binds their own account; nobody else can."""

from __future__ import annotations

from passtrace.accounts import service as account_service
from passtrace.audit.models import AuditEntry
from passtrace.enterprises import invites
from tests.conftest import PASSWORD
from tests.enterprises.conftest import add, id_number, sign_up_employee


def _resident_for(client, rt, session, seq, name="张伟"):  # type: ignore[no-untyped-def]
    """Sign up as a resident with the employee's own ID number."""
    resp = client.post("/api/v1/accounts/register", json={
        "username": f"staff{seq}", "password": PASSWORD, "name": name,
        "id_number": id_number(seq), "phone": "13912345678"})
    assert resp.status_code in (200, 201), resp.text
    token = client.post("/api/v1/auth/token", json={"username": f"staff{seq}",
                                                    "password": PASSWORD}).json()
    return {"Authorization": f"Bearer {token['access_token']}"}


def _invite(client, world, emp):  # type: ignore[no-untyped-def]
    resp = client.post(f"/api/v1/enterprises/{world.ent['id']}/employees/{emp['id']}/invite",
                       headers=world.admin.headers)
    assert resp.status_code == 201, resp.text
    return resp.json()


def test_the_employee_binds_their_account(client, rt, session, world):
    emp = add(client, world, "生产部", 41)
    invite = _invite(client, world, emp)
    assert invite["url"].endswith(invite["token"])
    headers = sign_up_employee(client, world, 41)
    resp = client.post("/api/v1/enterprises/invites/accept", json={"token": invite["token"]},
                       headers=headers)
    assert resp.status_code == 200, resp.text
    assert resp.json()["bound"] is True
    # One use only; the staff list shows the link.
    assert client.post("/api/v1/enterprises/invites/accept", json={"token": invite["token"]},
                       headers=headers).status_code == 404
    staff = client.get(f"/api/v1/enterprises/{world.ent['id']}/employees/{emp['id']}",
                       headers=world.admin.headers).json()
    assert staff["bound"] is True
    # The employee sees the binding in "who viewed my data".
    log = client.get("/api/v1/me/access-log", headers=headers).json()["items"]
    assert "employee.bind" in [e["action"] for e in log]


def test_another_person_cannot_use_the_invite_and_the_attempt_is_audited(
        client, rt, session, world, make_persona):
    emp = add(client, world, "生产部", 42)
    invite = _invite(client, world, emp)
    stranger = make_persona("public", name="路人甲")
    resp = client.post("/api/v1/enterprises/invites/accept", json={"token": invite["token"]},
                       headers=stranger.headers)
    assert resp.status_code == 403
    refused = session.query(AuditEntry).filter_by(action="employee.bind_refused",
                                                  resource_id=emp["id"]).all()
    assert len(refused) == 1
    # The real employee can still use it.
    headers = sign_up_employee(client, world, 42)
    assert client.post("/api/v1/enterprises/invites/accept", json={"token": invite["token"]},
                       headers=headers).status_code == 200


def test_a_new_invite_replaces_the_old_and_expired_ones_fail(client, rt, session, world):
    emp = add(client, world, "生产部", 43)
    first = _invite(client, world, emp)
    second = _invite(client, world, emp)
    headers = sign_up_employee(client, world, 43)
    assert client.post("/api/v1/enterprises/invites/accept", json={"token": first["token"]},
                       headers=headers).status_code == 404
    assert client.post("/api/v1/enterprises/invites/accept", json={"token": "x" * 43},
                       headers=headers).status_code == 404
    assert client.post("/api/v1/enterprises/invites/accept", json={"token": second["token"]},
                       headers=headers).status_code == 200
    user = account_service.get_by_username(session=session, username="staff43")
    assert user is not None


def test_only_the_enterprise_admin_makes_invites(client, world):
    emp = add(client, world, "销售部", 44)
    url = f"/api/v1/enterprises/{world.ent['id']}/employees/{emp['id']}/invite"
    assert client.post(url, headers=world.head.headers).status_code == 403
    assert client.post(url, headers=world.outsider.headers).status_code == 404


def test_a_refusal_from_the_page_is_audited_and_binds_nothing(client, session, world,
                                                               make_persona):
    emp = add(client, world, "生产部", 44)
    invite = _invite(client, world, emp)
    stranger = make_persona("public", name="路人乙")
    resp = client.post(f"/enterprises/invite/{invite['token']}",
                       headers={**stranger.headers, "Accept-Language": "en"})
    assert resp.status_code == 403 and "someone else" in resp.text
    refused = session.query(AuditEntry).filter_by(action="employee.bind_refused",
                                                  resource_id=emp["id"]).all()
    assert len(refused) == 1 and refused[0].actor_user_id == stranger.user.id
    staff = client.get(f"/api/v1/enterprises/{world.ent['id']}/employees/{emp['id']}",
                       headers=world.admin.headers).json()
    assert staff["bound"] is False


def test_the_refusal_is_part_of_the_callers_transaction(client, rt, world, make_persona):
    # The service records the refusal and returns it; it never commits by itself, so
    # the entry is kept exactly when the request's one commit at the boundary happens.
    emp = add(client, world, "生产部", 45)
    invite = _invite(client, world, emp)
    stranger = make_persona("public", name="路人丙")
    with rt.sessions() as s:
        result = invites.accept_invite(session=s, actor=stranger.principal,
                                       token=invite["token"])
        assert result.refused is not None and result.employee.user_id is None
        assert s.query(AuditEntry).filter_by(action="employee.bind_refused",
                                             resource_id=emp["id"]).count() == 1
        s.rollback()
        assert s.query(AuditEntry).filter_by(action="employee.bind_refused",
                                             resource_id=emp["id"]).count() == 0
