"""`lake export` from SQLite and PostgreSQL: the layout, the manifest, incremental re-runs,
and no clear ID number, name, phone or plate anywhere in the Parquet files."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pyarrow.parquet as pq
from sqlalchemy.orm import Session

from passtrace.analytics.lake.export import export
from passtrace.analytics.lake.source import Source
from passtrace.core.runtime import Runtime
from passtrace.people import service as people_service
from passtrace.registrations.models import Registration
from tests.conftest import next_id_number
from tests.tracing import world
from tests.tracing.world import T0

NAME = "欧阳湖滨"
PHONE = "13912345678"
PLATE = "贵A9Z876"


def _seed(session: Session, rt: Runtime) -> tuple[str, str]:
    id_number = next_id_number()
    p = people_service.register(session=session, vault=rt.vault, actor=None,
                                id_number=id_number, name=NAME, phone=PHONE)
    site = world.site(session)
    for day in range(3):
        r = world.reg(session, site, p.id_hash, T0 + timedelta(days=day))
        # What a device records beside the hash: never exported.
        r.person_masked, r.id_last4, r.plate = f"{NAME[0]}**", id_number[-4:], PLATE
        r.origin = f"{NAME}家"
    world.stay(session, site, p.id_hash, T0, T0 + timedelta(hours=2))
    world.case(session, p)
    _, dep = world.enterprise(session)
    world.report(session, dep, p, T0.date(), stops=[
        {"area": "520102", "at": T0, "mode": "car", "ref": PLATE},
        {"area": "520103", "at": T0 + timedelta(hours=1), "mode": "train", "ref": "G1234",
         "seat": "05A"}])
    session.flush()
    return id_number, p.id_hash


def _files(lake: Path) -> dict[Path, float]:
    return {f: f.stat().st_mtime_ns for f in lake.rglob("*.parquet")}


def test_export_layout_rerun_and_no_clear_identity(rt: Runtime, session: Session,
                                                   tmp_path: Path) -> None:
    id_number, person_hash = _seed(session, rt)
    source = Source(session.connection())
    lake = tmp_path / "lake"

    first = export(source, lake)
    manifest = json.loads((lake / "_manifest.json").read_text())
    days = [(T0 + timedelta(days=d)).date().isoformat() for d in range(3)]
    regs = manifest["tables"]["registrations"]
    assert sorted(regs["dates"]) == days and regs["rows"] == 5  # 3 + the stay's in and out
    assert first.written["stays"] == 1 and first.written["cases"] == 1
    assert first.written["report_stops"] == 2
    assert manifest["schema_version"] == 1 and "exported_at" in manifest
    for day in days:
        assert (lake / "registrations" / f"date={day}" / "part-0.parquet").exists()

    got = pq.read_table(lake / "registrations").to_pylist()
    assert {r["person_hash"] for r in got} == {person_hash}
    assert all(len(r["id"]) == 36 for r in got)  # ids as text, not Parquet UUID
    stops = pq.read_table(lake / "report_stops").to_pylist()
    assert sorted((s["mode"], s["ref"]) for s in stops) == [("car", None), ("train", "G1234")]

    # Not one clear identity byte, in the raw files (statistics, metadata) or the values.
    secrets = [id_number, NAME, PHONE, PLATE]
    for f in lake.rglob("*.parquet"):
        raw = f.read_bytes()
        text = str(pq.read_table(f).to_pylist())
        for s in secrets:
            assert s.encode() not in raw, (f, s)
            assert s not in text, (f, s)

    # A re-run with nothing new writes nothing.
    before = _files(lake)
    again = export(source, lake)
    assert again.rows == 0 and _files(lake) == before

    # A late upload into the middle date rewrites that date only.
    site_id = session.query(Registration.site_id).first()[0]
    world.reg(session, type("S", (), {"id": site_id})(), person_hash,  # type: ignore[arg-type]
              T0 + timedelta(days=1, minutes=5))
    third = export(source, lake)
    assert third.dates_written["registrations"] == [days[1]]
    assert third.written["registrations"] == 2
    assert json.loads((lake / "_manifest.json").read_text())[
        "tables"]["registrations"]["rows"] == 6
