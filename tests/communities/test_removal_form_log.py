"""The page asking why a resident is removed shows their masked name and ID number: the
resident finds that read in "who viewed my data"."""

from __future__ import annotations

from typing import Any

from tests.audit.helpers import reads_by
from tests.communities.conftest import CODE


def _reads_by(client: Any, resident: Any, manager: Any) -> int:
    return reads_by(client, resident, manager, "resident.view")


def test_opening_the_removal_page_reaches_the_residents_access_log(client, compound):  # type: ignore[no-untyped-def]
    resident, manager = compound.residents[1], compound.manager
    before = _reads_by(client, resident, manager)
    page = client.get(f"/communities/{CODE}/residents/{compound.resident_ids[1]}/remove",
                      headers=manager.headers)
    assert page.status_code == 200 and 'id="remove-form"' in page.text
    assert _reads_by(client, resident, manager) == before + 1
    # Only the resident the page shows: their household's other members see nothing.
    other = compound.residents[0]
    assert _reads_by(client, other, manager) == 0


def test_a_refused_removal_shows_the_resident_again_and_logs_it(client, compound):  # type: ignore[no-untyped-def]
    resident, manager = compound.residents[1], compound.manager
    before = _reads_by(client, resident, manager)
    refused = client.post(f"/communities/{CODE}/residents/{compound.resident_ids[1]}/remove",
                          headers=manager.headers, data={"reason": "已搬离", "reason_code": ""})
    assert refused.status_code == 422 and 'id="remove-form"' in refused.text
    assert _reads_by(client, resident, manager) == before + 1
    assert client.get("/api/v1/me/households", headers=resident.headers).json()["items"]
