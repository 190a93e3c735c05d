"""`credgraph` as a user runs it, for tests: the installed command in real subprocesses."""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

CREDGRAPH = Path(sys.executable).with_name("credgraph")
JWT = re.compile(r"[\w-]+\.[\w-]+\.[\w-]+")
ME = {"query": "{ me { email role organization { name } } }"}


def environment(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if k != "MONGODB_URI" and not k.startswith("CREDGRAPH_")
    }
    return {**env, "CREDGRAPH_DATA_DIR": str(data_dir), **extra}


def credgraph(*args: str, data_dir: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CREDGRAPH), *args],
        env=environment(data_dir, **extra),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def assert_one_line_failure(result: subprocess.CompletedProcess[str], fragment: str) -> None:
    assert result.returncode != 0
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert fragment in lines[0]
    assert lines[0].startswith("credgraph: ")


def _processes() -> Iterator[tuple[int, str, int, str]]:
    """(pid, state, parent, command line) of every process (`stat`'s name may hold spaces or
    parentheses: the fields after it are read from its last `)`)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[-1].split()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        yield int(entry.name), fields[0], int(fields[1]), cmdline


def processes_using(data_dir: Path) -> list[int]:
    """Pids of live processes whose command line mentions the data directory."""
    return [pid for pid, state, _, cmd in _processes() if str(data_dir) in cmd and state != "Z"]


def children_of(pid: int) -> list[int]:
    """Pids of live processes whose parent is `pid` (a server's workers)."""
    return [child for child, state, parent, _ in _processes() if parent == pid and state != "Z"]


def alive(pid: int) -> bool:
    """Running, not merely unreaped: a zombie serves nobody."""
    return any(found == pid and state != "Z" for found, state, _, _ in _processes())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_healthy(base: str, seconds: float = 60) -> None:
    """Until `/healthz` says ok: whatever serves there, `credgraph serve` or plain uvicorn."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{base} never became healthy")


class Server:
    """`credgraph serve` in the background, its output read line by line."""

    def __init__(
        self,
        data_dir: Path,
        *args: str,
        env: dict[str, str] | None = None,
        port: str | None = "0",
    ) -> None:
        where = ["--port", port] if port is not None else []
        self.process = subprocess.Popen(
            [str(CREDGRAPH), "serve", *where, *args],
            env=environment(data_dir, **(env or {})),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.stdout: queue.Queue[str] = queue.Queue()
        self.stderr: queue.Queue[str] = queue.Queue()
        for stream, sink in (
            (self.process.stdout, self.stdout),
            (self.process.stderr, self.stderr),
        ):
            threading.Thread(target=self._pump, args=(stream, sink), daemon=True).start()
        line = self.wait_for(self.stderr, "serving ")
        self.url = re.search(r"(http://\S+/graphql)", line)[1]
        self.base = self.url.removesuffix("/graphql")

    @staticmethod
    def _pump(stream, sink: queue.Queue[str]) -> None:
        for line in stream:
            sink.put(line.rstrip("\n"))

    def wait_for(self, sink: queue.Queue[str], fragment: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = sink.get(timeout=0.2)
            except queue.Empty:
                assert self.process.poll() is None, "credgraph serve exited early"
                continue
            if fragment in line:
                return line
        raise AssertionError(f"no line with {fragment!r} within {timeout}s")

    def wait_until_healthy(self) -> None:
        wait_until_healthy(self.base)

    def post(self, token: str, query: str, **extra: object) -> httpx.Response:
        """A query (with any other body fields) as the token's owner."""
        return httpx.post(
            self.url,
            json={"query": query, **extra},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )

    def me(self, token: str) -> dict:
        return self.post(token, **ME).json()

    def stop(self, signum: int = signal.SIGTERM) -> int:
        self.process.send_signal(signum)
        return self.process.wait(timeout=30)


CHROMIUM = Path("/usr/bin/chromium")  # Debian's, driven by Playwright
needs_browser = pytest.mark.skipif(
    not CHROMIUM.exists() and not os.environ.get("CREDGRAPH_REQUIRE_BROWSER"),
    reason="no /usr/bin/chromium (apt install chromium); CI requires it",
)
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
