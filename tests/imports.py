"""Uploading CSV files of training history and waiting for their imports, for the tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx

from tests.helpers import gid

CREATE_TOKEN = """
mutation($scopes: [ApiTokenScope!]!) {
  createApiToken(input: {name: "Integration", scopes: $scopes}) { secret userErrors { code } }
}"""
IMPORT = """
query($id: ID!, $after: String) {
  node(id: $id) { ... on Import {
    id filename status rowsRead applied duplicates failed errorCode errorMessage
    createdBy { email }
    rows(first: 100, after: $after) {
      totalCount pageInfo { hasNextPage endCursor }
      edges { node { line outcome code message record { id title } } }
    }
  } }
}"""


def csv_bytes(*lines: str) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode()


async def upload(
    http: httpx.AsyncClient,
    token: str | None,
    body: bytes | AsyncIterator[bytes],
    *,
    filename: str | None = None,
    content_type: str = "text/csv",
) -> httpx.Response:
    headers = {"Content-Type": content_type}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    params = {"filename": filename} if filename else None
    return await http.post("/imports", content=body, headers=headers, params=params)


async def finished(
    http: httpx.AsyncClient, token: str, import_id: str, *, seconds: float = 60.0
) -> dict[str, Any]:
    """The import once it has ended (its background task runs on this event loop)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        response = await http.get(
            f"/imports/{import_id}", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 200, response.text
        shown = response.json()
        if shown["status"] != "RUNNING":
            return shown
        await asyncio.sleep(0.01)
    raise AssertionError(f"import {import_id} still running")


async def imported(http: httpx.AsyncClient, token: str, body: bytes, **kw: Any) -> dict[str, Any]:
    response = await upload(http, token, body, **kw)
    assert response.status_code == 202, response.text
    return await finished(http, token, response.json()["id"])


def user_id(user: Any) -> str:
    return gid("User", user.id)
