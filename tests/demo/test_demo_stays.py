"""The demo's seeded gate registrations come with their stays (seed ends with a rebuild)."""

from __future__ import annotations

from sqlalchemy import func, select

from passtrace.core.runtime import Runtime
from passtrace.registrations import stays
from passtrace.registrations.models import Registration, Stay
from passtrace.sites.models import Site
from tests.demo.test_chinese import demo_rt  # noqa: F401 - the seeded demo, a fixture


def test_the_demo_has_stays_for_its_gate_registrations(demo_rt: Runtime) -> None:  # noqa: F811
    with demo_rt.sessions() as session:
        rows = session.execute(
            select(Stay, Registration.direction, Registration.decision, Site.kind)
            .join(Registration, Registration.id == Stay.id)
            .join(Site, Site.id == Stay.site_id)).all()
        assert rows, "the demo seeds gate registrations: it must have stays"
        assert {(d, dec) for _, d, dec, _k in rows} == {("in", "allow")}
        assert {k for *_, k in rows} <= stays.STAY_KINDS
        before = {s.id: (s.started_at, s.ended_at, s.closed_by) for s, *_ in rows}
        assert stays.rebuild(session) == len(before)
        after = session.scalars(select(Stay)).all()
        assert {s.id: (s.started_at, s.ended_at, s.closed_by) for s in after} == before
        assert session.scalar(select(func.count()).select_from(Stay)) == len(before)
