"""No two top-level packages import each other, even through others (scripts/import_graph.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "import_graph.py"


def _import_graph():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("import_graph", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_packages_form_no_import_cycle() -> None:
    graph = _import_graph()
    edges = graph.graph()
    assert graph.cycles(edges) == []
    assert graph.mutual_pairs(edges) == []


def test_core_and_codec_import_nothing_above_them() -> None:
    edges = _import_graph().graph()
    assert set(edges.get("core", {})) == set()
    assert set(edges.get("codec", {})) <= {"core"}
    assert set(edges.get("rules", {})) <= {"core"}
    assert set(edges.get("web", {})) <= {"core", "rules", "codec"}
