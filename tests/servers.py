"""`credgraph` as a user runs it, for tests: the installed command in real subprocesses."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

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


def processes_using(data_dir: Path) -> list[int]:
    """Pids of live processes whose command line mentions the data directory."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = (entry / "stat").read_text().split()[2]
        except OSError:
            continue
        if str(data_dir) in cmdline and state != "Z":
            found.append(int(entry.name))
    return found


def children_of(pid: int) -> list[int]:
    """Pids of live processes whose parent is `pid` (a server's workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[-1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


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
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError("server never became healthy")

    def me(self, token: str) -> dict:
        response = httpx.post(self.url, json=ME, headers={"Authorization": f"Bearer {token}"})
        return response.json()

    def stop(self, signum: int = signal.SIGTERM) -> int:
        self.process.send_signal(signum)
        return self.process.wait(timeout=30)
