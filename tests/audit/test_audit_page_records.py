"""The audit page names what each entry is about (its kind, a site's name, a link to the
record's page), never the record's or the person's id."""

from __future__ import annotations

import re
import uuid

from passtrace.audit import service as audit_service
from passtrace.sites.models import Site


def _cell(html: str, record_id: str) -> tuple[str, str]:
    """The Record cell of the entry about record_id: its markup and its visible text."""
    cell = html.split(f'data-record="{record_id}"')[1].split("</td>")[0]
    return cell, re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", cell.split(">", 1)[1]))


def _visible(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html.split("<tbody>")[1].split("</tbody>")[0])


def test_the_audit_page_names_records_and_links_to_them_without_ids(
        client, session, rt, make_persona):  # type: ignore[no-untyped-def]
    admin = make_persona("admin")
    actor = make_persona("official", "area", "520102")
    resident = make_persona("public", name="王五")
    site = Site(code=f"AU-{uuid.uuid4().hex[:6].upper()}", name="花果园审计卡口",
                kind="venue", area_code="520102")
    session.add(site)
    session.flush()
    pass_id, kid = str(uuid.uuid4()), "k" + uuid.uuid4().hex[:15]
    person_id = resident.user.person_id
    for action, kind, rid, subject in (
            ("pass.view", "pass", pass_id, person_id),
            ("site.update", "site", site.code, None),
            ("key.retire", "signing_key", kid, None)):
        audit_service.record(session=session, actor=actor.principal, action=action,
                             resource_type=kind, resource_id=rid, subject_person_id=subject)
    session.commit()

    html = client.get("/audit", params={"actor": str(actor.user.id)},
                      headers={**admin.headers, "Accept-Language": "zh-CN"}).text
    cell, text = _cell(html, pass_id)
    assert text.strip().startswith("通行证") and "涉及个人数据" in text
    assert f'href="/passes/{pass_id}"' in cell and f'data-person="{person_id}"' in cell
    cell, text = _cell(html, site.code)
    assert "站点 · 花果园审计卡口" in text and f'href="/sites/{site.code}"' in cell
    cell, text = _cell(html, kid)
    assert text.strip() == "签名密钥" and "href" not in cell  # no page: the kind alone
    shown = _visible(html)
    for code in (pass_id, pass_id[:8], str(person_id), str(person_id)[:8], kid, site.code):
        assert code not in shown, code

    english = client.get("/audit", params={"actor": str(actor.user.id)},
                         headers={**admin.headers, "Accept-Language": "en"}).text
    assert _cell(english, pass_id)[1].strip().startswith("Pass")
    assert "Concerns a person's data" in _cell(english, pass_id)[1]
    assert pass_id not in _visible(english) and kid not in _visible(english)
