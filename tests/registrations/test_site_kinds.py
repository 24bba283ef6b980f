"""Site kinds plug their rules into the decision; a process that forgot to wire refuses."""

from __future__ import annotations

import pytest

from passtrace.communities.outings.gate import GATE
from passtrace.registrations import site_kinds
from passtrace.sites.models import Site


def _site(community_code: str = "") -> Site:
    return Site(code="S-1", name="s", kind="community_gate" if community_code else "venue",
                area_code="520102", community_code=community_code)


def test_the_wiring_puts_the_compounds_gate_rules_in_front_of_its_gates() -> None:
    assert site_kinds.provider_for(_site("520102006001")) is GATE
    assert site_kinds.provider_for(_site()) is None  # a road checkpoint has no kind rules


def test_a_gate_is_never_decided_without_its_compounds_rules(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(site_kinds, "_providers", {})
    with pytest.raises(site_kinds.SiteKindsNotWired):
        site_kinds.provider_for(_site("520102006001"))
    assert site_kinds.provider_for(_site()) is None  # other sites are unaffected
