"""Arranging supplies page tests: depots, personas bound to them, form posts."""

from __future__ import annotations

import uuid
from typing import Any

from passtrace.supplies.models import Depot


def form_id() -> str:
    return str(uuid.uuid4())


def post(client: Any, url: str, persona: Any, data: dict[str, Any]) -> Any:
    """Post a page form as the persona (bearer: no CSRF field needed), not following."""
    return client.post(url, data=data, headers=persona.headers, follow_redirects=False)


def staff_of(make_persona: Any, depot: Depot) -> Any:
    """Depot staff: a supplies officer bound to this one depot."""
    return make_persona("supplies_officer", "depot", depot.code)
