"""Verification pages name a person as the enterprise's staff list does (HR's claim), never
by the registry's name: an employer sees what it supplied."""

from __future__ import annotations

from passtrace.people import claims
from passtrace.tracing import verify
from tests.tracing.verify_world import DAY, build, filed_by

CODE = "91520102MA6J5GQX4T"


def test_hr_reads_the_name_it_listed_and_the_filer_their_own(session, rt, client,  # type: ignore[no-untyped-def]
                                                             make_persona):
    w = build(session, credit_code=CODE, area="520102006")
    filer = make_persona("public")
    person, _, report = filed_by(w, filer.user.id)  # the registry calls them 张*
    claims.record(session=session, vault=rt.vault, person_id=person.id,
                  source_kind="enterprise", source_id=w.ent.id, name="孙假名", phone=None)
    verify.verify(session=session, first=DAY, last=DAY)
    session.commit()
    hr = make_persona("enterprise_admin", "enterprise", CODE)
    summary = client.get(f"/verify/enterprises/{w.ent.id}?start={DAY}&end={DAY}",
                         headers=hr.headers)
    assert summary.status_code == 200
    assert "孙**" in summary.text and "张*" not in summary.text
    one = client.get(f"/verify/reports/{report.id}", headers=hr.headers)
    assert one.status_code == 200 and "孙**" in one.text and "张*" not in one.text
    own = client.get(f"/verify/reports/{report.id}", headers=filer.headers)
    assert own.status_code == 200 and "张*" in own.text and "孙**" not in own.text
