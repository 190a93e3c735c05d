"""`POST /imports` (a CSV file as the body) and `GET /imports/{id}`: training history in bulk.

The upload answers 202 as soon as the file is stored, with the import's id; the rows are
worked through in the background (`resolvers.imports`). Poll `GET /imports/{id}` — the one
way a `RECORDS_WRITE` token, which runs no query, sees its import — or, as an administrator,
`node(id:)` in GraphQL for the rows' results page by page.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from graph import ids
from graph.bearer import caller_of, now, refusal, unavailable
from graph.errors import error_response
from resolvers import imports
from resolvers.errors import Code, DomainError
from store.errors import Unavailable
from store.imports import Import

ACCEPTED = ("text/csv", "text/plain", "application/octet-stream", "")
ROWS_SHOWN = 100


async def upload(request: Request) -> Response:
    state = request.app.state
    try:
        caller = imports.require_importer(await caller_of(request))
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind not in ACCEPTED:
            return error_response(
                415, "UNSUPPORTED_MEDIA_TYPE", "send the CSV file itself as the body (text/csv)"
            )
        if _announced(request) > imports.MAX_FILE:
            raise imports.too_large(imports.MAX_FILE)
        found = await imports.receive(
            state.database, caller, request.stream(),
            filename=request.query_params.get("filename"), runner=state.imports.runner,
            now=now(request), limit=imports.MAX_FILE,
        )  # fmt: skip
    except DomainError as error:
        return refusal(error)
    except Unavailable:
        return unavailable()
    state.imports.start(found)
    shown = _shown(found, [])
    return JSONResponse(shown, status_code=202, headers={"Location": f"/imports/{shown['id']}"})


async def progress(request: Request) -> Response:
    """The import's progress and up to 100 of its rows not applied, after the line `after`."""
    state = request.app.state
    try:
        caller = await caller_of(request)
        _, import_id = ids.decode(request.path_params["import_id"], expect="Import", field="id")
        found = await imports.get(state.database, caller, import_id)
        if found is None:
            return refusal(DomainError(Code.NOT_FOUND, "no such import"))
        after = request.query_params.get("after")
        rows = await imports.row_page(state.database, found, first=ROWS_SHOWN, after=after)
    except DomainError as error:
        return refusal(error)
    except Unavailable:
        return unavailable()
    shown = _shown(found, [
        {"line": r.line, "outcome": r.outcome.value, "code": r.code, "message": r.message,
         "record": ids.encode("TrainingRecord", r.record_id) if r.record_id else None}
        for r in rows.items
    ])  # fmt: skip
    shown["rowsAfter"] = rows.cursor(rows.items[-1]) if rows.has_next else None
    return JSONResponse(shown, headers={"Cache-Control": "no-store"})


def _shown(found: Import, rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": ids.encode("Import", found.id),
        "filename": found.filename,
        "status": found.status.value,
        "rowsRead": found.counts.read,
        "applied": found.counts.applied,
        "duplicates": found.counts.duplicates,
        "failed": found.counts.failed,
        "error": {"code": found.error_code, "message": found.error_message}
        if found.error_code
        else None,
        "rows": rows,
    }


def _announced(request: Request) -> int:
    try:
        return int(request.headers.get("content-length", "0"))
    except ValueError:
        return 0
