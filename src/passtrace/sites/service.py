"""Sites: register, edit, list, import; devices and their thermal readings."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import ValidationError
from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.orm import Session

from passtrace.accounts import service as account_service
from passtrace.accounts.models import RoleBinding, User
from passtrace.areas import service as area_service
from passtrace.audit import service as audit_service
from passtrace.core import imports
from passtrace.core.clock import utcnow
from passtrace.core.errors import Forbidden, NotFound, ValidationFailed
from passtrace.core.i18n import N_
from passtrace.core.imports import ImportResult, Matched, Problem
from passtrace.core.pagination import paginate_query
from passtrace.core.security import Principal, new_token, token_digest
from passtrace.core.tabular import SheetRow
from passtrace.rules.decide import round_temperature
from passtrace.sites import authz
from passtrace.sites.models import Device, Site, ThermalReading
from passtrace.sites.schemas import SiteWrite

CODE_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
HOURS_RE = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")
LANE_RE = re.compile(r"^[A-Za-z0-9_-]{1,16}$")
# A reading older than this is not offered: the person at the lane has moved on.
READING_FRESH_SECONDS = 60
STAFF_LOGIN_MISSING = N_("Type the login name of the person to put on duty.")
STAFF_LOGIN_UNKNOWN = N_("No active account has the login name %(username)s. Check the "
                         "spelling with the person, or ask an administrator to create or "
                         "reactivate the account.")

IMPORT_COLUMNS: dict[str, tuple[str, ...]] = {
    "code": ("编号", "站点编号", "site code"),
    "name": ("名称", "站点名称", "site name"),
    "kind": ("类型", "type"),
    "area_code": ("区划代码", "area", "area code"),
    "latitude": ("纬度", "lat"),
    "longitude": ("经度", "lon", "lng"),
    "lanes": ("通道", "lane", "车道"),
    "opening_hours": ("开放时间", "hours", "opening hours"),
    "fever_threshold": ("发热阈值", "fever", "fever threshold"),
}
KIND_ALIASES = {
    "卡口": "road_checkpoint", "道路卡口": "road_checkpoint",
    "临时路口": "temporary_intersection", "路口": "temporary_intersection",
    "小区门岗": "community_gate", "社区门岗": "community_gate",
    "企业门岗": "enterprise_gate", "场所": "venue",
}


def check_write(data: SiteWrite) -> SiteWrite:
    """Check the parts of a site pydantic cannot: code, lanes and opening-hour formats."""
    fields: dict[str, str] = {}
    if not CODE_RE.match(data.code):
        fields["code"] = N_("Site codes are letters, digits, - or _ (at most 32).")
    if any(not LANE_RE.match(lane) for lane in data.lanes) or len(set(data.lanes)) < len(
            data.lanes):
        fields["lanes"] = N_("Lanes are distinct short names of letters and digits.")
    for rng in data.opening_hours:
        m = HOURS_RE.match(rng)
        if not m or (m.group(1), m.group(2)) >= (m.group(3), m.group(4)) and rng != "00:00-24:00":
            fields["opening_hours"] = N_("Opening hours look like 06:00-22:00.")
    if data.community_code and not (data.community_code.isdigit()
                                    and len(data.community_code) == 12):
        fields["community_code"] = N_("A community code has 12 digits.")
    if fields:
        raise ValidationFailed(next(iter(fields.values())), fields=fields)
    return data


def get_by_code(*, session: Session, code: str) -> Site | None:
    """Get a site by its code."""
    return session.scalar(select(Site).where(Site.code == code))


def get_visible(*, session: Session, actor: Principal, code: str) -> Site:
    """Get a site the actor may see; others get 'not found'."""
    site = get_by_code(session=session, code=code)
    if site is None or not authz.can_view(actor, site):
        raise NotFound("No such site.")
    return site


def get_for_staff(*, session: Session, actor: Principal, code: str) -> Site:
    """Get an active site where the actor may register people."""
    return check_staff(actor, get_by_code(session=session, code=code))


def check_staff(actor: Principal, site: Site | None) -> Site:
    """Return the site if the actor may register people there now; raise otherwise."""
    if site is None or not authz.can_view(actor, site):
        raise NotFound("No such site.")
    if not authz.is_staff(actor, site):
        raise Forbidden("You are not on duty at this site.")
    if not site.active:
        raise ValidationFailed("This site is closed.")
    return site


def _visible(actor: Principal) -> Select[Site] | None:
    """The sites the actor is staff at or oversees (None: none at all)."""
    stmt = select(Site)
    codes = [b.scope_value for b in actor.bindings if b.scope_type == "site"]
    scopes = actor.area_scopes("site.view")
    if scopes is not None:
        conds: list[ColumnElement[bool]] = [Site.code.in_(codes)] if codes else []
        conds += [Site.area_code.startswith(p) for p in scopes]
        if not conds:
            return None
        stmt = stmt.where(or_(*conds))
    return stmt


def list_visible(*, session: Session, actor: Principal) -> list[Site]:
    """List the sites the actor is staff at or oversees, by code."""
    stmt = _visible(actor)
    if stmt is None:
        return []
    return [s for s in session.scalars(stmt.order_by(Site.code)) if authz.can_view(actor, s)]


def list_page(*, session: Session, actor: Principal, cursor: str | None,
              limit: int | None) -> tuple[list[Site], str | None]:
    """One page of list_visible, by code: a city's thousands of sites are not one answer."""
    stmt = _visible(actor)
    if stmt is None:
        return [], None
    rows: list[Site]
    rows, nxt = paginate_query(session, stmt, [Site.code], cursor=cursor, limit=limit)
    return [s for s in rows if authz.can_view(actor, s)], nxt


def save(*, session: Session, actor: Principal, data: SiteWrite) -> tuple[Site, bool]:
    """Create a site or update the one with the same code; return (site, created)."""
    check_write(data)
    area_service.validate_codes(session=session, codes=[data.area_code], field="area_code")
    if not actor.covers_area("site.manage", data.area_code):
        raise Forbidden("This area is outside your jurisdiction.")
    site = get_by_code(session=session, code=data.code)
    created = site is None
    if site is None:
        site = Site(code=data.code)
        session.add(site)
    elif not authz.can_manage(actor, site):
        raise NotFound("No such site.")
    before = _snapshot(site) if not created else {}
    for name, value in data.model_dump().items():
        setattr(site, name, value)
    session.flush()
    audit_service.record(session=session, actor=actor,
                         action="site.create" if created else "site.update",
                         resource_type="site", resource_id=site.code,
                         detail={"before": before, "after": _snapshot(site)} if not created
                         else {"after": _snapshot(site)})
    return site, created


def _snapshot(site: Site) -> dict[str, object]:
    return {"name": site.name, "kind": site.kind, "area_code": site.area_code,
            "lanes": list(site.lanes), "opening_hours": list(site.opening_hours),
            "fever_threshold": site.fever_threshold, "active": site.active}


def _row_to_write(row: SheetRow) -> SiteWrite:
    cells = dict(row.cells)
    kind = cells.get("kind", "")
    cells["kind"] = KIND_ALIASES.get(kind, kind)
    data: dict[str, object] = {k: v for k, v in cells.items() if v != ""}
    for name in ("lanes", "opening_hours"):
        if name in data:
            data[name] = [p.strip() for p in re.split(r"[;,，；、\s]+", str(data[name]))
                          if p.strip()]
    return SiteWrite.model_validate(data)


ROW_MESSAGES = {
    "code": N_("Site codes are letters, digits, - or _ (at most 32)."),
    "name": N_("The name is missing or too long."),
    "kind": N_("Unknown site type."),
    "area_code": N_("Unknown area code %(area)s."),
    "latitude": N_("Latitude must be between -90 and 90."),
    "longitude": N_("Longitude must be between -180 and 180."),
    "fever_threshold": N_("The fever threshold must be between 36.0 and 39.0 °C."),
}


@dataclass
class SiteImport:
    """What a site import did: the row report, and how many sites it created and updated."""

    result: ImportResult
    created: int
    updated: int


@dataclass
class _SiteRow:
    row: int
    code: str
    write: SiteWrite


def _check_row(row: SheetRow, actor: Principal, known_areas: set[str],
               problems: list[Problem]) -> _SiteRow | None:
    area = row.cells.get("area_code", "")
    try:
        write = check_write(_row_to_write(row))
    except ValidationError as exc:
        for column in dict.fromkeys(str(e["loc"][0]) for e in exc.errors() if e["loc"]):
            problems.append(Problem(row.number, column, ROW_MESSAGES.get(
                column, N_("This value is not valid.")), {"area": area}))
        return None
    except ValidationFailed as exc:
        problems += [Problem(row.number, column, message) for column, message
                     in exc.fields.items()]
        return None
    if write.area_code not in known_areas:
        problems.append(Problem(row.number, "area_code", ROW_MESSAGES["area_code"],
                                {"area": write.area_code}))
    elif not actor.covers_area("site.manage", write.area_code):
        problems.append(Problem(row.number, "area_code",
                                N_("This area is outside your jurisdiction.")))
    else:
        return _SiteRow(row.number, write.code, write)
    return None


def import_sites(*, session: Session, actor: Principal, data: bytes, filename: str,
                 apply_valid: bool) -> SiteImport:
    """Import sites from CSV/Excel; all or nothing unless apply_valid keeps the good rows."""
    known_areas: set[str] = set()

    def prepare(rows: list[SheetRow]) -> None:
        # The areas are looked up once for the whole sheet, before the rows are checked.
        known_areas.update(area_service.existing(
            session=session, codes=[r.cells["area_code"] for r in rows]))

    def match(rows: list[_SiteRow], problems: list[Problem]) -> Matched[_SiteRow]:
        # A code already taken by a site this official may not change is refused here,
        # so an all-or-nothing import never stops halfway through the writes.
        stored = {s.code: s for s in session.scalars(
            select(Site).where(Site.code.in_([r.code for r in rows])))} if rows else {}
        matched: Matched[_SiteRow] = Matched()
        for r in rows:
            if r.code in stored and not authz.can_manage(actor, stored[r.code]):
                problems.append(Problem(r.row, "code", N_(
                    "The code %(code)s belongs to a site you do not manage."), {"code": r.code}))
            else:
                matched.new.append(r)
        return matched

    counts = {"created": 0, "updated": 0}

    def write(matched: Matched[_SiteRow], result: ImportResult) -> int:
        for r in matched.new:
            _, was_created = save(session=session, actor=actor, data=r.write)
            counts["created" if was_created else "updated"] += 1
        audit_service.record(session=session, actor=actor, action="site.import",
                             resource_type="site",
                             detail={**counts, "refused": imports.refused_rows(result)})
        return len(matched.new)

    sheet = imports.Sheet(IMPORT_COLUMNS, ("code", "name", "kind", "area_code"),
                          lambda row, problems: _check_row(row, actor, known_areas, problems),
                          unique={"code": N_("The same site code is already on row %(row)s.")},
                          label="code", prepare=prepare)
    result = imports.run(sheet, data, filename, import_valid=apply_valid, match=match,
                         write=write)
    return SiteImport(result, **counts)


# --- devices and readings -------------------------------------------------------------------

def enrol_device(*, session: Session, actor: Principal, site: Site, name: str,
                 lane: str) -> tuple[Device, str]:
    """Enrol a device at a site lane; return it with its token (shown once)."""
    if not authz.can_manage(actor, site):
        raise NotFound("No such site.")
    if lane not in site.lanes:
        raise ValidationFailed("This site has no lane %(lane)s.", lane=lane)
    token = "ptd_" + new_token()
    device = Device(site_id=site.id, name=name, lane=lane, token_hash=token_digest(token))
    session.add(device)
    session.flush()
    audit_service.record(session=session, actor=actor, action="device.enrol",
                         resource_type="device", resource_id=device.id,
                         detail={"site": site.code, "lane": lane, "name": name})
    return device, token


def device_for_token(*, session: Session, token: str) -> Device | None:
    """Resolve a device token (only its hash is stored); None if unknown or revoked."""
    device = session.scalar(select(Device).where(Device.token_hash == token_digest(token)))
    if device is None or device.revoked_at is not None:
        return None
    return device


def record_reading(*, session: Session, device: Device, temperature: float, lane: str | None,
                   read_at: datetime | None) -> ThermalReading:
    """Store a scanner reading; the device may only post for its own site."""
    site = session.get(Site, device.site_id)
    assert site is not None
    lane = lane or device.lane
    if lane not in site.lanes:
        raise ValidationFailed("This site has no lane %(lane)s.", lane=lane)
    now = utcnow()
    if read_at is None or read_at.tzinfo is None or abs((read_at - now).total_seconds()) > 300:
        read_at = now  # a scanner with a wrong clock must not hide or fake a reading
    reading = ThermalReading(site_id=site.id, device_id=device.id, lane=lane,
                             temperature=round_temperature(temperature), read_at=read_at)
    device.last_seen_at = now
    session.add(reading)
    session.flush()
    return reading


def latest_reading(*, session: Session, site: Site, lane: str,
                   now: datetime | None = None) -> ThermalReading | None:
    """Return the newest reading at a lane from the last minute, if any."""
    now = now or utcnow()
    return session.scalar(
        select(ThermalReading)
        .where(ThermalReading.site_id == site.id, ThermalReading.lane == lane,
               ThermalReading.read_at >= now - timedelta(seconds=READING_FRESH_SECONDS))
        .order_by(ThermalReading.read_at.desc()).limit(1))



# --- staff on duty --------------------------------------------------------------------------

def staff_of(*, session: Session, site: Site) -> list[User]:
    """List the users bound as checkpoint staff to this site, by name then seniority."""
    stmt = (select(User).join(RoleBinding, RoleBinding.user_id == User.id)
            .where(RoleBinding.role == "checkpoint_staff", RoleBinding.scope_type == "site",
                   RoleBinding.scope_value == site.code)
            .order_by(User.display_name, User.created_at, User.id))
    return list(session.scalars(stmt).unique())


def assign_staff(*, session: Session, actor: Principal, site: Site, username: str) -> User:
    """Put a user on duty at the site (a checkpoint_staff binding scoped to it)."""
    if not authz.can_manage(actor, site):
        raise NotFound("No such site.")
    username = username.strip()
    if not username:
        raise ValidationFailed(STAFF_LOGIN_MISSING, fields={"username": STAFF_LOGIN_MISSING})
    user = account_service.get_by_username(session=session, username=username)
    if user is None or not user.is_active:
        # The manager typed the login name, so naming it back shows nothing new.
        raise NotFound(STAFF_LOGIN_UNKNOWN, fields={"username": STAFF_LOGIN_UNKNOWN},
                       username=username)
    account_service.grant(session=session, actor=actor, user=user, role="checkpoint_staff",
                          scope_type="site", scope_value=site.code)
    return user


def find_staff(*, session: Session, site: Site, member: str) -> User | None:
    """Find one of the site's staff by account id, or (older API clients) by login name."""
    staff = staff_of(session=session, site=site)
    try:
        user_id = uuid.UUID(member)
    except ValueError:
        user_id = None
    return (next((u for u in staff if u.id == user_id), None)
            or next((u for u in staff if u.username == member), None))


def remove_staff(*, session: Session, actor: Principal, site: Site,
                 user_id: uuid.UUID) -> None:
    """Take a user off duty at the site."""
    if not authz.can_manage(actor, site):
        raise NotFound("No such site.")
    user = session.get(User, user_id)
    binding = next((b for b in user.bindings if (b.role, b.scope_type, b.scope_value)
                    == ("checkpoint_staff", "site", site.code)), None) if user else None
    if user is None or binding is None:
        raise NotFound("This person is not on duty at this site.")
    user.bindings.remove(binding)
    session.flush()
    audit_service.record(session=session, actor=actor, action="user.revoke_role",
                         resource_type="user", resource_id=user.id,
                         detail={"role": "checkpoint_staff", "scope_type": "site",
                                 "scope_value": site.code})
