"""The population jobs, each written once as an Ibis expression over the lake.

The same expression runs on DuckDB and on Spark (analytics.engines); nothing here
knows which. Times are UTC; a "date" is the UTC date (the lake's partitions).
Seconds are floored to whole seconds before they are compared, the same way on both
engines (DuckDB's epoch is fractional, Spark's is not).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import ibis
import ibis.expr.types as ir

from passtrace.analytics.engines import Lake
from passtrace.core.areacodes import significant_prefix


@dataclass(frozen=True)
class Params:
    """A job's parameters (validated by analytics.service before they get here)."""

    day_from: date
    day_to: date  # inclusive
    case_ids: tuple[str, ...] = ()
    person_hashes: tuple[str, ...] = ()
    window_minutes: int = 30
    area_codes: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ("window", "stays")  # companions: which evidence counts
    extra: dict[str, str] = field(default_factory=dict)


def _seconds(ts: ir.TimestampValue) -> ir.IntegerValue:
    return ts.epoch_seconds().cast("float64").floor().cast("int64")


def _in_days(t: ir.Table, lo: date, hi: date) -> ir.BooleanValue:
    """Partition pruning: the hive date column within [lo, hi]."""
    d = t.date.cast("date")
    return (d >= ibis.date(lo)) & (d <= ibis.date(hi))


def _prefixed(col: ir.StringValue, codes: Sequence[str]) -> ir.BooleanValue:
    """An area code inside any of the given areas (a code's ancestors are its prefixes:
    520100, the city, is every code starting 5201)."""
    cond = ibis.literal(False)
    for code in codes:
        cond = cond | col.startswith(significant_prefix(code))
    return cond


def index_hashes(lake: Lake, p: Params) -> list[str]:
    """The index persons of a companions job: the cases' hashes plus the given ones."""
    hashes = set(p.person_hashes)
    if p.case_ids:
        cases = lake.table("cases")
        found = lake.con.to_pyarrow(
            cases.filter(cases.id.isin(list(p.case_ids))).select("person_hash"))
        hashes.update(h for h in found.column("person_hash").to_pylist() if h)
    return sorted(hashes)


def companions(lake: Lake, p: Params) -> ir.Table:
    """Everyone who shared a site with an index person: registrations within ±W minutes
    (bucketed by site and W-minute window first: a plain site + time-range join
    explodes), and overlapping stays. One row per date, index person and companion with
    evidence counts and the first and last moment of exposure that day.

    The index person is kept (index_hash) so that a run over several cases can hand
    each case its own companions (analytics.companions, into the case's contacts)."""
    hashes = index_hashes(lake, p)
    width = p.window_minutes * 60
    regs = lake.table("registrations")
    regs = regs.filter(_in_days(regs, p.day_from, p.day_to), regs.person_hash.notnull())
    parts = []
    if "window" in p.evidence:
        idx = regs.filter(regs.person_hash.isin(hashes)).select(
            ihash=regs.person_hash, isite=regs.site_id, isec=_seconds(regs.occurred_at),
            ibucket=_seconds(regs.occurred_at) // width)
        # Each index registration probes its own bucket and the two beside it: one
        # cross join with the three offsets (a union of three copies made the engine
        # scan the registrations for the index persons three times).
        offsets = ibis.memtable({"k": [-1, 0, 1]}, schema={"k": "int64"})
        probes = idx.cross_join(offsets)
        probes = probes.select("ihash", "isite", "isec", ibucket=probes.ibucket + probes.k)
        other = regs.view()
        other = other.filter(~other.person_hash.isin(hashes)).select(
            "person_hash", site=other.site_id, sec=_seconds(other.occurred_at),
            bucket=_seconds(other.occurred_at) // width, day=other.occurred_at.date(),
            at=other.occurred_at)
        pairs = other.join(probes, [other.site == probes.isite, other.bucket == probes.ibucket])
        pairs = pairs.filter((pairs.sec - pairs.isec).abs() <= width)
        # The exposure's moment is the companion's registration (within W of the case's).
        parts.append(pairs.group_by(["day", "ihash", "person_hash"]).agg(
            window_hits=ibis._.count(), stay_overlaps=ibis.literal(0, "int64"),
            first_at=pairs.at.min(), last_at=pairs.at.max()))
    if "stays" in p.evidence:
        stays = lake.table("stays")
        lo = ibis.timestamp(f"{p.day_from.isoformat()}T00:00:00+00:00")
        hi = ibis.timestamp(f"{(p.day_to + timedelta(days=1)).isoformat()}T00:00:00+00:00")
        # A stay is capped (12 h by default): one day back catches those running over.
        stays = stays.filter(_in_days(stays, p.day_from - timedelta(days=1), p.day_to),
                             stays.started_at < hi, stays.ended_at > lo)
        ist = stays.filter(stays.person_hash.isin(hashes)).select(
            ihash=stays.person_hash, isite=stays.site_id, istart=stays.started_at,
            iend=stays.ended_at)
        ost = stays.view()
        ost = ost.filter(~ost.person_hash.isin(hashes)).select(
            "person_hash", site=ost.site_id, start=ost.started_at, end=ost.ended_at)
        j = ost.join(ist, ost.site == ist.isite)
        j = j.filter(j.start < j.iend, j.istart < j.end)
        # The exposure is the overlap of the two stays.
        j = j.mutate(ostart=ibis.greatest(j.start, j.istart), oend=ibis.least(j.end, j.iend))
        j = j.mutate(day=j.ostart.date())
        j = j.filter(j.day >= ibis.date(p.day_from), j.day <= ibis.date(p.day_to))
        parts.append(j.group_by(["day", "ihash", "person_hash"]).agg(
            window_hits=ibis.literal(0, "int64"), stay_overlaps=ibis._.count(),
            first_at=j.ostart.min(), last_at=j.oend.max()))
    both = ibis.union(*parts) if len(parts) > 1 else parts[0]
    out = both.group_by(["day", "ihash", "person_hash"]).agg(
        window_hits=both.window_hits.sum(), stay_overlaps=both.stay_overlaps.sum(),
        first_at=both.first_at.min(), last_at=both.last_at.max())
    return out.select(date=out.day, index_hash=out.ihash, person_hash=out.person_hash,
                      window_hits=out.window_hits.cast("int64"),
                      stay_overlaps=out.stay_overlaps.cast("int64"),
                      first_at=out.first_at, last_at=out.last_at)


def flows(lake: Lake, p: Params) -> ir.Table:
    """Origin → destination county per day, from each person's consecutive allowed
    registrations (a move is counted on the date it arrived)."""
    regs = lake.table("registrations")
    sites = lake.table("sites")
    regs = regs.filter(_in_days(regs, p.day_from, p.day_to), regs.person_hash.notnull(),
                       regs.decision == "allow")
    counties = sites.select(sid=sites.id, county=sites.area_code.substr(0, 6),
                            area=sites.area_code)
    j = regs.join(counties, regs.site_id == counties.sid)
    w = ibis.window(group_by=j.person_hash, order_by=[j.occurred_at, j.id])
    moves = j.select(day=j.occurred_at.date(), origin=j.county.lag().over(w),
                     destination=j.county, from_area=j.area.lag().over(w), to_area=j.area)
    moves = moves.filter(moves.origin.notnull(), moves.origin != moves.destination)
    if p.area_codes:  # the job's area: moves out of it or into it
        moves = moves.filter(_prefixed(moves.from_area, p.area_codes)
                             | _prefixed(moves.to_area, p.area_codes))
    out = moves.group_by(["day", "origin", "destination"]).agg(moves=ibis._.count())
    return out.select(date=out.day, origin=out.origin, destination=out.destination,
                      moves=out.moves.cast("int64"))


def site_load(lake: Lake, p: Params) -> ir.Table:
    """Registrations per site per hour and the denial rate; one row per hour with
    reason "*" (every denial) and one per denial reason."""
    regs = lake.table("registrations")
    regs = regs.filter(_in_days(regs, p.day_from, p.day_to))
    if p.area_codes:  # the job's area: its sites only
        sites = lake.table("sites")
        inside = sites.filter(_prefixed(sites.area_code, p.area_codes)).select(sid=sites.id)
        regs = regs.semi_join(inside, regs.site_id == inside.sid)
    regs = regs.mutate(hour=regs.occurred_at.truncate("h"))
    base = regs.group_by(["site_id", "hour"]).agg(
        registrations=ibis._.count(),
        denied=(regs.decision == "deny").cast("int64").sum())
    denied = regs.filter(regs.decision == "deny")
    reasons = denied.select("site_id", "hour", reason=denied.reasons.unnest())
    per_reason = reasons.group_by(["site_id", "hour", "reason"]).agg(n=ibis._.count())
    per_reason = per_reason.join(base, ["site_id", "hour"])
    rows_reason = per_reason.select(
        "site_id", "hour", "reason", registrations=per_reason.registrations.cast("int64"),
        denied=per_reason.n.cast("int64"))
    rows_all = base.select("site_id", "hour", reason=ibis.literal("*"),
                           registrations=base.registrations.cast("int64"),
                           denied=base.denied.cast("int64"))
    out = ibis.union(rows_all, rows_reason)
    return out.mutate(denial_rate=(out.denied.cast("float64")
                                   / out.registrations.cast("float64")).round(6))


def risk_visitors(lake: Lake, p: Params) -> ir.Table:
    """Persons with a registration at a site in, or a reported stop in, any given area."""
    regs = lake.table("registrations")
    sites = lake.table("sites")
    stops = lake.table("report_stops")
    regs = regs.filter(_in_days(regs, p.day_from, p.day_to), regs.person_hash.notnull())
    inside = sites.filter(_prefixed(sites.area_code, p.area_codes)).select(sid=sites.id)
    seen = regs.join(inside, regs.site_id == inside.sid).select(
        "person_hash", at=regs.occurred_at, registration=ibis.literal(1, "int64"),
        stop=ibis.literal(0, "int64"))
    stops = stops.filter(_in_days(stops, p.day_from, p.day_to), stops.person_hash.notnull(),
                         _prefixed(stops.area_code, p.area_codes))
    # An empty table (a memtable) and Parquet on Spark can disagree on the time zone of
    # the type: one type for both sides of the union.
    told = stops.select("person_hash", at=stops.arrive_at.cast(regs.occurred_at.type()),
                        registration=ibis.literal(0, "int64"), stop=ibis.literal(1, "int64"))
    both = ibis.union(seen, told)
    out = both.group_by("person_hash").agg(
        registrations=both.registration.sum(), stops=both.stop.sum(),
        first_seen=both.at.min(), last_seen=both.at.max())
    return out.select("person_hash", registrations=out.registrations.cast("int64"),
                      stops=out.stops.cast("int64"), first_seen=out.first_seen,
                      last_seen=out.last_seen)


def report_coverage(lake: Lake, p: Params) -> ir.Table:
    """Share of an enterprise's active employees who filed, per day. The employees table
    is today's roster (status active, joined on or before the day): see docs/lake.md."""
    days = [p.day_from + timedelta(days=i) for i in range((p.day_to - p.day_from).days + 1)]
    calendar = ibis.memtable({"day": days}, schema={"day": "date"})
    emp = lake.table("employees")
    emp = emp.filter(emp.status == "active")
    if p.area_codes:  # the job's area: enterprises registered in it
        ents = lake.table("enterprises")
        inside = ents.filter(_prefixed(ents.area_code, p.area_codes)).select(xid=ents.id)
        emp = emp.semi_join(inside, emp.enterprise_id == inside.xid)
    roster = emp.cross_join(calendar)
    roster = roster.filter(roster.created_at.date() <= roster.day)
    roster = roster.group_by(["enterprise_id", "day"]).agg(employees=ibis._.count())
    reps = lake.table("reports")
    reps = reps.filter(_in_days(reps, p.day_from, p.day_to), reps.employee_id.notnull())
    # Only the roster's filers: a report by someone who since left counts on neither side.
    active = emp.select(eid=emp.id)
    reps = reps.semi_join(active, reps.employee_id == active.eid)
    filed = reps.group_by(eid=reps.enterprise_id, fday=reps.report_date).agg(
        filed=reps.employee_id.nunique())
    j = roster.left_join(filed, [roster.enterprise_id == filed.eid, roster.day == filed.fday])
    n = j.filed.fill_null(0).cast("int64")
    return j.select(date=j.day, enterprise_id=j.enterprise_id,
                    employees=j.employees.cast("int64"), filed=n,
                    share=(n.cast("float64") / j.employees.cast("float64")).round(6))


JOBS: dict[str, Callable[[Lake, Params], ir.Table]] = {
    "companions": companions,
    "flows": flows,
    "site-load": site_load,
    "risk-visitors": risk_visitors,
    "report-coverage": report_coverage,
}

# The columns a result is sorted by, so both engines give the same rows in the same order.
SORT_KEYS = {
    "companions": ["date", "index_hash", "person_hash"],
    "flows": ["date", "origin", "destination"],
    "site-load": ["site_id", "hour", "reason"],
    "risk-visitors": ["person_hash"],
    "report-coverage": ["date", "enterprise_id"],
}
