"""The site page names a phone holding unsynced rows by site, number, user and first day."""

from __future__ import annotations

import re

from tests.registrations.conftest import SITE


def test_unsynced_phones_are_named_not_keyed(client, checkpoint):
    for key, pending in (("web-45d2a9f0", 3), ("web-9c1b77e2", 5)):
        resp = client.post("/api/v1/checkpoint/heartbeat", headers=checkpoint.staff.headers,
                           json={"site": SITE, "device_key": key, "pending": pending})
        assert resp.status_code == 204, resp.text
    html = client.get(f"/sites/{SITE}", headers=checkpoint.official.headers).text
    rows = re.findall(r'<tr data-device="(\d+)"><td class="device">(.*?)</td>', html, re.S)
    # The most waiting first; each numbered in the order the site first saw it.
    assert [n for n, _ in rows] == ["2", "1"]
    text = re.sub(r"<[^>]+>", " ", rows[0][1])
    assert "第2台手机" in text or "Phone 2" in text
    assert "值守人员" in text  # the checkpoint staff role, not a login name
    assert re.search(r"\d{4}-\d{2}-\d{2}", text)
    assert "web-45d2" not in html and "web-9c1b" not in html
    # (The staff section below names accounts by login on purpose: officials type it.)
    devices = html.split("data-device=")[1].split("</table>")[0]
    assert checkpoint.staff.user.username not in devices
