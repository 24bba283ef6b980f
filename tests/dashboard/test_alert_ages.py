"""Open alerts by rule and age at each bucket's exact edge (both databases): an alert is
in the last bucket whose lower bound (1 hour, 1 day, 3 days old) it has reached."""

from __future__ import annotations

from datetime import timedelta

from tests.dashboard.conftest import NOW, _alert
from tests.dashboard.test_figures import official, read

US = timedelta(microseconds=1)
HOUR, DAY = timedelta(hours=1), timedelta(days=1)


def test_alerts_fall_in_their_age_bucket_at_every_edge(session, rt):
    area = "520102003"
    for age in (0 * HOUR, HOUR - US, HOUR, DAY - US, DAY, 3 * DAY - US, 3 * DAY, 9 * DAY):
        _alert(session, "risk_visit", area, NOW - age)
    _alert(session, "risk_visit", area, NOW - 2 * DAY, status="resolved")  # closed: none
    _alert(session, "risk_visit", "520103001", NOW - 2 * DAY)  # another district's
    _alert(session, "close_contact", area, NOW - DAY, status="acknowledged")
    session.flush()
    rules = {a.rule: a.ages for a in read(session, official()).alerts.by_rule}
    assert rules["risk_visit"] == {"lt1h": 2, "h1to24": 2, "d1to3": 2, "gt3d": 2}
    assert rules["close_contact"] == {"lt1h": 0, "h1to24": 0, "d1to3": 1, "gt3d": 0}
