"""How `credgraph serve` runs the app under uvicorn, with a deadline on each request's headers.

uvicorn closes an idle keep-alive connection, but a client that opens a connection and sends
its request headers a byte at a time holds it for as long as it likes (a "slowloris"), and
enough of them hold every connection the server has. Headers never reach an ASGI app, so the
deadline lives in the HTTP protocol: a connection whose request headers have not all arrived
within `header_timeout` of the request's first byte (or of the connection) is closed. Slow
bodies are `graph.edge`'s concern, which works under any ASGI server.
"""

from __future__ import annotations

import asyncio
import functools
import os
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from graph.settings import OPTIONS

HEADER_TIMEOUT = next(option for option in OPTIONS if option.attribute == "header_timeout")


class DeadlinedH11(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, closing connections whose headers come too slowly. Named
    by import path, so that every worker process builds its own; the deadline is read from
    `CREDGRAPH_HEADER_TIMEOUT`, as the workers read every setting."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout = _header_timeout()
        self._headers_due: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._watch_headers()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._watch_headers()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_watching()
        super().connection_lost(exc)

    def _watch_headers(self) -> None:
        """A deadline while a request's headers are awaited; none once they are in."""
        if self.conn.their_state is not h11.IDLE:
            self._stop_watching()
        elif self._headers_due is None:
            self._headers_due = self.loop.call_later(self.header_timeout, self._too_slow)

    def _stop_watching(self) -> None:
        if self._headers_due is not None:
            self._headers_due.cancel()
            self._headers_due = None

    def _too_slow(self) -> None:
        self._headers_due = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()


@functools.cache
def _header_timeout() -> float:
    raw = os.environ.get(HEADER_TIMEOUT.env, "")
    return float(HEADER_TIMEOUT.parse(raw) if raw.strip() else HEADER_TIMEOUT.default)


def config(*, workers: int, **options: Any) -> uvicorn.Config:
    """uvicorn's configuration for credgraph: the app built from the environment by each worker
    (`graph.app:from_environment`), HTTP/1.1 with deadlined headers."""
    return uvicorn.Config(
        "graph.app:from_environment",
        factory=True,
        http="graph.serving:DeadlinedH11",
        workers=workers,
        **options,
    )
