"""The dashboard's overdue and anomaly rows open the report (or the person) behind them."""

from __future__ import annotations

import re
from datetime import timedelta

from tests.reports.conftest import CODE, file


def _links(client, persona, table: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Name -> link of each row of one dashboard table, as the page shows them."""
    html = client.get("/reports/dashboard", params={"enterprise": CODE},
                      headers={**persona.headers, "Accept-Language": "en"}).text
    body = html.split(f'id="{table}"', 1)[1].split("</table>", 1)[0]
    return {name: href for href, name in re.findall(r'<a href="([^"]+)">([^<]+)</a>', body)}


def test_an_anomaly_row_opens_the_report_that_raised_it(client, world):  # type: ignore[no-untyped-def]
    fever = file(client, world.staff["alice"].persona, world.today, temperature=37.6).json()
    file(client, world.staff["bob"].persona, world.today)
    links = _links(client, world.admin, "anomalies")
    assert set(links) == {"王**"}
    assert links["王**"] == f"/reports/view/{fever['id']}"
    page = client.get(links["王**"], headers={**world.admin.headers, "Accept-Language": "en"})
    assert page.status_code == 200
    assert "王**" in page.text and world.today.isoformat() in page.text
    assert '<strong id="report-temperature">37.6</strong>' in page.text
    # The head of another department, an outsider and a colleague: as if it did not exist.
    for who in (world.head, world.outsider, world.staff["bob"].persona):
        assert client.get(links["王**"], headers=who.headers).status_code == 404


def test_an_overdue_row_opens_the_persons_reports(client, world):  # type: ignore[no-untyped-def]
    yesterday = file(client, world.staff["carol"].persona,
                     world.today - timedelta(days=1)).json()
    file(client, world.staff["alice"].persona, world.today)
    links = _links(client, world.admin, "overdue")
    assert set(links) == {"李**", "赵*"}  # bob and carol have not filed today
    carol = world.staff["carol"].employee
    assert links["赵*"] == f"/reports/employee/{carol.id}"
    page = client.get(links["赵*"], headers={**world.admin.headers, "Accept-Language": "en"})
    assert page.status_code == 200
    assert "赵*" in page.text
    # Her last report is one tap further; the dashboard named no one else's.
    assert f'href="/reports/view/{yesterday["id"]}"' in page.text
    # Her department head may follow it; a colleague in another department, another
    # enterprise's admin and a colleague in her own department may not.
    assert client.get(links["赵*"], headers=world.head.headers).status_code == 200
    for who in (world.outsider, world.staff["alice"].persona, world.staff["bob"].persona):
        assert client.get(links["赵*"], headers=who.headers).status_code == 404


def test_bad_ids_are_not_found_not_errors(client, world):  # type: ignore[no-untyped-def]
    for path in ("/reports/view/not-an-id", "/reports/employee/123"):
        assert client.get(path, headers=world.admin.headers).status_code in (404, 422)
