"""Every audit action the code records has a label: "who viewed my data" and the audit page
show people the label, never the action's code."""

from __future__ import annotations

import re
from pathlib import Path

import passtrace
from passtrace.audit.labels import ACTION_LABELS, RESOURCE_LABELS

ACTION = re.compile(r"""action\s*[=:]\s*["']([a-z_]+(?:\.[a-z_]+)+)["']""")
RESOURCE = re.compile(r"""resource_type\s*[=:]\s*["']([a-z_]+)["']""")


def _recorded(pattern: re.Pattern[str]) -> set[tuple[str, str]]:
    """(code, file) for every literal the code records under `pattern`."""
    root = Path(passtrace.__file__).parent
    return {(m.group(1), str(path.relative_to(root)))
            for path in root.rglob("*.py") if "migrations" not in path.parts
            for m in pattern.finditer(path.read_text(encoding="utf-8"))}


def test_every_recorded_action_has_a_label():
    used = _recorded(ACTION)
    assert len(used) > 50  # the scan sees the code
    missing = sorted(pair for pair in used if pair[0] not in ACTION_LABELS)
    assert not missing, f"audit actions without a label: {missing}"


def test_every_recorded_resource_type_has_a_label():
    # The audit page names what an entry is about ("Tracing task"), never its code.
    used = _recorded(RESOURCE)
    assert len(used) > 20  # the scan sees the code
    missing = sorted(pair for pair in used if pair[0] not in RESOURCE_LABELS)
    assert not missing, f"audit resource types without a label: {missing}"
