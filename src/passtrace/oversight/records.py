"""What an audit entry is about, as a supervisor reads it: a kind, a name, a link.

The log keeps the record's id (a uuid, a site code, a key id); the page shows the kind
of record translated ("通行证"), the name of a site or compound where it has one, and
links to the record's own page where there is one, with the id kept in the markup
(`data-record`) for officials who match entries against the CSV export or the CLI.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from passtrace.accounts.admin import MANAGE as ADMIN_PERMISSION
from passtrace.audit.labels import resource_label
from passtrace.audit.models import AuditEntry
from passtrace.core.security import Principal
from passtrace.oversight import actor_labels

# Record pages that take the record's uuid; each page checks its own right when opened.
UUID_PAGES = {
    "pass": "/passes/{id}", "case": "/cases/{id}", "alert": "/warnings/alerts/{id}",
    "visit": "/community/visits/{id}", "daily_report": "/reports/view/{id}",
    "analytics_run": "/analytics/runs/{id}", "supply_depot": "/supplies/depots/{id}",
    "supply_request": "/supplies/requests/{id}", "enterprise": "/enterprises/{id}",
    "community_rule_change": "/community/rule-changes/{id}",
}
# Pages that take a code (the record's id is the site's or compound's code).
CODE_PAGES = {"site": "/sites/{id}", "community": "/communities/{id}"}
ADMIN_PAGES = {"user": "/admin/users/{id}"}  # only administrators can open them


@dataclass(frozen=True)
class Record:
    """One entry's record: its kind (translated), a name if it has one, its page, its id."""

    kind: str
    name: str
    href: str | None
    id: str


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def describe(*, session: Session, principal: Principal,
             entries: Iterable[AuditEntry]) -> Callable[[AuditEntry], Record]:
    """Name the records of many entries (one query per kind of office); a lookup per entry."""
    entries = list(entries)
    names = actor_labels.office_names(session, [
        (e.resource_type, e.resource_id) for e in entries
        if e.resource_type in CODE_PAGES and e.resource_id])
    admin = principal.has(ADMIN_PERMISSION)

    def record(entry: AuditEntry) -> Record:
        kind, rid = entry.resource_type, entry.resource_id
        href = None
        if rid and kind in UUID_PAGES and _is_uuid(rid):
            href = UUID_PAGES[kind].format(id=rid)
        elif rid and kind in CODE_PAGES and (kind, rid) in names:
            href = CODE_PAGES[kind].format(id=rid)
        elif rid and admin and kind in ADMIN_PAGES and _is_uuid(rid):
            href = ADMIN_PAGES[kind].format(id=rid)
        return Record(kind=resource_label(kind), name=names.get((kind, rid), ""),
                      href=href, id=rid)

    return record
