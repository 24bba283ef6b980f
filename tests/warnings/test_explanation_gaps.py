"""An alert whose evidence lacks a value reads as a whole sentence, never with a blank."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from passtrace.warnings import service
from passtrace.warnings.models import Alert


def _raise(session, rule: str, key: str, evidence: dict) -> int:  # type: ignore[no-untyped-def]
    assert service.raise_alert(session=session, rule_code=rule, subject_kind="person",
                               subject_key=key * 64, person_hash=key * 64, masked="李*",
                               area_code="520102", evidence=evidence)
    session.commit()
    alert = session.scalar(select(Alert.id).where(Alert.subject_key == key * 64))
    assert alert is not None
    return alert


def _text(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", page)))


@pytest.mark.parametrize("threshold", ["missing", None, ""])
def test_a_fever_alert_without_a_threshold_reads_without_one(
        client, session, world, threshold) -> None:  # type: ignore[no-untyped-def]
    evidence = {"temperature": 38.6} | ({} if threshold == "missing" else {"threshold": threshold})
    alert = _raise(session, "checkpoint_fever", "f", evidence)
    official = world.official.headers
    chinese = _text(client.get(f"/warnings/alerts/{alert}", headers=official).text)
    assert "测得体温 38.6 °C，达到或超过该点位的发热阈值。" in chinese
    assert "发热阈值为" not in chinese and "None" not in chinese
    queue = _text(client.get("/warnings/alerts", headers=official).text)
    assert "测得体温 38.6 °C，达到或超过该点位的发热阈值。" in queue
    assert "发热阈值为 37.3 °C" in queue  # the world's alert has its threshold: unchanged
    english = _text(client.get(f"/warnings/alerts/{alert}",
                               headers={**official, "Accept-Language": "en"}).text)
    assert "at or above the site's fever threshold." in english
    assert "threshold is" not in english and "None" not in english


def test_a_fever_alert_without_a_temperature_and_a_contact_without_an_end(
        client, session, world) -> None:  # type: ignore[no-untyped-def]
    fever = _raise(session, "checkpoint_fever", "t", {"threshold": 37.3})
    contact = _raise(session, "close_contact", "c", {"until": None})
    official = world.official.headers
    text = _text(client.get(f"/warnings/alerts/{fever}", headers=official).text)
    assert "测得体温达到或超过发热阈值。" in text and "None" not in text
    text = _text(client.get(f"/warnings/alerts/{contact}", headers=official).text)
    assert "被判定为病例的密切接触者。" in text and "隔离至" not in text
