"""Human labels for the fields an error page names.

An error keyed by the API's field name (`cursor`, `window_minutes`, `stops.0.arrive_at`)
is for the program; the reader of the error page needs to know which of their entries
a message is about, in their language. A field with no label here shows its message
alone: a raw name would be code in the middle of a Chinese page.
"""

from __future__ import annotations

from typing import NamedTuple

from passtrace.core.i18n import N_, gettext

LABELS = {
    # paging and filters in the query string
    "cursor": N_("Page position"),
    "before": N_("Page position"),
    "limit": N_("Rows per page"),
    "from": N_("From"),
    "to": N_("To"),
    "start": N_("From"),
    "end": N_("To"),
    "date": N_("Date"),
    "day": N_("Date"),
    "q": N_("Search"),
    "actor": N_("Who did it"),
    "action": N_("Action"),
    "person": N_("Person"),
    "site": N_("Site"),
    "area": N_("Area"),
    "area_code": N_("Area"),
    # cases and tracing
    "id_number": N_("ID number"),
    "window_start": N_("Window start"),
    "window_end": N_("Window end"),
    "window_minutes": N_("Contact window (minutes)"),
    "depth": N_("Tracing depth"),
    "isolation_date": N_("Isolation date"),
    "version": N_("Record version"),
    # warnings
    "status": N_("Status"),
    "note": N_("Note"),
    "severity": N_("Severity"),
    "level": N_("Risk level"),
    "valid_until": N_("Valid until"),
    "user_id": N_("Assigned official"),
    "resolution": N_("Outcome"),
    "reason": N_("Reason"),
    # registrations, people, accounts, supplies
    "lane": N_("Lane"),
    "name": N_("Name"),
    "phone": N_("Phone number"),
    "purpose": N_("Purpose"),
    "plate": N_("Plate number"),
    "quantity": N_("Quantity"),
    "locale": N_("Language"),
    "username": N_("Username"),
    "password": N_("Password"),
}


class FieldError(NamedTuple):
    """One message on the error page: the field's API name, its label ("" if none)."""

    name: str
    label: str
    message: str


def label_for(name: str) -> str:
    """The translated label for a field name, or "" when none is known.

    A nested name ("stops.0.arrive_at", "stops[0].arrive_at") falls back to its last
    part, so a row's field reads like the same field on its own.
    """
    msgid = LABELS.get(name)
    if msgid is None:
        last = name.replace("[", ".").replace("]", "").split(".")[-1]
        msgid = LABELS.get(last)
    return gettext(msgid) if msgid else ""


def labelled(fields: dict[str, str]) -> list[FieldError]:
    """The error page's list: each translated message with its field's label."""
    return [FieldError(name, label_for(name), message) for name, message in fields.items()]
