"""The embedded database: a SecantusDB child process serving files under the data directory.

SecantusDB is GPL-2.0, so it runs as a separate process (`python -m secantus`) and is never
imported. Several credgraph processes share one data directory (the server, then `credgraph
token` from another terminal): whoever starts the database records its address in
`embedded.json`, later processes attach to it, and only the starter stops it. A lock file
serialises the start/attach decision so two processes starting together do not race.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from store.errors import EmbeddedError

log = logging.getLogger("credgraph")

ADDRESS_FILE = "embedded.json"
LOCK_FILE = "embedded.lock"
LOG_FILE = "embedded.log"
STORAGE_DIR = "db"
HOST = "127.0.0.1"


@dataclass
class EmbeddedServer:
    """A handle on the running embedded database; `owner` says whether we must stop it."""

    uri: str
    pid: int
    port: int
    data_dir: Path
    owner: bool
    durable: bool = False
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _supervisor: threading.Event | None = field(default=None, repr=False)

    def alive(self) -> bool:
        if self._process is not None:
            return self._process.poll() is None
        return _pid_alive(self.pid)

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the process if we started it; attached processes leave it running."""
        if not self.owner:
            return
        if self._supervisor is not None:
            self._supervisor.set()
        with _locked(self.data_dir):
            _terminate(self.pid, self.port, timeout)
            if self._process is not None:
                self._process.wait()
            recorded = _read_address(self.data_dir)
            if recorded is not None and recorded.get("pid") == self.pid:
                (self.data_dir / ADDRESS_FILE).unlink(missing_ok=True)


def supervise(server: EmbeddedServer, *, every: float = 1.0) -> threading.Event:
    """Restart the database on its own port whenever it dies; set the returned event to stop.

    Clients keep their URI: the driver reconnects once the port answers again, so requests
    fail (`Unavailable`) only while it is down.
    """
    stop = threading.Event()

    def watch() -> None:
        while not stop.wait(every):
            if server.alive():
                continue
            log.warning("the embedded database exited; restarting it on port %s", server.port)
            try:
                with _locked(server.data_dir):
                    if stop.is_set():
                        return
                    fresh = _start(server.data_dir, 30.0, port=server.port, durable=server.durable)
            except (EmbeddedError, OSError) as error:
                log.error("could not restart the embedded database: %s", error)
                continue
            server.pid, server._process = fresh.pid, fresh._process

    server._supervisor = stop
    threading.Thread(target=watch, name="embedded-supervisor", daemon=True).start()
    return stop


def acquire(
    data_dir: Path, *, startup_timeout: float = 30.0, durable: bool = False
) -> EmbeddedServer:
    """Attach to the data directory's running database, or start one and own it.

    SecantusDB buffers its log in the process: a SIGKILL loses the last acknowledged writes
    unless it syncs on every commit (`durable`, far slower for many small writes).
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    with _locked(data_dir):
        recorded = _read_address(data_dir)
        if recorded is not None and _pid_alive(recorded["pid"]) and _answers(recorded["port"]):
            # A database whose starter has died (e.g. SIGKILL where no parent-death signal
            # exists) is adopted, so that somebody still stops it.
            owner = not _pid_alive(recorded.get("ownerPid", -1))
            if owner:
                _write_address(data_dir, recorded["pid"], recorded["port"])
            return EmbeddedServer(
                uri=_uri(recorded["port"]),
                pid=recorded["pid"],
                port=recorded["port"],
                data_dir=data_dir,
                owner=owner,
            )
        return _start(data_dir, startup_timeout, durable=durable)


def _start(
    data_dir: Path, startup_timeout: float, port: int | None = None, durable: bool = False
) -> EmbeddedServer:
    port = port or _free_port()
    command = [sys.executable, "-m", "secantus", "--host", HOST, "--port", str(port)]
    command += ["--storage-path", str(data_dir / STORAGE_DIR), "--log-level", "WARNING"]
    if durable:
        command.append("--sync-on-commit")
    output = (data_dir / LOG_FILE).open("ab")
    try:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=output,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
    finally:
        output.close()
    deadline = time.monotonic() + startup_timeout
    while not _answers(port):
        if process.poll() is not None:
            raise EmbeddedError(
                f"the embedded database exited during start-up (code {process.returncode}); "
                f"see {data_dir / LOG_FILE}"
            )
        if time.monotonic() > deadline:
            process.kill()
            process.wait()
            raise EmbeddedError(
                f"the embedded database did not start within {startup_timeout:.0f}s; "
                f"see {data_dir / LOG_FILE}"
            )
        time.sleep(0.05)
    _write_address(data_dir, process.pid, port)
    return EmbeddedServer(
        uri=_uri(port),
        pid=process.pid,
        port=port,
        data_dir=data_dir,
        owner=True,
        durable=durable,
        _process=process,
    )


def _terminate(pid: int, port: int, timeout: float) -> None:
    """SIGTERM the server and see that it really exits, SIGKILL as a last resort.

    Works around two SecantusDB 0.7 shutdown gaps. Its main thread sleeps in an untimed
    `Event.wait()`, so a SIGTERM the kernel hands to another thread is never acted on: we aim
    the signal at the main thread (tgkill). Its stop then joins the accept thread, which sits in
    `accept()` for up to 2 s after the listening socket is closed: a connection wakes it.
    """
    deadline = time.monotonic() + timeout
    next_signal = 0.0
    while _pid_alive(pid) and not _reaped(pid):
        now = time.monotonic()
        if now > deadline:
            os.kill(pid, signal.SIGKILL)
            break
        if now >= next_signal:
            _signal_main_thread(pid, signal.SIGTERM)
            next_signal = now + 1.0
        _answers(port)
        time.sleep(0.02)


def _signal_main_thread(pid: int, signum: int) -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.tgkill(pid, pid, signum) == 0:
            return
    except (OSError, AttributeError):
        pass
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


def _reaped(pid: int) -> bool:
    """True once our own child has exited (a zombie still answers `kill(pid, 0)`)."""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return False
    return done == pid


def _die_with_parent() -> None:
    """Ask Linux to SIGTERM the child when its parent dies, so no database is orphaned."""
    pr_set_pdeathsig = 1
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def _uri(port: int) -> str:
    return f"mongodb://{HOST}:{port}/?directConnection=true"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _answers(port: int) -> bool:
    try:
        socket.create_connection((HOST, port), timeout=0.5).close()
    except OSError:
        return False
    return True


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read_address(data_dir: Path) -> dict[str, int] | None:
    try:
        recorded = json.loads((data_dir / ADDRESS_FILE).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(recorded, dict) or not isinstance(recorded.get("pid"), int):
        return None
    if not isinstance(recorded.get("port"), int):
        return None
    return recorded


def _write_address(data_dir: Path, pid: int, port: int) -> None:
    tmp = data_dir / f"{ADDRESS_FILE}.tmp"
    tmp.write_text(json.dumps({"pid": pid, "port": port, "ownerPid": os.getpid()}))
    tmp.replace(data_dir / ADDRESS_FILE)


@contextlib.contextmanager
def _locked(data_dir: Path) -> Iterator[None]:
    with (data_dir / LOCK_FILE).open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
