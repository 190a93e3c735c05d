"""A webhook receiver on loopback for the webhook tests: it answers each POST as told — a
status, or silence past the sender's timeout — and keeps what it was sent."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class Receiver:
    """`with Receiver.running() as receiver:` — its URL is `receiver.url`. `answers` are used
    in turn (an int: that status; a float: silence for that many seconds; "drip": its status
    line a byte at a time, for ever), then 200."""

    url: str = ""
    answers: list[int | float | str] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)

    @property
    def acknowledged(self) -> list[dict[str, Any]]:
        """The events it answered 2xx, in order."""
        return [r.event for r in self.received if r.headers.get("X-Answered") == "200"]

    @classmethod
    @contextmanager
    def running(cls) -> Iterator[Receiver]:
        receiver = cls()
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with lock:
                    answer = receiver.answers.pop(0) if receiver.answers else 200
                said = str(answer)
                if answer == "drip":
                    receiver.received.append(Received(dict(self.headers.items()), body))
                    with contextlib.suppress(OSError):
                        for byte in b"HTTP/1.1 200 OK\r\n" * 100:
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                            time.sleep(0.05)
                    return
                if isinstance(answer, float):
                    time.sleep(answer)
                    answer, said = 200, "late"  # the sender gave up waiting
                headers = {**dict(self.headers.items()), "X-Answered": said}
                receiver.received.append(Received(headers, body))
                self.send_response(answer)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/credgraph"
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield receiver
        finally:
            server.shutdown()
            server.server_close()
