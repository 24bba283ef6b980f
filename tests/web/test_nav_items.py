"""The menu each role gets: what it can use, nothing it cannot."""

from __future__ import annotations

import uuid

from passtrace.core.security import Binding, Principal
from passtrace.web import nav


def _keys(*bindings: Binding) -> list[str]:
    who = Principal(user_id=uuid.uuid4(), username="u", display_name="u", person_id=None,
                    bindings=bindings)
    return [item.key for item in nav.items_for(who)]


def test_each_role_gets_the_destinations_its_permissions_open():
    assert _keys(Binding("public", "global")) == ["home", "passes", "health", "notices"]
    # Supplies: an officer over an area oversees; staff bound to one depot work there.
    assert _keys(Binding("supplies_officer", "area", "520100")) == [
        "home", "supplies", "notices"]
    assert _keys(Binding("supplies_officer", "depot", "DEP-1")) == ["home", "depot", "notices"]
    assert _keys(Binding("checkpoint_staff", "site", "CP-1")) == [
        "home", "checkpoint", "sites", "notices"]
    assert _keys(Binding("enterprise_admin", "enterprise", "X")) == [
        "home", "enterprises", "reports", "notices"]
    assert _keys(Binding("admin", "global")) == [
        "home", "review", "sites", "communities", "enterprises", "audit", "accounts", "notices"]
    assert nav.items_for(None) == []


def test_the_current_destination_is_the_longest_matching_prefix():
    items = nav.items_for(Principal(user_id=uuid.uuid4(), username="u", display_name="u",
                                    person_id=None, bindings=(Binding("official", "area", "52"),)))
    assert nav.current(items, "/") == "home"
    assert nav.current(items, "/passes/review") == "review"
    assert nav.current(items, "/communities/520102006001/out") == "communities"
    assert nav.current(items, "/me/access-log") is None
