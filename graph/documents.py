"""`GET /documents/{record id}`: a record's document, streamed, for its learner and admins.

Anyone else gets 404 (existence does not leak); a missing or bad token gets 401.
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from graph import ids
from graph.bearer import caller_of, refusal, unavailable
from graph.errors import error_response
from resolvers import documents
from resolvers.errors import Code, DomainError
from store.errors import Unavailable


async def document(request: Request) -> Response:
    try:
        viewer = await caller_of(request)
        if viewer is None:
            return error_response(401, Code.UNAUTHENTICATED, "a valid bearer token is required")
        _, record_id = ids.decode(request.path_params["record_id"], expect="TrainingRecord")
        found = await documents.open_for(request.app.state.database, viewer, record_id)
    except DomainError as error:
        if error.code == Code.UNAUTHENTICATED:
            return refusal(error)
        found = None
    except Unavailable:
        return unavailable()
    if found is None:
        return error_response(404, Code.NOT_FOUND, "no such document")
    stored, chunks = found
    etag = f'"{stored.sha256}"'
    headers = {
        "ETag": etag,
        "Cache-Control": "private, no-cache",
        "Vary": "Authorization",
        "X-Content-Type-Options": "nosniff",
        "Content-Disposition": _disposition(stored.filename, stored.content_type),
    }
    if etag in _tags(request.headers.get("if-none-match")):
        return Response(status_code=304, headers=headers)
    headers["Content-Length"] = str(stored.size)
    return StreamingResponse(chunks, media_type=stored.content_type, headers=headers)


def _tags(header: str | None) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in (header or "").split(",") if tag.strip()}


def _disposition(filename: str, content_type: str) -> str:
    """Shown in the browser only as the three types uploads are checked to be; anything else
    (none is stored today) would be a download, never rendered."""
    how = "inline" if content_type in documents.INLINE else "attachment"
    fallback = filename.encode("ascii", "replace").decode().replace("?", "_")
    return f"{how}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"
