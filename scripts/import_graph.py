#!/usr/bin/env python3
"""Print the package-level import graph of passtrace and its cycles.

A "package" is the first component under passtrace (`passtrace.sites.service`
-> `sites`; top-level modules such as `app.py` count as their own package).
Every import is counted, including ones inside functions and under
TYPE_CHECKING: a lazy import is still a dependency, only hidden.

    PYTHONPATH=src python3 scripts/import_graph.py            # edges and cycles
    PYTHONPATH=src python3 scripts/import_graph.py --cycles   # cycles only

Exit status 1 when a cycle exists, so it can gate CI.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "src" / "passtrace"
TOP = "passtrace"


def _package_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != TOP or len(parts) < 2:
        return None
    # `from passtrace import __version__` names an attribute, not a package
    if not ((ROOT / parts[1]).is_dir() or (ROOT / f"{parts[1]}.py").is_file()):
        return None
    return parts[1]


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    me = _module_name(path)
    is_pkg = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = me.split(".")
                base = base if is_pkg else base[:-1]
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            found.add(mod)
            # `from passtrace import sites` names a package, not a module attribute
            if mod == TOP:
                found.update(f"{TOP}.{alias.name}" for alias in node.names)
    return found


def graph() -> dict[str, dict[str, set[str]]]:
    """Return {package: {imported package: {importing module, ...}}}."""
    edges: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for path in sorted(ROOT.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        src = _package_of(_module_name(path))
        if src is None:
            continue
        for mod in _imports(path):
            dst = _package_of(mod)
            if dst and dst != src:
                edges[src][dst].add(_module_name(path))
    return edges


def cycles(edges: dict[str, dict[str, set[str]]]) -> list[list[str]]:
    """Strongly connected components with more than one package (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(set(edges) | {w for d in edges.values() for w in d}):
        if v not in index:
            visit(v)
    return out


def mutual_pairs(edges: dict[str, dict[str, set[str]]]) -> list[tuple[str, str]]:
    """Pairs of packages that import each other directly (the shortest cycles)."""
    return sorted(
        (a, b) for a in edges for b in edges[a] if a < b and a in edges.get(b, {})
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", action="store_true", help="print only the cycles")
    args = parser.parse_args()
    edges = graph()
    if not args.cycles:
        for src in sorted(edges):
            print(f"{src} -> {', '.join(sorted(edges[src]))}")
        print()
    pairs = mutual_pairs(edges)
    sccs = cycles(edges)
    print(f"mutual imports (2-cycles): {len(pairs)}")
    for a, b in pairs:
        why_ab = ", ".join(sorted(edges[a][b]))
        why_ba = ", ".join(sorted(edges[b][a]))
        print(f"  {a} <-> {b}   [{why_ab}] / [{why_ba}]")
    print(f"strongly connected groups: {len(sccs)}")
    for comp in sccs:
        print(f"  {' , '.join(comp)}")
    return 1 if sccs else 0


if __name__ == "__main__":
    sys.exit(main())
