"""The officials' page of appeals against stricter outing rules: who may see and decide
them (an official over the compound's area; another area: 404; a resident: 403), the
decision with a reason through the same service as the API, and bad input."""

from __future__ import annotations

import re
import uuid

from sqlalchemy import select

from passtrace.audit.models import AuditEntry
from tests.communities.conftest import CODE

QUEUE = "/community-rule-appeals"


def _tighten_and_appeal(client, compound) -> str:  # type: ignore[no-untyped-def]
    """The manager tightens the rules; the first resident appeals. The appeal's id."""
    compound.rules(client, max_out_per_household=2)
    resp = client.put(f"/api/v1/communities/{CODE}/rules", headers=compound.manager.headers,
                      json={"max_out_per_household": 1, "reason_code": "crowding",
                            "reason": "超市门口人太多"})
    assert resp.status_code == 200, resp.text
    resident = compound.residents[0]
    found = re.search(r"/community/rule-changes/([0-9a-f-]{36})",
                      client.get("/notices", headers=resident.headers).text)
    assert found
    filed = client.post(f"/api/v1/community-rule-changes/{found.group(1)}/appeal",
                        json={"text": "家里老人需要两人陪同就医"}, headers=resident.headers)
    assert filed.status_code == 201, filed.text
    return str(filed.json()["id"])


def test_an_official_of_the_area_decides_on_the_page(client, session, compound, make_persona):
    appeal_id = _tighten_and_appeal(client, compound)
    official = compound.official
    home = client.get("/", headers=official.headers).text
    assert f'href="{QUEUE}"' in home and 'id="tile-rule-appeals"' in home
    assert 'id="link-rule-appeals"' in client.get("/communities", headers=official.headers).text
    page = client.get(QUEUE, headers=official.headers)
    assert page.status_code == 200
    card = page.text.split(f'id="rule-appeal-{appeal_id}"')[1]
    assert "张*" in card and "张三" not in card  # the appellant, masked
    assert "超市门口人太多" in card and "家里老人需要两人陪同就医" in card
    assert "每户同时最多 2 人外出" in card and "每户同时最多 1 人外出" in card
    # The appellant's access log records that an official read the appeal.
    assert session.scalars(select(AuditEntry).where(
        AuditEntry.action == "community.rules.appeal.view",
        AuditEntry.subject_person_id == compound.residents[0].user.person_id)).first()
    decide = f"{QUEUE}/{appeal_id}/decide"
    short = client.post(decide, headers=official.headers,
                        data={"outcome": "reversed", "reason": "ab"})
    assert short.status_code == 422
    assert f'id="decision-error-{appeal_id}"' in short.text and 'value="ab"' in short.text
    bogus = client.post(decide, headers=official.headers,
                        data={"outcome": "maybe", "reason": "老人就医确需陪同"})
    assert bogus.status_code == 422 and "请选择维持还是撤销该决定" in bogus.text
    rules = client.get(f"/api/v1/communities/{CODE}", headers=compound.manager.headers).json()
    assert rules["max_out_per_household"] == 1  # refused twice: nothing changed
    done = client.post(decide, headers=official.headers, follow_redirects=False,
                       data={"outcome": "reversed", "reason": "老人就医确需陪同"})
    assert done.status_code == 303 and done.headers["location"] == f"{QUEUE}?decided=1"
    after = client.get(done.headers["location"], headers=official.headers).text
    assert 'id="rule-appeal-decided"' in after and appeal_id not in after
    rules = client.get(f"/api/v1/communities/{CODE}", headers=compound.manager.headers).json()
    assert rules["max_out_per_household"] == 2  # the earlier rules are back
    again = client.post(decide, headers=official.headers,
                        data={"outcome": "upheld", "reason": "再决定一次试试"})
    assert again.status_code == 409 and 'id="decision-error"' in again.text
    notices = client.get("/notices", headers=compound.residents[0].headers).text
    assert "申诉成功：已恢复原来的外出规则" in notices and "老人就医确需陪同" in notices


def test_other_areas_residents_and_bad_ids_are_refused(client, compound, make_persona):
    appeal_id = _tighten_and_appeal(client, compound)
    far = make_persona("official", "area", "520103", name="云岩区")
    body = {"outcome": "reversed", "reason": "老人就医确需陪同"}
    decide = f"{QUEUE}/{appeal_id}/decide"
    far_page = client.get(QUEUE, headers=far.headers)
    assert far_page.status_code == 200 and appeal_id not in far_page.text
    assert 'id="no-rule-appeals"' in far_page.text
    assert client.post(decide, headers=far.headers, data=body).status_code == 404
    resident = compound.residents[1]
    assert client.get(QUEUE, headers=resident.headers).status_code == 403
    assert client.post(decide, headers=resident.headers, data=body).status_code == 403
    assert client.get(QUEUE, headers=compound.manager.headers).status_code == 403
    assert client.post(f"{QUEUE}/{uuid.uuid4()}/decide", headers=compound.official.headers,
                       data=body).status_code == 404
    bad = client.post(f"{QUEUE}/not-an-id/decide", headers=compound.official.headers,
                      data=body)
    assert bad.status_code in (404, 422) and "Traceback" not in bad.text
    assert 'class="nav' in bad.text or "<html" in bad.text  # a page, not a stack trace
    # Nothing of that changed the rules; the area's official still has it to decide.
    rules = client.get(f"/api/v1/communities/{CODE}", headers=compound.manager.headers).json()
    assert rules["max_out_per_household"] == 1
    assert appeal_id in client.get(QUEUE, headers=compound.official.headers).text
