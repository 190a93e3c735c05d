"""The `feed` collection: everything that happened in an organization, in one order, to be
read from any point by systems that keep their place (`events(after:)`).

A feed event is a letter (`store.outbox`): it rides in the write of what it is about — so no
change goes without its event — and is copied to `feedOutbox`. From there one sequencer per
organization at a time, holding the organization's lease in `feedSequencers`, numbers each
and appends it to `feed`, in order. Numbers only grow and are appended one after another, so
a reader who has seen number n never later finds one below it: resuming after n misses
nothing and repeats nothing, across restarts and however many processes write.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar

from bson import ObjectId
from pymongo import DeleteOne
from pymongo.errors import BulkWriteError, DuplicateKeyError

from store.errors import boundary
from store.ids import oid
from store.windows import windowed

if TYPE_CHECKING:  # a type only: `store.indexes`, which `store.database` imports, imports this
    from store.database import Database

DUPLICATE_KEY = 11000
LEASE = timedelta(seconds=30)  # a sequencer that died is replaced after this
BATCH = 500


class FeedKind(StrEnum):
    CREDENTIAL_ASSIGNED = "CREDENTIAL_ASSIGNED"
    CREDENTIAL_COMPLETED = "CREDENTIAL_COMPLETED"
    CREDENTIAL_REVOKED = "CREDENTIAL_REVOKED"  # an earned cycle withdrawn
    CREDENTIAL_UNASSIGNED = "CREDENTIAL_UNASSIGNED"  # an open one withdrawn
    CREDENTIAL_VALIDITY_CHANGED = "CREDENTIAL_VALIDITY_CHANGED"  # as evidence came or went
    DUE_DATE_EXTENDED = "DUE_DATE_EXTENDED"
    EXEMPTED = "EXEMPTED"
    EXEMPTION_ENDED = "EXEMPTION_ENDED"
    OVERDUE = "OVERDUE"  # with time, no write: told by the reminders' scheduler …
    EXPIRED = "EXPIRED"  # … exactly once per cycle
    RECORD_SUBMITTED = "RECORD_SUBMITTED"
    RECORD_APPROVED = "RECORD_APPROVED"
    RECORD_DECLINED = "RECORD_DECLINED"
    RECORD_REVOKED = "RECORD_REVOKED"


@dataclass(frozen=True, slots=True)
class FeedEvent:
    """Something that happened to one subject (a cycle, a record) of one learner."""

    org_id: str
    kind: FeedKind
    at: datetime  # when it happened (the app's clock)
    subject_type: str
    learner_id: str
    subject_id: str = ""
    credential_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)  # dates, numbers: what else it says
    id: str = field(default_factory=lambda: str(ObjectId()))
    seq: int | None = None  # its place in the feed, once it has one
    box: ClassVar[str] = "feedOutbox"

    def about(self, subject_id: str) -> FeedEvent:
        return replace(self, subject_id=subject_id)

    def to_doc(self) -> dict[str, Any]:
        return {
            "_id": self.id,
            "orgId": oid(self.org_id),
            "kind": self.kind.value,
            "at": self.at,
            "subject": {"type": self.subject_type, "id": oid(self.subject_id)},
            "learnerId": oid(self.learner_id),
            "credentialId": oid(self.credential_id) if self.credential_id else None,
            "data": self.data,
            "queuedAt": datetime.now(UTC),  # the outbox's order: when it was written
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> FeedEvent:
        return cls(
            id=doc["_id"],
            org_id=str(doc["orgId"]),
            kind=FeedKind(doc["kind"]),
            at=doc["at"],
            subject_type=doc["subject"]["type"],
            subject_id=str(doc["subject"]["id"]),
            learner_id=str(doc["learnerId"]),
            credential_id=str(doc["credentialId"]) if doc.get("credentialId") else None,
            data=doc.get("data") or {},
            seq=doc.get("seq"),
        )


@boundary
async def queue(db: Database, *, events: Sequence[FeedEvent]) -> None:
    """Put events that no document carried (the scheduler's, each keyed by what it was
    claimed as) in the outbox, each once however often this is called."""
    if not events:
        return
    try:
        await db.db.feedOutbox.insert_many([e.to_doc() for e in events], ordered=False)
    except BulkWriteError as error:
        if any(e.get("code") != DUPLICATE_KEY for e in error.details["writeErrors"]):
            raise


@boundary
async def waiting_organizations(db: Database) -> list[str]:
    """The organizations whose outbox holds events not yet in their feed."""
    return [str(org) for org in await db.db.feedOutbox.distinct("orgId")]


@boundary
async def sequence(db: Database, *, org_id: str) -> int:
    """Append the organization's waiting events to its feed; how many. Another process already
    doing so is told there is more (it drains again before it lets go), and this one returns."""
    me = ObjectId()
    if not await _leased(db, org_id, me):
        await db.db.feedSequencers.update_one({"_id": oid(org_id)}, {"$set": {"dirty": True}})
        if not await _leased(db, org_id, me):  # it may have let go just before being told
            return 0
    appended, careful, last = 0, False, 0
    while True:
        cursor = db.db.feedOutbox.find({"orgId": oid(org_id)})
        waiting = sorted(
            await cursor.sort([("queuedAt", 1), ("_id", 1)]).to_list(BATCH), key=_in_order
        )
        if waiting:
            added, clean, last = await _append(db, org_id, waiting, careful=careful)
            appended, careful = appended + added, not clean
            if len(waiting) == BATCH or careful:
                await _leased(db, org_id, me)  # still ours: renewed, and read again
                continue
        # Anything queued since the read was queued by a writer that then told the holder (us)
        # there is more: letting go fails, and the outbox is read again.
        noted = {"$max": {"last": last}} if last else {}  # where the next numbering starts
        let_go = await db.db.feedSequencers.find_one_and_update(
            {"_id": oid(org_id), "holder": me, "dirty": False}, {"$set": {"holder": None}, **noted}
        )
        if let_go is not None:
            return appended
        told = await db.db.feedSequencers.find_one_and_update(  # told there is more: look again
            {"_id": oid(org_id), "holder": me}, {"$set": {"dirty": False}, **noted}
        )
        if told is None:  # too slow: another took the lease over, and drains
            return appended


def _in_order(doc: dict[str, Any]) -> tuple[Any, ...]:
    """Events waiting together go in the order they happened: by time; at one moment, an
    earlier cycle's before a later one's (a completion before the renewal it opens), and a
    cycle's assignment before anything else of it; then as written."""
    kind = doc["kind"]
    return (doc["at"], (doc.get("data") or {}).get("cycle", 0),
            kind != FeedKind.CREDENTIAL_ASSIGNED, doc["queuedAt"], doc["_id"])  # fmt: skip


async def _leased(db: Database, org_id: str, me: ObjectId) -> bool:
    """Whether `me` holds (now, or still, renewed) the organization's sequencer lease."""
    now = datetime.now(UTC)  # the wall clock: leases are between processes, not app time
    free = {"$or": [{"holder": None}, {"holder": me}, {"until": {"$lt": now}}]}
    try:
        await db.db.feedSequencers.update_one(
            {"_id": oid(org_id), **free},
            # the first lease of an organization: its feed is empty
            {
                "$set": {"holder": me, "until": now + LEASE, "dirty": False},
                "$setOnInsert": {"last": 0},
            },
            upsert=True,
        )
    except DuplicateKeyError:  # held by another: the upsert found no free lease to take
        return False
    return True


async def _append(
    db: Database, org_id: str, waiting: list[dict[str, Any]], *, careful: bool
) -> tuple[int, bool, int]:
    """Number the waiting events after the feed's last and append them in order; how many,
    whether all went in, and the feed's last number after them. One already there (a crash
    appended it, and died before taking it out of the outbox) or a number another sequencer
    took meanwhile ends the batch: the caller reads again, `careful` — then those already
    appended are only taken out of the outbox."""
    present: set[Any] = set()
    if careful:
        ids = [doc["_id"] for doc in waiting]
        present = {doc["_id"] async for doc in db.db.feed.find({"_id": {"$in": ids}}, {"_id": 1})}
    fresh = [doc for doc in waiting if doc["_id"] not in present]
    first = await last_seq(db, org_id=org_id) + 1
    numbered = [
        {**{k: v for k, v in doc.items() if k != "queuedAt"}, "seq": first + i}
        for i, doc in enumerate(fresh)
    ]
    appended = len(numbered)
    if numbered:
        try:
            await db.db.feed.insert_many(numbered, ordered=True)
        except BulkWriteError as error:
            if any(e.get("code") != DUPLICATE_KEY for e in error.details["writeErrors"]):
                raise
            appended = error.details["nInserted"]
    done = [*present, *(doc["_id"] for doc in numbered[:appended])]
    if done:  # one delete per event, by `_id`: a long `$in` costs the embedded database dearly
        await db.db.feedOutbox.bulk_write([DeleteOne({"_id": _id}) for _id in done], ordered=False)
    return appended, appended == len(numbered), first + appended - 1


@boundary
async def last_seq(db: Database, *, org_id: str) -> int:
    """The number of the organization's latest event (0: none yet): the last its sequencer
    noted when it let go, and any appended since (a sequencer at work, or one that died before
    noting them). The newest of the feed found by sorting would read every event of it on the
    embedded database, which sorts in memory whatever the index."""
    sequencer = await db.db.feedSequencers.find_one({"_id": oid(org_id)}, {"last": 1})
    if sequencer is None:
        return 0  # nothing was ever appended
    noted = sequencer.get("last")
    if noted is None:  # a feed from before the sequencer noted it: found once, the slow way
        newest = await db.db.feed.find_one(
            {"orgId": oid(org_id)}, {"seq": 1}, sort=[("orgId", 1), ("seq", -1)]
        )
        return (newest or {}).get("seq", 0)
    since = await db.db.feed.count_documents({"orgId": oid(org_id), "seq": {"$gt": noted}})
    return noted + since


@boundary
async def page(
    db: Database,
    *,
    org_id: str,
    after: int,
    kinds: Sequence[FeedKind] | None,
    limit: int,
    end: int,
) -> list[FeedEvent]:
    """The organization's events numbered after `after` (up to `end`, the last), in order:
    numbers follow one another without gaps, so the page is read by windows of numbers
    (`store.windows`); kinds are kept here, since with a condition on `kind` the embedded
    database reads the organization's whole feed."""
    wanted = {k.value for k in kinds} if kinds else None
    found = await windowed(
        db.db.feed, {"orgId": oid(org_id)}, "seq", after=after, limit=limit, end=end,
        keep=None if wanted is None else lambda doc: doc["kind"] in wanted,
    )  # fmt: skip
    return [FeedEvent.from_doc(doc) for doc in found]


@boundary
async def count(db: Database, *, org_id: str, after: int, kinds: Sequence[FeedKind]) -> int:
    """How many events of these kinds follow `after`, by reading them (of every kind, it is
    the last number less `after`: `resolvers.feed`)."""
    return await db.db.feed.count_documents(_query(org_id, after, kinds))


def _query(org_id: str, after: int, kinds: Sequence[FeedKind] | None) -> dict[str, Any]:
    query: dict[str, Any] = {"orgId": oid(org_id), "seq": {"$gt": after}}
    if kinds:
        query["kind"] = {"$in": [k.value for k in kinds]}
    return query
