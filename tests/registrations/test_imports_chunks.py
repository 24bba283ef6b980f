"""Registrations imports in chunks: re-runs, stays across chunk boundaries, bad rows.

A file is stored in chunks of `chunk_rows`, a transaction each, and the stays of each
chunk's new rows are kept as it goes (set-based on PostgreSQL): an "in" and its "out"
landing in different chunks, or files, must still make one closed stay, exactly what
rebuilding the stays from the registrations yields.
"""

from __future__ import annotations

import io
import random
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from passtrace.core.ids import uuid7
from passtrace.registrations import imports, stays
from passtrace.registrations.models import Registration, Stay
from passtrace.sites.models import Site
from tests.conftest import next_id_number

HEADER = "external_id,site_code,id_number,occurred_at,direction,temperature,plate\n"
T0 = datetime(2026, 2, 3, 0, 30, tzinfo=UTC)


def _site(session: Session, kind: str = "venue") -> Site:
    site = Site(id=uuid7(), code=f"IC-{uuid7().hex[-8:]}", name="导入", kind=kind,
                area_code="520102", lanes=["1"])
    session.add(site)
    session.commit()
    return site


def _line(external_id: str, site: Site | str, id_number: str, at: datetime | str,
          direction: str) -> str:
    code = site if isinstance(site, str) else site.code
    when = at if isinstance(at, str) else at.isoformat()
    return f"{external_id},{code},{id_number},{when},{direction},,"


def _load(session: Session, rt: Any, lines: list[str],
          chunk_rows: int = 2) -> imports.RegistrationImport:
    data = (HEADER + "".join(line + "\n" for line in lines)).encode()
    return imports.import_registrations(session=session, vault=rt.vault, actor=None,
                                        stream=io.BytesIO(data), commit=session.commit,
                                        chunk_rows=chunk_rows)


def _ids(session: Session, run: str) -> dict[str, Any]:
    session.expire_all()
    return {r.external_id: r.id for r in session.scalars(
        select(Registration).where(Registration.external_id.like(f"{run}%")))}


def _stays(session: Session, person_hash: str) -> list[tuple[Any, ...]]:
    session.expire_all()
    return [(s.id, s.started_at, s.ended_at, s.closed_by, s.out_registration_id)
            for s in stays.stays_of(session, person_hash)]


def test_a_reimport_stores_nothing_new_and_reports_every_row_as_already_there(session, rt):
    site, person, run = _site(session), next_id_number(), uuid7().hex
    lines = [_line(f"{run}-{i}", site, person, T0 + timedelta(hours=i), d)
             for i, d in enumerate(["in", "out", "in", "through", "out", "in", "out"])]
    first = _load(session, rt, lines, chunk_rows=3)
    assert (first.imported, first.unchanged, first.refused) == (7, 0, 0)
    digest = rt.vault.lookup_hash(person)
    before = _stays(session, digest)
    assert [s[3] for s in before] == ["out", "out", "out"]

    again = _load(session, rt, lines, chunk_rows=3)
    assert (again.rows, again.imported, again.unchanged, again.refused) == (7, 0, 7, 0)
    assert _stays(session, digest) == before
    assert session.scalar(select(func.count()).select_from(Registration).where(
        Registration.external_id.like(f"{run}-%"))) == 7


def test_an_in_and_its_out_in_different_chunks_make_one_closed_stay(session, rt):
    site, run = _site(session), uuid7().hex
    walker, late, other = next_id_number(), next_id_number(), next_id_number()
    lines = [
        # chunk 1: someone passing by, then the walker's "in" (its "out" is in chunk 2)
        _line(f"{run}-a", site, other, T0, "through"),
        _line(f"{run}-w-in", site, walker, T0, "in"),
        # chunk 2: the walker's "out"; the late one's "out" before its "in" (chunk 3)
        _line(f"{run}-w-out", site, walker, T0 + timedelta(hours=2), "out"),
        _line(f"{run}-l-out", site, late, T0 + timedelta(hours=5), "out"),
        # chunk 3: the late one's "in", three hours before the "out" already stored
        _line(f"{run}-l-in", site, late, T0 + timedelta(hours=2), "in"),
    ]
    done = _load(session, rt, lines, chunk_rows=2)
    assert (done.imported, done.refused) == (5, 0)
    ids = _ids(session, run)
    assert _stays(session, rt.vault.lookup_hash(walker)) == [
        (ids[f"{run}-w-in"], T0, T0 + timedelta(hours=2), "out", ids[f"{run}-w-out"])]
    assert _stays(session, rt.vault.lookup_hash(late)) == [
        (ids[f"{run}-l-in"], T0 + timedelta(hours=2), T0 + timedelta(hours=5), "out",
         ids[f"{run}-l-out"])]
    assert _stays(session, rt.vault.lookup_hash(other)) == []


def test_a_second_file_closes_a_stay_the_first_left_open(session, rt):
    site, person, run = _site(session), next_id_number(), uuid7().hex
    _load(session, rt, [_line(f"{run}-1", site, person, T0, "in")])
    digest = rt.vault.lookup_hash(person)
    ids = _ids(session, run)
    assert _stays(session, digest) == [(ids[f"{run}-1"], T0, T0 + stays.cap_for("venue"),
                                        "cap", None)]
    # A missed "out" an hour later, and a second "in" (the next visit) after that.
    _load(session, rt, [_line(f"{run}-3", site, person, T0 + timedelta(hours=3), "in"),
                        _line(f"{run}-2", site, person, T0 + timedelta(hours=1), "out")])
    ids = _ids(session, run)
    assert _stays(session, digest) == [
        (ids[f"{run}-1"], T0, T0 + timedelta(hours=1), "out", ids[f"{run}-2"]),
        (ids[f"{run}-3"], T0 + timedelta(hours=3), T0 + timedelta(hours=3)
         + stays.cap_for("venue"), "cap", None)]


def test_bad_rows_are_reported_by_row_number_and_the_good_rows_of_every_chunk_land(
        session, rt):
    site, person, run = _site(session), next_id_number(), uuid7().hex
    good = [_line(f"{run}-{i}", site, person, T0 + timedelta(minutes=i), "through")
            for i in range(7)]
    lines = [good[0], good[1],
             _line(f"{run}-x1", "NO-SUCH", person, T0, "through"),     # row 4
             good[2],
             "",                                                         # row 6: blank
             _line(f"{run}-x2", site, "520102199001011234", T0, "in"),   # row 7
             good[3], good[4],
             _line(f"{run}-x3", site, person, "2026-02-03 08:30", "up"),  # row 10
             good[5], good[6]]
    done = _load(session, rt, lines, chunk_rows=2)
    assert (done.rows, done.imported, done.refused) == (10, 7, 3)
    assert [(p.row, p.column) for p in done.problems] == [
        (4, "site_code"), (7, "id_number"), (10, "occurred_at"), (10, "direction")]
    assert sorted(_ids(session, run)) == sorted(f"{run}-{i}" for i in range(7))


def test_stays_built_chunk_by_chunk_equal_a_rebuild(session, rt):
    """Random sequences (fixed seed) in shuffled files and chunks; a rebuild must agree."""
    rng = random.Random(29)
    sites = [_site(session, kind) for kind in ("venue", "community_gate", "road_checkpoint")]
    persons = [next_id_number() for _ in range(5)]
    run, lines = uuid7().hex, []
    for p, person in enumerate(persons):
        at = T0
        for i in range(16):
            at += timedelta(minutes=rng.choice([5, 40, 130, 400, 800]))
            lines.append(_line(f"{run}-{p}-{i}", rng.choice(sites), person, at,
                               rng.choice(["in", "in", "out", "through"])))
    rng.shuffle(lines)
    for part in (lines[:30], lines[30:55], lines[55:]):
        assert _load(session, rt, part, chunk_rows=7).refused == 0
    hashes = [rt.vault.lookup_hash(p) for p in persons]
    built = {h: _stays(session, h) for h in hashes}
    assert sum(len(s) for s in built.values()) > 10
    assert {s[3] for rows in built.values() for s in rows} == {"out", "cap"}
    assert stays.rebuild(session, person_hashes=hashes) == sum(len(s) for s in built.values())
    session.commit()
    assert {h: _stays(session, h) for h in hashes} == built
    assert session.scalar(select(func.count()).select_from(Stay).where(
        Stay.person_hash.in_(hashes))) == sum(len(s) for s in built.values())


def test_stays_of_kinds_with_different_caps_built_chunk_by_chunk_equal_a_rebuild(
        session, rt, monkeypatch):
    """Each pair keeps its own kind's cap when one chunk holds several kinds.

    A venue capped at 3 h beside a gate capped at 10 h: a stay at the venue ends at its
    cap where the gate's runs on to the next event, and the import (one statement for
    every cap on PostgreSQL) must agree with a rebuild on both.
    """
    from passtrace.core.config import Settings

    rng = random.Random(31)
    monkeypatch.setenv("PASSTRACE_STAY_CAP_HOURS", "default=10,venue=3")
    try:
        stays.configure(Settings())
        sites = [_site(session, kind) for kind in ("venue", "community_gate")]
        persons = [next_id_number() for _ in range(4)]
        run, lines = uuid7().hex, []
        for p, person in enumerate(persons):
            at = T0
            for i in range(14):
                at += timedelta(minutes=rng.choice([20, 130, 250, 420, 700]))
                lines.append(_line(f"{run}-{p}-{i}", rng.choice(sites), person, at,
                                   rng.choice(["in", "in", "out"])))
        rng.shuffle(lines)
        for part in (lines[:20], lines[20:]):
            assert _load(session, rt, part, chunk_rows=9).refused == 0
        hashes = [rt.vault.lookup_hash(p) for p in persons]
        built = {h: _stays(session, h) for h in hashes}
        lengths = {s[2] - s[1] for rows in built.values() for s in rows}
        assert timedelta(hours=3) in lengths and timedelta(hours=10) in lengths
        assert stays.rebuild(session, person_hashes=hashes) == sum(
            len(s) for s in built.values())
        session.commit()
        assert {h: _stays(session, h) for h in hashes} == built
    finally:
        monkeypatch.delenv("PASSTRACE_STAY_CAP_HOURS")
        stays.configure(Settings())


def test_an_imported_out_closes_a_stay_whose_in_lies_in_another_day_partition(session, rt):
    """The "in" a guard's phone stored (its id made today, for February: it lands in
    today's partition on PostgreSQL) and the imported "out" of February (its id from its
    time: another partition) still make one closed stay: the import's read of the moves
    keeps every partition whose rows occurred in the span, whatever their ids say."""
    site, run, person = _site(session), uuid7().hex, next_id_number()
    digest = rt.vault.lookup_hash(person)
    came = Registration(id=uuid7(), site_id=site.id, lane="1", device_key="dev",
                        occurred_at=T0, received_at=T0, direction="in", method="qr",
                        person_hash=digest, person_masked="", id_last4=person[-4:],
                        decision="allow", reasons=[])
    session.add(came)
    stays.open_or_close(session, came, site_kind=site.kind)
    session.commit()
    assert _stays(session, digest) == [(came.id, T0, T0 + stays.DEFAULT_CAP, "cap", None)]
    done = _load(session, rt, [_line(f"{run}-out", site, person, T0 + timedelta(hours=3),
                                     "out")])
    assert (done.imported, done.refused) == (1, 0)
    assert _stays(session, digest) == [
        (came.id, T0, T0 + timedelta(hours=3), "out", _ids(session, run)[f"{run}-out"])]


def test_stays_of_fresh_chunks_and_of_partly_stored_ones_equal_a_full_rebuild(session, rt):
    """A fresh chunk takes the plain inserts, a chunk holding rows stored before the
    ON CONFLICT path (PostgreSQL): both keep the stays a rebuild from scratch makes.

    The first file's chunks are all new: an "in" whose "out" is in the next chunk, an
    "out" whose "in" comes two chunks later, a missed "out". The second file repeats it
    with new rows between, so every chunk mixes stored and new rows: it must store only
    the new ones, report the others as already there, and pair the new rows with the
    stored ones.
    """
    site, run = _site(session), uuid7().hex
    a, b, c = next_id_number(), next_id_number(), next_id_number()
    first = [_line(f"{run}-a1", site, a, T0, "in"),
             _line(f"{run}-b2", site, b, T0 + timedelta(hours=5), "out"),
             _line(f"{run}-c1", site, c, T0, "in"),
             # chunk 2
             _line(f"{run}-a2", site, a, T0 + timedelta(hours=2), "out"),
             _line(f"{run}-c2", site, c, T0 + timedelta(hours=1), "in"),
             _line(f"{run}-c3", site, c, T0 + timedelta(hours=3), "out"),
             # chunk 3
             _line(f"{run}-b1", site, b, T0 + timedelta(hours=1), "in")]
    done = _load(session, rt, first, chunk_rows=3)
    assert (done.imported, done.unchanged, done.refused) == (7, 0, 0)
    later = [_line(f"{run}-a3", site, a, T0 + timedelta(hours=4), "in"),
             _line(f"{run}-a4", site, a, T0 + timedelta(hours=6), "out"),
             _line(f"{run}-b0", site, b, T0 + timedelta(minutes=30), "out"),
             _line(f"{run}-c4", site, c, T0 + timedelta(hours=2), "through")]
    mixed = [first[0], later[0], first[1], later[1], first[2], first[3], later[2],
             first[4], first[5], later[3], first[6]]
    again = _load(session, rt, mixed, chunk_rows=3)
    assert (again.rows, again.imported, again.unchanged, again.refused) == (11, 4, 7, 0)

    ids = _ids(session, run)
    hashes = {p: rt.vault.lookup_hash(p) for p in (a, b, c)}
    built = {p: _stays(session, h) for p, h in hashes.items()}
    hours = [T0 + timedelta(hours=h) for h in range(7)]
    assert built == {
        a: [(ids[f"{run}-a1"], hours[0], hours[2], "out", ids[f"{run}-a2"]),
            (ids[f"{run}-a3"], hours[4], hours[6], "out", ids[f"{run}-a4"])],
        b: [(ids[f"{run}-b1"], hours[1], hours[5], "out", ids[f"{run}-b2"])],
        c: [(ids[f"{run}-c1"], hours[0], hours[1], "cap", None),
            (ids[f"{run}-c2"], hours[1], hours[3], "out", ids[f"{run}-c3"])]}
    assert stays.rebuild(session, person_hashes=list(hashes.values())) == 5
    session.commit()
    assert {p: _stays(session, h) for p, h in hashes.items()} == built


def test_an_imported_row_keeps_its_id_across_versions():
    """The id is a function of the external id and the time: a file imported by an
    earlier version and again by this one names the same rows and the same stays."""
    local = timezone(timedelta(hours=8))
    assert str(imports.import_id("paper-1", datetime(2026, 2, 3, 8, 30, tzinfo=local))) \
        == "019c20e7-fb40-7a16-8022-20229f9cfb6f"
    assert str(imports.import_id("县医院-00017", T0.replace(microsecond=123000))) \
        == "019c20e7-fbbb-77d8-a7f2-1d09694ae68c"
