"""The checkpoint's answer written without pydantic (views.out_json) is the documented
model's JSON byte for byte, in either language."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from passtrace.core.i18n import set_locale
from passtrace.registrations.fastpath import _plain_registration
from passtrace.registrations.views import out_json, to_out

WHEN = (datetime(2026, 12, 4, 8, 0, tzinfo=UTC),
        datetime(2026, 12, 4, 8, 0, 1, 250, tzinfo=ZoneInfo("Etc/UTC")),
        datetime(2026, 12, 4, 16, 0, 0, 999999, tzinfo=timezone(timedelta(hours=8))),
        datetime(2026, 12, 4, 8, 0, 0, 500000, tzinfo=timezone(timedelta(0))))


def test_out_json_is_the_models_json_byte_for_byte():
    rows = []
    for when, temperature, reasons, override, pass_id in itertools.product(
            WHEN, (None, 36.6, 37, 38.25), ([], ["fever"], ["expired", "not_a_code"],
                                            ["already_inside", "fever"]),
            (None, "担架通行"), (None, uuid.uuid4())):
        rows.append(_plain_registration(
            id=uuid.uuid4(), decision="deny" if reasons else "allow", reasons=reasons,
            person_masked="张*", id_last4="123X", pass_id=pass_id, temperature=temperature,
            occurred_at=when, direction="in", override_reason=override, skew_flagged=False))
    for locale in ("zh_CN", "en"):
        set_locale(locale)
        for row, duplicate, notes in itertools.product(rows, (False, True),
                                                       (None, ["住户 · 1栋1单元101"])):
            expected = to_out(row, duplicate=duplicate, notes=notes).model_dump_json()
            assert out_json(row, duplicate=duplicate, notes=notes).decode() == expected
    set_locale("zh_CN")
