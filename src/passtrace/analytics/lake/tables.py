"""What the lake holds: each table's columns, as SQL per dialect and as Arrow types.

Pseudonymised by construction: a person appears only as their keyed hash
(person_hash, the HMAC of the ID number the OLTP tables already carry). No column
here can carry an ID number, a name, a phone, a plate or free text a person typed
(origin, destination, notes): those columns are simply never selected. Ids are
text (Spark rejects DuckDB's Parquet UUID type). docs/lake.md says why each column
is there.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

SCHEMA_VERSION = 1

UTC_TS = pa.timestamp("us", tz="UTC")


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # uuid | text | ts | date | int | float | bool | reasons
    source: str = ""  # the SQL column (or expression) it comes from; default: name

    @property
    def sql_source(self) -> str:
        return self.source or self.name

    @property
    def arrow_type(self) -> pa.DataType:
        return {
            "uuid": pa.string(), "text": pa.string(), "ts": UTC_TS, "date": pa.date32(),
            "int": pa.int64(), "float": pa.float64(), "bool": pa.bool_(),
            "reasons": pa.list_(pa.string()),
        }[self.kind]


@dataclass(frozen=True)
class Table:
    """One lake table. partition_by: the column whose UTC date is the hive partition
    (None: a small table written whole, as a snapshot). change_marker: SQL aggregated
    per date beside count(*) to notice rows changed in place (docs/lake.md)."""

    name: str
    source: str  # FROM clause (may join)
    columns: tuple[Column, ...]
    partition_by: str | None = None
    partition_is_date: bool = False  # the partition column is a DATE, not a timestamp
    change_marker: str = ""

    @property
    def schema(self) -> pa.Schema:
        return pa.schema([pa.field(c.name, c.arrow_type) for c in self.columns])


def _c(name: str, kind: str, source: str = "") -> Column:
    return Column(name, kind, source)


TABLES: tuple[Table, ...] = (
    Table("registrations", "registrations r", (
        _c("id", "uuid", "r.id"), _c("site_id", "uuid", "r.site_id"), _c("lane", "text", "r.lane"),
        _c("occurred_at", "ts", "r.occurred_at"), _c("received_at", "ts", "r.received_at"),
        _c("direction", "text", "r.direction"), _c("method", "text", "r.method"),
        _c("person_hash", "text", "r.person_hash"), _c("decision", "text", "r.decision"),
        _c("reasons", "reasons", "r.reasons"),
        _c("future_flagged", "bool", "r.future_flagged"),
    ), partition_by="r.occurred_at",
        # A late offline upload lands in an old date with a new received_at.
        change_marker="max(r.received_at)"),
    Table("stays", "stays s", (
        _c("id", "uuid", "s.id"), _c("person_hash", "text", "s.person_hash"),
        _c("site_id", "uuid", "s.site_id"), _c("started_at", "ts", "s.started_at"),
        _c("ended_at", "ts", "s.ended_at"), _c("closed_by", "text", "s.closed_by"),
    ), partition_by="s.started_at",
        # An "out" closes a stay in place: ended_at and out_registration_id change.
        change_marker="count(s.out_registration_id)"),
    Table("reports", "daily_reports d", (
        _c("id", "uuid", "d.id"), _c("enterprise_id", "uuid", "d.enterprise_id"),
        _c("department_id", "uuid", "d.department_id"),
        _c("employee_id", "uuid", "d.employee_id"), _c("report_date", "date", "d.report_date"),
        _c("person_hash", "text", "d.person_hash"), _c("stayed_home", "bool", "d.stayed_home"),
        _c("late", "bool", "d.late"), _c("source", "text", "d.source"),
        _c("submitted_at", "ts", "d.submitted_at"),
    ), partition_by="d.report_date", partition_is_date=True,
        change_marker="max(coalesce(d.amended_at, d.submitted_at))"),
    # A report's stops; the leg from the previous stop (mode, train or flight number,
    # seat) is the "trip". A car or taxi's ref is a plate: not exported.
    Table("report_stops", "report_stops p JOIN daily_reports d ON d.id = p.report_id", (
        _c("report_id", "uuid", "p.report_id"), _c("seq", "int", "p.seq"),
        _c("person_hash", "text", "d.person_hash"), _c("report_date", "date", "d.report_date"),
        _c("area_code", "text", "p.area_code"), _c("arrive_at", "ts", "p.arrive_at"),
        _c("depart_at", "ts", "p.depart_at"), _c("mode", "text", "p.mode"),
        _c("ref", "text", "CASE WHEN p.mode IN ('train', 'flight') THEN p.ref END"),
        _c("seat", "text", "CASE WHEN p.mode IN ('train', 'flight') THEN p.seat END"),
    ), partition_by="d.report_date", partition_is_date=True,
        change_marker="max(coalesce(d.amended_at, d.submitted_at))"),
    Table("cases", "cases c", (
        _c("id", "uuid", "c.id"), _c("person_hash", "text", "c.person_hash"),
        _c("classification", "text", "c.classification"), _c("status", "text", "c.status"),
        _c("onset_date", "date", "c.onset_date"), _c("sampling_date", "date", "c.sampling_date"),
        _c("isolation_date", "date", "c.isolation_date"),
        _c("window_start", "ts", "c.window_start"), _c("window_end", "ts", "c.window_end"),
        _c("window_minutes", "int", "c.window_minutes"), _c("area_code", "text", "c.area_code"),
        _c("created_at", "ts", "c.created_at"), _c("closed_at", "ts", "c.closed_at"),
    )),
    Table("contacts", "case_contacts k", (
        _c("id", "uuid", "k.id"), _c("case_id", "uuid", "k.case_id"),
        _c("person_hash", "text", "k.person_hash"), _c("kind", "text", "k.kind"),
        _c("depth", "int", "k.depth"), _c("via_contact_id", "uuid", "k.via_contact_id"),
        _c("first_exposure", "ts", "k.first_exposure"),
        _c("last_exposure", "ts", "k.last_exposure"), _c("area_code", "text", "k.area_code"),
        _c("found_at", "ts", "k.found_at"),
    )),
    Table("employees", "employees e", (
        _c("id", "uuid", "e.id"), _c("enterprise_id", "uuid", "e.enterprise_id"),
        _c("department_id", "uuid", "e.department_id"), _c("status", "text", "e.status"),
        _c("created_at", "ts", "e.created_at"),
    )),
    # Only where an enterprise is (for a job's area), never its name or contacts.
    Table("enterprises", "enterprises x", (
        _c("id", "uuid", "x.id"), _c("area_code", "text", "x.area_code"),
    )),
    Table("sites", "sites s", (
        _c("id", "uuid", "s.id"), _c("code", "text", "s.code"), _c("name", "text", "s.name"),
        _c("kind", "text", "s.kind"), _c("area_code", "text", "s.area_code"),
        _c("community_code", "text", "s.community_code"), _c("active", "bool", "s.active"),
    )),
    Table("areas", "areas a", (
        _c("code", "text", "a.code"), _c("name_zh", "text", "a.name_zh"),
        _c("name_en", "text", "a.name_en"), _c("level", "text", "a.level"),
        _c("parent_code", "text", "a.parent_code"),
    )),
)

BY_NAME = {t.name: t for t in TABLES}
