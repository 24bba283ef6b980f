"""People as stored before phone search: a phone, but no keyed hash of it yet."""

from __future__ import annotations

from typing import Any

from passtrace.people import service as people_service
from passtrace.people.models import Person
from tests.conftest import next_id_number


def person_without_phone_hash(session: Any, rt: Any, *, name: str, phone: str) -> Person:
    """Register a person with `phone`, then drop its hash (stored before the column)."""
    person = people_service.register(session=session, vault=rt.vault, actor=None,
                                     id_number=next_id_number(), name=name, phone=phone)
    person.phone_hash = None
    return person
