"""An organization's cycles — what its dashboards' lists, counts and summaries are computed
from (`resolvers.listing`) — from a process's copy of them, kept current by reading only what
changed.

Every write makes the next poll compute again. Reading all of them each time made every write
cost a scan — about 240 ms for 9,000 cycles on the embedded database, most of it the database's
own work per document, so no projection helps. Instead every write to a cycle stamps it with the
wall clock (`changedAt`, indexed with the organization; `store.assignments`) and a read here
fetches only the cycles stamped since a while before the previous read, merged by revision
(`rev` only grows; cycles are never deleted).

Why "a while before": a write's stamp is taken before its commit, so a read may miss a write
that commits after it with an earlier stamp. Every operation is bounded by the database timeout
(`CREDGRAPH_DB_TIMEOUT`), so re-reading `SLACK` — a minute, and ten timeouts if that is longer —
catches every such write, and clocks of servers sharing a database may disagree by most of that
without harm. An organization not read for `STALE` is read whole again, and so is one read for
the first time.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from weakref import WeakKeyDictionary

from store.assignments import Assignment
from store.database import Database
from store.errors import boundary
from store.ids import oid

WHOLE_SCOPE = 1_000_000  # all of them wanted: as many as fit a reply (16 MiB) come in the first
SLACK = timedelta(minutes=1)  # at least; ten database timeouts when that is longer
STALE = timedelta(minutes=10)
MAX_CYCLES = 500_000  # held across organizations; past it the least recently read go


@dataclass(slots=True)
class _Copy:
    cycles: dict[str, Assignment]
    read_at: datetime  # when the last read was sent, by this process's clock


class Mirror:
    """Each organization's cycles, most recently read kept."""

    def __init__(self, *, slack: timedelta) -> None:
        self.slack = slack
        self.copies: OrderedDict[str, _Copy] = OrderedDict()

    async def cycles(self, db: Database, org_id: str) -> list[Assignment]:
        """Every cycle of the organization, as current as a read of them all."""
        sent = datetime.now(UTC)
        copy = self.copies.get(org_id)
        if copy is None or sent - copy.read_at > STALE:
            copy = _Copy({c.id: c for c in await _read(db, {"orgId": oid(org_id)})}, sent)
            self.copies[org_id] = copy
        else:
            since = copy.read_at - self.slack
            for cycle in await _read(db, {"orgId": oid(org_id), "changedAt": {"$gte": since}}):
                held = copy.cycles.get(cycle.id)
                if held is None or cycle.rev > held.rev:  # an unchanged cycle keeps its object
                    copy.cycles[cycle.id] = cycle
            copy.read_at = max(copy.read_at, sent)
        self.copies.move_to_end(org_id)
        self._bound()
        return list(copy.cycles.values())

    def _bound(self) -> None:
        held = sum(len(copy.cycles) for copy in self.copies.values())
        while held > MAX_CYCLES and len(self.copies) > 1:
            _, dropped = self.copies.popitem(last=False)
            held -= len(dropped.cycles)


async def _read(db: Database, query: dict[str, Any]) -> list[Assignment]:
    found = db.db.assignments.find(query, batch_size=WHOLE_SCOPE)
    return [Assignment.from_doc(doc) async for doc in found]


_mirrors: WeakKeyDictionary[Database, Mirror] = WeakKeyDictionary()


def _mirror(db: Database) -> Mirror:
    mirror = _mirrors.get(db)
    if mirror is None:
        slack = max(SLACK, timedelta(seconds=10 * db.timeout))
        mirror = _mirrors[db] = Mirror(slack=slack)
    return mirror


@boundary
async def of_organization(db: Database, *, org_id: str) -> list[Assignment]:
    """Every cycle of the organization, as current as a read of them all."""
    return await _mirror(db).cycles(db, org_id)
