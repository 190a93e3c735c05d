"""`GET /exports/assignments.csv`: the organization's cycles with their statuses at `asOf`, as
a CSV file streamed page by page (`resolvers.exports`).

The query parameters are the `assignments` query's filters — `credential`, `learner` (global
ids), `status`, `asOf`, `dueBefore`, `expiringBefore`, `current` — and the token the same as
for that query. Quoting is RFC 4180 (the `csv` module), dates ISO 8601 in UTC, the file UTF-8
with a byte order mark (so that Excel reads it as UTF-8), and a cell that a spreadsheet would
run as a formula is defused (`resolvers.spreadsheets`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import TypeVar

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from graph import ids
from graph.bearer import caller_of, now, refusal, unavailable
from resolvers.auth import require_viewer
from resolvers.clock import as_utc
from resolvers.errors import Code, DomainError, invalid
from resolvers.exports import Export, Row, assignment_export
from resolvers.listing import Criteria
from resolvers.spreadsheets import defused
from resolvers.status import Status
from store.errors import Unavailable

T = TypeVar("T")

COLUMNS = (
    "assignment_id", "learner_name", "learner_email", "groups", "credential", "cycle", "status",
    "as_of", "assigned_at", "start_date", "due_date", "original_due_date", "extensions",
    "completed_at", "valid_from", "valid_until", "exempt", "exempt_until",
)  # fmt: skip
FILTERS = {"credential", "learner", "status", "asOf", "dueBefore", "expiringBefore", "current"}


async def assignments_csv(request: Request) -> Response:
    """The export, or a JSON error before the first byte: a refused or malformed request
    never starts a download."""
    try:
        caller = require_viewer(await caller_of(request))
        criteria = _criteria(request, now=now(request))
        export = await assignment_export(request.app.state.database, caller, criteria)
    except DomainError as error:
        return refusal(error)
    except Unavailable:
        return unavailable()
    stamp = criteria.as_of.strftime("%Y%m%dT%H%M%SZ")
    headers = {
        "Content-Disposition": f'attachment; filename="assignments-{stamp}.csv"',
        "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff",
    }
    return StreamingResponse(_lines(export), media_type="text/csv; charset=utf-8", headers=headers)


async def _lines(export: Export) -> AsyncIterator[bytes]:
    """The header, then each page of rows as one chunk."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    yield ("\ufeff" + buffer.getvalue()).encode()
    as_of = _iso(export.criteria.as_of)
    async for rows in export.rows():
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(_cells(row, as_of) for row in rows)
        yield buffer.getvalue().encode()


def _cells(row: Row, as_of: str) -> list[str]:
    cycle = row.cycle
    original = cycle.extensions[0].from_due if cycle.extensions else None
    return [
        ids.encode("CredentialAssignment", cycle.id),
        defused(row.learner.name),
        defused(row.learner.email),
        defused("; ".join(row.groups)),
        defused(row.credential),
        str(cycle.cycle),
        row.status.value,
        as_of,
        _iso(cycle.assigned_at),
        _iso(cycle.start_date),
        _iso(cycle.due_date),
        _iso(original),
        str(len(cycle.extensions)),
        _iso(cycle.completed_at),
        _iso(cycle.valid_from),
        _iso(cycle.valid_until),
        "yes" if row.exempt else "no",
        _iso(row.exempt_until),
    ]


def _iso(moment: datetime | None) -> str:
    return moment.isoformat().replace("+00:00", "Z") if moment is not None else ""


def _criteria(request: Request, *, now: datetime) -> Criteria:
    """The filters, read as the `assignments` query reads its arguments."""
    params = request.query_params
    unknown = sorted(set(params) - FILTERS)
    if unknown:
        raise invalid(Code.FIELD_NOT_ALLOWED, f"unknown parameter {unknown[0]!r}", unknown[0])

    def read(name: str, parse: Callable[[str], T]) -> T | None:
        """A filter given once with a value, or not at all: an empty one (a script's unset
        variable) or a repeated one would otherwise export more than was asked for."""
        given = params.getlist(name)
        if not given:
            return None
        if len(given) > 1:
            raise invalid(
                Code.OUT_OF_RANGE, f"{name} is given {len(given)} times: give it once", name
            )
        if not given[0]:
            raise invalid(Code.REQUIRED, f"{name} is empty: leave it out to not filter", name)
        return parse(given[0])

    def moment(name: str) -> Callable[[str], datetime]:
        def parse(value: str) -> datetime:
            try:
                return as_utc(datetime.fromisoformat(value), field=name)
            except ValueError:
                raise invalid(Code.INVALID_DATE, f"{name} is an ISO 8601 date-time", name) from None

        return parse

    def status(value: str) -> Status:
        try:
            return Status(value)
        except ValueError:
            raise invalid(Code.OUT_OF_RANGE, f"no status {value!r}", "status") from None

    def flag(value: str) -> bool:
        if value not in ("true", "false"):
            raise invalid(Code.OUT_OF_RANGE, "current is true or false", "current")
        return value == "true"

    return Criteria(
        as_of=read("asOf", moment("asOf")) or now,
        credential_id=read(
            "credential", lambda v: ids.db_id(v, expect="Credential", field="credential")
        ),
        learner_id=read("learner", lambda v: ids.db_id(v, expect="User", field="learner")),
        status=read("status", status),
        due_before=read("dueBefore", moment("dueBefore")),
        expiring_before=read("expiringBefore", moment("expiringBefore")),
        current=read("current", flag) or False,
    )
