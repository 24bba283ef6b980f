"""The transmission chain of a case as a graph small enough to read.

Nodes are masked persons; an edge joins a contact to the person it was found through
(the case for depth 1) and carries the evidence kinds. Past GROUP_OVER contacts the
graph is grouped on the server: the contacts found through one parent at one place
(site, household, trip, department) become one node with a count, so a case with
5,000+ contacts still draws a few hundred nodes. At most MAX_NODES nodes are drawn;
the rest are counted in one "others" node per column.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from passtrace.tracing.models import Contact

GROUP_OVER = 150
MAX_NODES = 400
COL_W, ROW_H = 240, 30


@dataclass
class Node:
    """A person (or a group of persons) in one column (depth)."""

    key: str
    depth: int
    label: str
    count: int = 1
    x: int = 0
    y: int = 0


@dataclass
class Edge:
    """From the person a contact was found through to the contact, with evidence kinds."""

    source: str
    target: str
    kinds: set[str] = field(default_factory=set)
    count: int = 0


@dataclass
class Graph:
    """Laid-out nodes and edges, and whether the graph is grouped."""

    nodes: list[Node]
    edges: list[Edge]
    grouped: bool
    width: int
    height: int

    def by_key(self) -> dict[str, Node]:
        """Nodes by key (to draw edges between them)."""
        return {n.key: n for n in self.nodes}


def _place(contact: Contact) -> tuple[str, str]:
    """The place a contact was met, for grouping: (kind, id)."""
    for e in contact.evidence:
        if "site" in e:
            return "site", e["site"]
        if e["kind"] == "household":
            return "household", e["household"]
        if e["kind"] in ("same_train", "same_flight"):
            return "trip", f"{e['ref']} {e['date']}"
        if e["kind"] == "colleague":
            return "department", e["department"]
    return "other", ""


def build(contacts: list[Contact], masked: dict[uuid.UUID, str],
          place_names: dict[str, str], case_label: str) -> Graph:
    """Lay out the chain: one column per depth, the case on the left."""
    grouped = len(contacts) > GROUP_OVER
    nodes: dict[str, Node] = {"case": Node("case", 0, case_label)}
    node_of: dict[uuid.UUID, str] = {}
    edges: dict[tuple[str, str], Edge] = {}
    for c in sorted(contacts, key=lambda c: (c.depth, c.first_exposure, str(c.id))):
        parent = node_of.get(c.via_contact_id, "case") if c.via_contact_id else "case"
        if grouped:
            kind, ident = _place(c)
            key = f"{c.depth}|{parent}|{kind}|{ident}"
            label = place_names.get(ident, ident[:8]) if kind == "site" else ident[:16]
            node = nodes.setdefault(key, Node(key, c.depth, label, 0))
            node.count += 1
        else:
            key = str(c.id)
            nodes[key] = Node(key, c.depth,
                              masked.get(c.person_id, "—") if c.person_id else "—")
        node_of[c.id] = key
        edge = edges.setdefault((parent, key), Edge(parent, key))
        # A secondary contact keeps a few items and the count per kind (all its kinds).
        edge.kinds.update(c.evidence_counts if c.evidence_counts is not None
                          else (e["kind"] for e in c.evidence))
        edge.count += 1
    kept = _cap(list(nodes.values()))
    keys = {n.key for n in kept}
    columns: dict[int, int] = {}
    for n in kept:
        row = columns.get(n.depth, 0)
        n.x, n.y = 20 + n.depth * COL_W, 30 + row * ROW_H
        columns[n.depth] = row + 1
    shown = [e for e in edges.values() if e.source in keys and e.target in keys]
    height = 60 + max(columns.values(), default=1) * ROW_H
    width = 40 + (max(columns, default=0) + 1) * COL_W
    return Graph(kept, shown, grouped, width, height)


def _cap(nodes: list[Node]) -> list[Node]:
    if len(nodes) <= MAX_NODES:
        return nodes
    # Keep the biggest groups; count the rest in one node per column.
    ordered = sorted(nodes, key=lambda n: (n.key != "case", -n.count, n.key))
    kept, rest = ordered[:MAX_NODES], ordered[MAX_NODES:]
    others: dict[int, Node] = {}
    for n in rest:
        o = others.setdefault(n.depth, Node(f"others|{n.depth}", n.depth, "…", 0))
        o.count += n.count
    return sorted(kept, key=lambda n: (n.depth, -n.count, n.key)) + list(others.values())


def as_dict(graph: Graph) -> dict[str, Any]:
    """The graph as plain data (for tests and JSON)."""
    return {"grouped": graph.grouped,
            "nodes": [{"key": n.key, "depth": n.depth, "label": n.label, "count": n.count}
                      for n in graph.nodes],
            "edges": [{"source": e.source, "target": e.target, "kinds": sorted(e.kinds),
                       "count": e.count} for e in graph.edges]}
