"""Status in MongoDB: the query and the aggregation expression mirroring `Timeline.status`,
and the dashboard summary they make possible without loading assignments into Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from store.database import Database
from store.errors import boundary
from store.ids import oid

STATUSES = ("NOT_YET_AVAILABLE", "NOT_STARTED", "IN_PROGRESS", "COMPLETED", "OVERDUE", "EXPIRED")


def status_filter(status: str, as_of: datetime) -> dict[str, Any]:
    """The query for assignments in `status` at `as_of`."""
    done = {"completedAt": {"$lte": as_of}}
    open_ = {"$or": [{"completedAt": None}, {"completedAt": {"$gt": as_of}}]}
    available = {"startDate": {"$lte": as_of}}
    filters: dict[str, list[dict[str, Any]]] = {
        "COMPLETED": [done, {"$or": [{"validUntil": None}, {"validUntil": {"$gt": as_of}}]}],
        "EXPIRED": [done, {"validUntil": {"$lte": as_of}}],
        "NOT_YET_AVAILABLE": [open_, {"startDate": {"$gt": as_of}}],
        "OVERDUE": [open_, available, {"dueDate": {"$lte": as_of}}],
        "IN_PROGRESS": [
            open_,
            available,
            {"dueDate": {"$gt": as_of}},
            {"startedAt": {"$lte": as_of}},
        ],
        "NOT_STARTED": [
            open_,
            available,
            {"dueDate": {"$gt": as_of}},
            {"$or": [{"startedAt": None}, {"startedAt": {"$gt": as_of}}]},
        ],
    }
    return {"$and": filters[status]}


def current_filter(as_of: datetime) -> list[dict[str, Any]]:
    """The cycle of its learner and credential that is current at `as_of`: the latest that has
    started by then, else the first (cycles of a chain start in order)."""
    return [
        {"$or": [{"previousId": None}, {"startDate": {"$lte": as_of}}]},
        {"$or": [{"next": None}, {"next.start": {"$gt": as_of}}]},
    ]


def _present(field: str) -> dict[str, Any]:
    return {"$ne": [{"$ifNull": [field, None]}, None]}


def _by(field: str, as_of: datetime) -> dict[str, Any]:
    """The field is set and not after `as_of` (in expressions, null would sort before dates)."""
    return {"$and": [_present(field), {"$lte": [field, as_of]}]}


def status_expression(as_of: datetime) -> dict[str, Any]:
    """The status at `as_of` as an aggregation expression."""
    done = _by("$completedAt", as_of)
    return {
        "$switch": {
            "branches": [
                {"case": {"$and": [done, _by("$validUntil", as_of)]}, "then": "EXPIRED"},
                {"case": done, "then": "COMPLETED"},
                {"case": {"$gt": ["$startDate", as_of]}, "then": "NOT_YET_AVAILABLE"},
                {"case": {"$lte": ["$dueDate", as_of]}, "then": "OVERDUE"},
                {"case": _by("$startedAt", as_of), "then": "IN_PROGRESS"},
            ],
            "default": "NOT_STARTED",
        }
    }


@dataclass(frozen=True, slots=True)
class Summary:
    by_status: dict[str, int]
    expiring_soon: int
    due_soon: int
    pending_records: int

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


@boundary
async def summary(
    db: Database, *, org_id: str, credential_id: str | None, as_of: datetime, horizon: datetime
) -> Summary:
    """Counts per status at `as_of`, and what lapses or falls due before `horizon`, of people:
    one cycle per learner and credential, the one current at `as_of`.

    One aggregation over the assignments (the database does the counting) and one count of
    the records waiting for review.
    """
    scope: dict[str, Any] = {"orgId": oid(org_id)}
    if credential_id is not None:
        scope["credentialId"] = oid(credential_id)
    people = {**scope, "$and": current_filter(as_of)}
    expiring = {"$and": [status_filter("COMPLETED", as_of), {"validUntil": {"$lte": horizon}}]}
    due = {
        "$and": [
            {"$or": [status_filter("NOT_STARTED", as_of), status_filter("IN_PROGRESS", as_of)]},
            {"dueDate": {"$lte": horizon}},
        ]
    }
    pipeline = [
        {"$match": people},
        {
            "$facet": {
                "byStatus": [{"$group": {"_id": status_expression(as_of), "n": {"$sum": 1}}}],
                "expiring": [{"$match": expiring}, {"$count": "n"}],
                "due": [{"$match": due}, {"$count": "n"}],
            }
        },
    ]
    (facets,) = await (await db.db.assignments.aggregate(pipeline)).to_list()
    pending = await db.db.records.count_documents({**scope, "status": "PENDING"})
    counts = {status: 0 for status in STATUSES}
    counts.update({row["_id"]: row["n"] for row in facets["byStatus"]})
    return Summary(
        by_status=counts,
        expiring_soon=facets["expiring"][0]["n"] if facets["expiring"] else 0,
        due_soon=facets["due"][0]["n"] if facets["due"] else 0,
        pending_records=pending,
    )
