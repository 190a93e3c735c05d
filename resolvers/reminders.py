"""Reminders: a learner (and their managers) told, once per cycle and moment, that a
credential falls due soon or is overdue, or that its validity ends soon or has ended.

A scheduler inside every server process (`run`) looks every `CREDGRAPH_REMINDER_EVERY` for
the reminder each current cycle is due, judged now: the nearest offset before the due date
whose moment has passed (or OVERDUE once it has), and after completion the same before
validUntil (EXPIRING_SOON, then EXPIRED). Only that one is sent: after downtime a learner
gets the reminder that fits now, not every one the server missed. A reminder is claimed by
its key in the database (`store.reminders`), so any number of processes send it once, and a
crash before delivery is finished at the next start (`redeliver`).

A credential document (a licence) is reminded of the same way before its end date
(DOCUMENT_EXPIRING, at the offsets before expiry of the credential it was submitted for),
unless a later document of its kind and label replaces it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from resolvers import writes
from resolvers.clock import Clock
from resolvers.errors import Code, invalid
from resolvers.evidence import record_cap
from resolvers.listing import is_current
from resolvers.periods import Period, PeriodUnit
from store import (
    credentials,
    feed,
    groups,
    notifications,
    organizations,
    records,
    reminders,
    scopes,
    users,
)
from store.assignments import Assignment
from store.database import Database
from store.errors import StoreError
from store.feed import FeedEvent, FeedKind
from store.notifications import Keyed, NotificationKind, SubjectType
from store.records import Record
from store.reminders import Claim
from store.users import Role

log = logging.getLogger("credgraph.reminders")

BEFORE_DUE = (Period(30, PeriodUnit.DAY), Period(7, PeriodUnit.DAY))
BEFORE_EXPIRY = (Period(60, PeriodUnit.DAY), Period(30, PeriodUnit.DAY), Period(7, PeriodUnit.DAY))
MAX_OFFSETS = 5
LONGEST = timedelta(days=366)  # an offset further ahead than a year reminds of nothing useful
ANCHOR = datetime(2000, 1, 1)  # where calendar offsets are measured and ordered


@dataclass(frozen=True, slots=True)
class Schedule:
    """A credential's offsets before the due date and before validUntil."""

    before_due: tuple[Period, ...] = BEFORE_DUE
    before_expiry: tuple[Period, ...] = BEFORE_EXPIRY

    @classmethod
    def from_doc(cls, doc: dict[str, list[dict[str, object]]] | None) -> Schedule:
        if not doc:
            return cls()
        return cls(
            tuple(p for p in map(Period.from_doc, doc.get("beforeDue", ())) if p),
            tuple(p for p in map(Period.from_doc, doc.get("beforeExpiry", ())) if p),
        )

    def to_doc(self) -> dict[str, list[dict[str, object]]]:
        return {
            "beforeDue": [p.to_doc() for p in self.before_due],
            "beforeExpiry": [p.to_doc() for p in self.before_expiry],
        }


def validated(before_due: list[Period], before_expiry: list[Period]) -> Schedule:
    for offsets, field in (
        (before_due, "reminders.beforeDue"),
        (before_expiry, "reminders.beforeExpiry"),
    ):
        if len(offsets) > MAX_OFFSETS:
            raise invalid(Code.TOO_MANY, f"at most {MAX_OFFSETS} reminders", field)
        if any(ANCHOR - p.before(ANCHOR) > LONGEST for p in offsets):
            raise invalid(Code.OUT_OF_RANGE, "a reminder comes at most a year ahead", field)
    return Schedule(_distinct(before_due), _distinct(before_expiry))


def _distinct(offsets: list[Period]) -> tuple[Period, ...]:
    return tuple(sorted(set(offsets), key=lambda p: p.before(ANCHOR)))  # furthest ahead first


@dataclass(frozen=True, slots=True)
class Reminder:
    kind: NotificationKind
    offset: Period | None  # None: the moment itself (OVERDUE, EXPIRED)
    at: datetime  # when it fell due

    def key(self, cycle: Assignment) -> str:
        """The cycle, kind, offset and moment: a due date extended (or a validity moved) is a
        new moment, reminded of again."""
        offset = self.offset.iso8601 if self.offset else ""
        return f"{cycle.id}:{self.kind.value}:{offset}:{self.at.isoformat()}"


def due(cycle: Assignment, schedule: Schedule, now: datetime) -> Reminder | None:
    """The one reminder the cycle is due at `now`, if any: the latest moment passed (none for
    a revoked cycle: there is nothing left to renew or lose)."""
    if not is_current(cycle, now) or any(e.covers(now) for e in cycle.exemptions):
        return None
    if cycle.revocation is not None and cycle.revocation.at <= now:
        return None
    if cycle.completed_at is None or cycle.completed_at > now:
        if now < cycle.start_date:
            return None
        return _latest(
            cycle.due_date,
            schedule.before_due,
            now,
            NotificationKind.DUE_SOON,
            NotificationKind.OVERDUE,
        )
    if cycle.valid_until is None:
        return None
    return _latest(
        cycle.valid_until,
        schedule.before_expiry,
        now,
        NotificationKind.EXPIRING_SOON,
        NotificationKind.EXPIRED,
    )


def _latest(
    end: datetime,
    offsets: tuple[Period, ...],
    now: datetime,
    soon: NotificationKind,
    passed: NotificationKind,
) -> Reminder | None:
    if end <= now:
        return Reminder(passed, None, end)
    passed_offsets = [(p.before(end), p) for p in offsets if p.before(end) <= now]
    if not passed_offsets:
        return None
    at, offset = max(passed_offsets, key=lambda pair: pair[0])
    return Reminder(soon, offset, at)


class Sender:
    """Sends the reminders due; remembers per organization which it has seen claimed, so a
    tick costs a read of the organization's cycles and nothing more when nothing is due."""

    def __init__(self) -> None:
        self.claimed: dict[str, set[str]] = {}

    async def tick(self, db: Database, *, now: datetime) -> int:
        """Every organization's due reminders, sent; how many."""
        sent = 0
        for org in await organizations.all_ids(db):
            sent += await self._organization(db, org, now)
        return sent

    async def _organization(self, db: Database, org_id: str, now: datetime) -> int:
        cycles = await scopes.of_organization(db, org_id=org_id)
        documents = await records.documents_ending(db, org_id=org_id, after=now.date())
        if not cycles and not documents:
            return 0
        if org_id not in self.claimed:
            self.claimed[org_id] = await reminders.claimed_keys(db, org_id=org_id)
        seen = self.claimed[org_id]
        away = await users.deactivated_ids(db, org_id=org_id)
        schedules = {
            c.id: Schedule.from_doc(c.reminders)
            for c in await credentials.get_many(
                db,
                org_id=org_id,
                ids=sorted(
                    {c.credential_id for c in cycles}
                    | {d.credential_id for d in documents if d.credential_id}
                ),
            )
        }
        wanted: list[Claim] = []
        for cycle in cycles:
            if cycle.learner_id in away or cycle.credential_id not in schedules:
                continue
            reminder = due(cycle, schedules[cycle.credential_id], now)
            if reminder is None or (key := reminder.key(cycle)) in seen:
                continue
            wanted.append(
                Claim(
                    key,
                    org_id,
                    SubjectType.CREDENTIAL_ASSIGNMENT,
                    cycle.id,
                    cycle.learner_id,
                    reminder.kind.value,
                    reminder.at,
                )
            )
        wanted += _documents(documents, org_id, schedules, away, seen, now)
        if not wanted:
            return 0
        ours = await reminders.claim(db, claims=wanted, now=now)
        seen.update(c.key for c in wanted)  # claimed, by this process or another
        await deliver(db, ours, now=now)
        return len(ours)


async def deliver(db: Database, claims: list[Claim], *, now: datetime) -> None:
    """Write each claim's notifications (the learner's and their managers'), then mark it
    delivered: exactly once per recipient, however often a claim is delivered."""
    by_org: dict[str, list[Claim]] = defaultdict(list)
    for claim in claims:
        by_org[claim.org_id].append(claim)
    for org_id, theirs in by_org.items():
        managers = await _managers(db, org_id, {c.learner_id for c in theirs})
        keyed = [
            Keyed(
                user,
                NotificationKind(claim.kind),
                SubjectType(claim.subject_type),
                claim.subject_id,
                f"{claim.key}:{user}",
            )
            for claim in theirs
            for user in (claim.learner_id, *managers.get(claim.learner_id, ()))
        ]
        await notifications.notify_once(db, org_id=org_id, keyed=keyed, now=now)
        await feed.queue(db, events=[e for c in theirs if (e := _fed(c))])
        await reminders.delivered(db, keys=[c.key for c in theirs])
    await writes.sequenced(db, by_org)


def _fed(claim: Claim) -> FeedEvent | None:
    """The feed's event for a cycle's state that came with time (overdue, expired), keyed by
    its claim so that delivering it again adds nothing; None for the other reminders."""
    kind = TOLD.get(claim.kind)
    if kind is None:
        return None
    return FeedEvent(
        claim.org_id, kind, claim.due_at, claim.subject_type, claim.learner_id,
        claim.subject_id, id=f"reminder:{claim.key}",
    )  # fmt: skip


TOLD = {
    NotificationKind.OVERDUE.value: FeedKind.OVERDUE,
    NotificationKind.EXPIRED.value: FeedKind.EXPIRED,
}


def _documents(
    found: list[Record],
    org_id: str,
    schedules: dict[str, Schedule],
    away: set[str],
    seen: set[str],
    now: datetime,
) -> list[Claim]:
    """Those of the organization's documents due a reminder of their end date."""
    latest: dict[tuple[str, str | None], datetime] = {}
    for record in found:
        cap = record_cap(record)
        assert cap is not None
        kind = (record.learner_id, record.label_id)
        latest[kind] = max(latest.get(kind, cap), cap)
    wanted = []
    for record in found:
        cap = record_cap(record)
        assert cap is not None
        if record.learner_id in away or latest[(record.learner_id, record.label_id)] > cap:
            continue  # a later document of its kind replaces it
        schedule = schedules.get(record.credential_id or "", Schedule())
        expiring = NotificationKind.DOCUMENT_EXPIRING
        reminder = _latest(cap, schedule.before_expiry, now, expiring, expiring)
        if reminder is None or reminder.offset is None:
            continue  # lapsed: the credential's own EXPIRED tells of that
        key = (
            f"{record.id}:{reminder.kind.value}:{reminder.offset.iso8601}:{reminder.at.isoformat()}"
        )
        if key not in seen:
            wanted.append(
                Claim(
                    key,
                    org_id,
                    SubjectType.TRAINING_RECORD,
                    record.id,
                    record.learner_id,
                    reminder.kind.value,
                    reminder.at,
                )
            )
    return wanted


async def _managers(db: Database, org_id: str, learners: set[str]) -> dict[str, list[str]]:
    """Each learner's active managers (of the groups they are in)."""
    found: dict[str, set[str]] = defaultdict(set)
    for group in await groups.of_members(db, org_id=org_id, member_ids=sorted(learners)):
        for learner in learners.intersection(group.member_ids):
            found[learner].update(m for m in group.manager_ids if m != learner)
    named = sorted({m for ms in found.values() for m in ms})
    active = {
        u.id
        for u in await users.get_many(db, org_id=org_id, ids=named)
        if u.role is Role.MANAGER and u.disabled_at is None
    }
    return {learner: sorted(ms & active) for learner, ms in found.items()}


async def redeliver(db: Database, *, now: datetime) -> int:
    """Deliver what a crash left claimed but undelivered; how many."""
    waiting = await reminders.pending(db)
    await deliver(db, waiting, now=now)
    return len(waiting)


async def run(db: Database, clock: Clock, *, every: float) -> None:
    """The scheduler: a tick now (catching up on downtime), then every `every` seconds."""
    sender = Sender()
    while True:
        try:
            await redeliver(db, now=clock.now())
            sent = await sender.tick(db, now=clock.now())
        except StoreError as error:
            log.warning("reminders: %s", error)
        else:
            if sent:
                log.info("reminders: %d sent", sent)
        await asyncio.sleep(every)
