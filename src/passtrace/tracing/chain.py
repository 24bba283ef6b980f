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
from datetime import datetime
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


def place_of(evidence: list[dict[str, Any]]) -> tuple[str, str]:
    """The place a contact was met, for grouping: (kind, id)."""
    for e in evidence:
        if "site" in e:
            return "site", e["site"]
        if e["kind"] == "household":
            return "household", e["household"]
        if e["kind"] in ("same_train", "same_flight"):
            return "trip", f"{e['ref']} {e['date']}"
        if e["kind"] == "colleague":
            return "department", e["department"]
    return "other", ""


@dataclass(frozen=True)
class Member:
    """`count` contacts of one depth found through one contact at one place, drawn in
    the order of the earliest of them (its first exposure, then its id)."""

    depth: int
    via_contact_id: uuid.UUID | None
    place: tuple[str, str]
    kinds: frozenset[str]
    count: int
    order: tuple[datetime, str]


@dataclass(frozen=True)
class Parent:
    """A contact others were found through: where it was met, to name their group."""

    id: uuid.UUID
    depth: int
    via_contact_id: uuid.UUID | None
    place: tuple[str, str]


def kinds_of(contact: Contact) -> frozenset[str]:
    """The evidence kinds of a contact (a secondary one keeps the count per kind)."""
    if contact.evidence_counts is not None:
        return frozenset(contact.evidence_counts)
    return frozenset(e["kind"] for e in contact.evidence)


def build(contacts: list[Contact], masked: dict[uuid.UUID, str],
          place_names: dict[str, str], case_label: str) -> Graph:
    """Lay out the chain: one column per depth, the case on the left."""
    if len(contacts) > GROUP_OVER:
        places = {c.id: place_of(c.evidence) for c in contacts}
        return build_grouped(
            [Member(c.depth, c.via_contact_id, places[c.id], kinds_of(c), 1,
                    (c.first_exposure, str(c.id))) for c in contacts],
            [Parent(c.id, c.depth, c.via_contact_id, places[c.id]) for c in contacts],
            place_names, case_label)
    nodes: dict[str, Node] = {"case": Node("case", 0, case_label)}
    edges: dict[tuple[str, str], Edge] = {}
    ids = {c.id for c in contacts}
    for c in sorted(contacts, key=lambda c: (c.depth, c.first_exposure, str(c.id))):
        parent = str(c.via_contact_id) if c.via_contact_id in ids else "case"
        key = str(c.id)
        nodes[key] = Node(key, c.depth, masked.get(c.person_id, "—") if c.person_id else "—")
        edge = edges.setdefault((parent, key), Edge(parent, key))
        edge.kinds.update(kinds_of(c))
        edge.count += 1
    return _layout(nodes, edges, grouped=False)


def build_grouped(members: list[Member], parents: list[Parent], place_names: dict[str, str],
                  case_label: str) -> Graph:
    """Lay out a chain grouped by place: the contacts found through one group at one place
    are one node with their count (members may be single contacts or counted in SQL)."""
    # A parent's group is named by its own parent's group: resolve them depth by depth.
    node_of: dict[uuid.UUID, str] = {}
    for p in sorted(parents, key=lambda p: p.depth):
        via = node_of.get(p.via_contact_id, "case") if p.via_contact_id else "case"
        node_of[p.id] = _group_key(p.depth, via, p.place)
    nodes: dict[str, Node] = {"case": Node("case", 0, case_label)}
    edges: dict[tuple[str, str], Edge] = {}
    for m in sorted(members, key=lambda m: (m.depth, m.order)):
        parent = node_of.get(m.via_contact_id, "case") if m.via_contact_id else "case"
        key = _group_key(m.depth, parent, m.place)
        kind, ident = m.place
        label = place_names.get(ident, ident[:8]) if kind == "site" else ident[:16]
        node = nodes.setdefault(key, Node(key, m.depth, label, 0))
        node.count += m.count
        edge = edges.setdefault((parent, key), Edge(parent, key))
        edge.kinds.update(m.kinds)
        edge.count += m.count
    return _layout(nodes, edges, grouped=True)


def _group_key(depth: int, parent: str, place: tuple[str, str]) -> str:
    return f"{depth}|{parent}|{place[0]}|{place[1]}"


def _layout(nodes: dict[str, Node], edges: dict[tuple[str, str], Edge], *,
            grouped: bool) -> Graph:
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
