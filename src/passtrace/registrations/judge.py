"""Judge an uploaded batch again: the server decides each offline row from the facts.

A device decides offline with what it has (the trust list it last downloaded, its own
record of who went in) and cannot know the rest. At upload the server does not take
its word: each scanned pass text is verified again (once per distinct text in the
batch, with the cached trust store), the pass's revocation state, its holder and the
holder's status are read for the whole batch in one query, typed ID numbers are looked
up (one query for the people, one for their passes), and `rules.decide.decide` -- the
policy the online path applies -- decides each row as of the moment it happened. The
device's decision is kept beside the server's; where they differ the row carries an
alert kind (rules.offline). The masked name and ID tail stored are the server's own.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from passtrace.codec import PassClaims, PassRejected
from passtrace.core.runtime import Runtime
from passtrace.passes.models import Pass
from passtrace.people.models import Person
from passtrace.registrations import service, verified
from passtrace.registrations.site_kinds import provider_for
from passtrace.rules.decide import (
    CODEC_REASONS,
    Facts,
    GateFacts,
    PassFacts,
    decide,
    pass_covers_site,
)
from passtrace.rules.offline import disagreement, server_verdict
from passtrace.rules.temperature import tenths
from passtrace.sites.models import Site

CHUNK = 1000  # ids per IN (...) list
# What a device may say of a scan that did not verify on it.
_SCAN_REASONS = frozenset(CODEC_REASONS.values()) | {"not_a_pass"}


@dataclass(frozen=True)
class _PassRow:
    """A pass as the server knows it, and its holder (what pick_best_pass and decide read)."""

    id: uuid.UUID
    valid_from: Any
    valid_until: Any
    areas: tuple[str, ...]
    sites: tuple[str, ...]
    status: str
    person_id: uuid.UUID
    person_hash: str
    name_masked: str
    last4: str
    person_status: str


def _chunks(items: list[Any], size: int = CHUNK) -> Iterable[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


_PASS_COLUMNS = (Pass.id, Pass.valid_from, Pass.valid_until, Pass.areas, Pass.sites,
                 Pass.status, Person.id, Person.id_hash, Person.name_masked,
                 Person.id_masked, Person.status)


def _pass_row(values: Any) -> _PassRow:
    pid, vf, vu, areas, sites, status, person_id, digest, name, masked, person_status = values
    return _PassRow(id=pid, valid_from=vf, valid_until=vu, areas=tuple(areas or ()),
                    sites=tuple(sites or ()), status=status, person_id=person_id,
                    person_hash=digest,
                    name_masked=name, last4=masked[-4:], person_status=person_status)


@dataclass(frozen=True)
class _Verified:
    """A pass text whose signature verified: its claims and its pass id, parsed once."""

    pass_id: uuid.UUID
    claims: PassClaims


def _verify(tokens: set[str], trust: Any) -> dict[str, _Verified | str]:
    """Each distinct pass text once: its claims, or the reason code it is refused.

    A text seen in an earlier batch (or scan) with this trust store is not verified
    again (registrations/verified.py); its revocation is still read per batch.
    """
    answers: dict[str, _Verified | str] = {}
    for token in tokens:
        try:
            claims = verified.verify(token, trust)[0]
        except PassRejected as exc:
            answers[token] = CODEC_REASONS.get(exc.reason, "not_a_pass")
        else:
            answers[token] = _Verified(pass_id=uuid.UUID(claims.pass_id), claims=claims)
    return answers



def judge(*, session: Session, rt: Runtime, site: Site,
          rows: list[Any]) -> dict[str, uuid.UUID]:
    """Decide every parsed row again and fill its stored values (in place).

    Each row's values get the server's decision and reasons, the device's kept in
    device_decision / device_reasons, the disagreement kind (or None), pass_id,
    person_hash, person_masked and id_last4 as the server knows them.

    Returns the persons the rows name that have a record, by hash: a row's hash is a
    pass holder's or a typed number's, both read here, so the caller's access-log
    entries need no lookup of their own.
    """
    tokens = {r.token for r in rows if r.token is not None}
    trust = service.cached_trust_store(rt) or service.load_trust_store(session, rt) \
        if tokens else None
    by_text = _verify(tokens, trust) if tokens else {}
    # Which pass each row is about: the verified text's own id, never the id the
    # device wrote beside it; a row without its text names a pass the server judges
    # from its own records.
    # Passes are keyed by their ids' integers here: hashing a uuid.UUID runs in Python
    # (a µs a row, several times a row), an int's in C.
    wanted: dict[int, uuid.UUID] = {}
    for r in rows:
        v = r.values
        if r.token is not None:
            found = by_text[r.token]
            v["pass_id"] = found.pass_id if found.__class__ is _Verified else None
        if v["pass_id"] is not None:
            wanted[v["pass_id"].int] = v["pass_id"]
    by_pass: dict[int, _PassRow] = {}
    for chunk in _chunks(list(wanted.values())):
        stmt = select(*_PASS_COLUMNS).join(Person, Pass.person_id == Person.id).where(
            Pass.id.in_(chunk))
        for values in session.execute(stmt):
            by_pass[values[0].int] = _pass_row(values)
    # One keyed hash per distinct number: a batch types the same few hundred thousands
    # of times, and each HMAC costs microseconds.
    hashes = {n: rt.vault.lookup_hash(n) for n in {r.id_number for r in rows} if n is not None}
    people: dict[str, tuple[uuid.UUID, str, str, str]] = {}
    for chunk in _chunks(list(set(hashes.values()))):
        by_hash = select(Person.id_hash, Person.id, Person.name_masked, Person.id_masked,
                         Person.status).where(Person.id_hash.in_(chunk))
        for digest, pid, name, masked, status in session.execute(by_hash):
            people[digest] = (pid, name, masked[-4:], status)
    # A typed ID number's passes: approved and not expired before the batch's first row.
    passes_of: dict[str, list[_PassRow]] = defaultdict(list)
    if people:
        earliest = min(r.values["occurred_at"] for r in rows)
        for chunk in _chunks([p[0] for p in people.values()]):
            stmt = (select(*_PASS_COLUMNS).join(Person, Pass.person_id == Person.id)
                    .where(Pass.person_id.in_(chunk), Pass.status == "approved",
                           Pass.valid_until > earliest)
                    .order_by(Pass.valid_until.desc()))
            for values in session.execute(stmt):
                row = _pass_row(values)
                passes_of[row.person_hash].append(row)
    kind = provider_for(site)
    residents: set[str] = set()
    visits: set[uuid.UUID] = set()
    if kind is not None:
        residents, visits = kind.offline_facts(
            session, site, person_hashes={p.person_hash for p in by_pass.values()}
            | set(people), pass_ids={p.id for p in by_pass.values()})
    rules = service.site_rules(site)
    batch = _Batch(fever=tenths(rules.fever_threshold), rules=rules, verified=by_text,
                   by_pass=by_pass, hashes=hashes, people=people, passes_of=passes_of,
                   gate=kind is not None, residents=residents, visits=visits)
    for r in rows:
        _judge_row(r, batch)
    known = {h: p[0] for h, p in people.items()}
    for row in (*by_pass.values(), *(r for found in passes_of.values() for r in found)):
        known[row.person_hash] = row.person_id
    return known


@dataclass
class _Batch:
    """What one batch's rows are judged with, and the outcomes already decided in it."""

    fever: int  # the site's threshold in tenths
    rules: Any  # the site's SiteRules
    verified: dict[str, _Verified | str]
    by_pass: dict[int, _PassRow]  # by the pass id's integer
    hashes: dict[str, str]
    people: dict[str, tuple[uuid.UUID, str, str, str]]
    passes_of: dict[str, list[_PassRow]]
    gate: bool
    residents: set[str]
    visits: set[uuid.UUID]
    # The rules' reasons by the facts that decide them (_judge_row's key).
    outcomes: dict[tuple[Any, ...], list[str]] = field(default_factory=dict)
    # The stored verdict (decision, reasons, disagreement) by those facts and what the
    # device said: thousands of rows share a few hundred of them.
    verdicts: dict[tuple[Any, ...], tuple[str, list[str], str | None]] = field(
        default_factory=dict)
    covers: dict[uuid.UUID, bool] = field(default_factory=dict)  # pass id -> good here
    hot: dict[float, bool] = field(default_factory=dict)  # temperature -> at the threshold


def _best_pass(passes: Iterable[_PassRow], when: Any, batch: _Batch) -> _PassRow | None:
    """service.pick_best_pass as of `when`, with each pass's site check made once a batch."""
    first = None
    for p in passes:  # latest expiry first
        if p.valid_until <= when:
            continue
        if first is None:
            first = p
        if p.valid_from <= when:
            covers = batch.covers.get(p.id)
            if covers is None:
                covers = batch.covers[p.id] = pass_covers_site(PassFacts(
                    valid_from=p.valid_from, valid_until=p.valid_until, areas=p.areas,
                    sites=p.sites, status=p.status), batch.rules) is None
            if covers:
                return p
    return first


def _judge_row(r: Any, batch: _Batch) -> None:
    v = r.values
    when = v["occurred_at"]
    device_decision, device_reasons = v["decision"], v["reasons"]
    pass_rejected: str | None = None
    pass_row: _PassRow | None = None
    person_hash, holder, last4, status, known = None, "", "", None, False
    verified = batch.verified
    if r.token is not None and verified[r.token].__class__ is not _Verified:
        pass_rejected = verified[r.token]  # type: ignore[assignment]
    elif v["pass_id"] is not None:
        pass_row = batch.by_pass.get(v["pass_id"].int)
        if pass_row is None:
            # Validly signed (or merely named) yet never issued here: as online, denied.
            pass_rejected = "not_a_pass"
            found = verified.get(r.token) if r.token is not None else None
            if isinstance(found, _Verified):
                holder, last4 = found.claims.holder, found.claims.id_last4
    elif r.id_number is not None:
        person_hash = batch.hashes[r.id_number]
        last4 = r.id_number[-4:]
        person = batch.people.get(person_hash)
        if person is not None:
            known, holder, last4, status = True, person[1], person[2], person[3]
            pass_row = _best_pass(batch.passes_of.get(person_hash, ()), when, batch)
    else:
        # A refused scan uploaded without its text: nothing to verify again, so the
        # device's own reading of it stands (it was a denial either way).
        pass_rejected = next((c for c in device_reasons if c in _SCAN_REASONS), "not_a_pass")
    if pass_row is not None:
        person_hash, holder, last4 = pass_row.person_hash, pass_row.name_masked, pass_row.last4
        status, known = pass_row.person_status, True
    v["pass_id"] = pass_row.id if pass_row is not None else None
    gate = batch.gate
    resident = gate and person_hash in batch.residents
    visitor = gate and pass_row is not None and pass_row.id in batch.visits
    inside = "already_inside" in device_reasons  # the device's own record of who went in
    # The outcome is a function of these facts alone; thousands of rows share a few
    # hundred of them, and building the facts and deciding costs tens of µs a row. The
    # time enters as where it falls in the pass's window and, if the site keeps hours,
    # the minute (opening hours are whole minutes).
    temperature = v["temperature"]
    hot = None
    if temperature is not None:
        hot = batch.hot.get(temperature)
        if hot is None:
            hot = batch.hot[temperature] = tenths(temperature) >= batch.fever
    rules = batch.rules
    key = (pass_row.id.int if pass_row is not None else None, pass_rejected, known, status,
           v["direction"], inside, resident, visitor, hot,
           pass_row is not None and when >= pass_row.valid_until,
           pass_row is not None and when < pass_row.valid_from,
           int(when.timestamp()) // 60 if rules.opening_hours else None)
    overridden = bool(v["override_reason"])
    # What the device said enters the stored verdict (server_verdict, disagreement).
    said = (*key, device_decision, tuple(device_reasons) if device_reasons else (), overridden)
    verdict = batch.verdicts.get(said)
    if verdict is None:
        reasons = batch.outcomes.get(key)
        if reasons is None:
            outcome = decide(Facts(
                site=rules, now=when, direction=v["direction"], temperature=temperature,
                pass_facts=PassFacts(valid_from=pass_row.valid_from,
                                     valid_until=pass_row.valid_until, areas=pass_row.areas,
                                     sites=pass_row.sites, status=pass_row.status)
                if pass_row is not None else None,
                pass_rejected=pass_rejected, person_known=known, person_status=status,
                inside=inside, community=GateFacts(resident=resident, visitor=visitor)
                if gate else None))
            reasons = batch.outcomes[key] = outcome.reasons
        decision = server_verdict(reasons=reasons, device_reasons=device_reasons,
                                  overridden=overridden)
        verdict = batch.verdicts[said] = (decision, reasons, disagreement(
            device_decision=device_decision, device_reasons=device_reasons,
            decision=decision))
    v["decision"], v["reasons"], v["disagreement"] = verdict[0], list(verdict[1]), verdict[2]
    v["device_decision"], v["device_reasons"] = device_decision, device_reasons
    v["person_hash"], v["person_masked"], v["id_last4"] = person_hash, holder, last4
