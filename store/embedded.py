"""The embedded database: a SecantusDB process serving files under the data directory.

SecantusDB is GPL-2.0, so it runs as a separate process (`python -m secantus`) and is never
imported. Every credgraph process that uses a data directory — `credgraph serve`, each of its
workers, a second server, `credgraph token` in another terminal — is a *member* of it
(`members/<pid>`), and all members are equal:

- The database is started by a *keeper* (`python -m store.keeper`), a small process of its own
  session that owns it: the keeper stops the database once no member has been alive for a
  moment, and the database dies with the keeper (a parent-death signal), so however the members
  end — stopped, crashed, `kill -9` — no database is left behind.
- Whichever member finds the database gone (its keeper killed, the database crashed) starts a
  new keeper on the same port, so every member's connection string stays valid and the driver
  reconnects by itself. A lock file serialises these decisions.
- A member leaving (`stop`) leaves the database to the others; the last one stops it.

SecantusDB buffers its log in the process: unless it syncs every commit (`durable`, the
default), a `kill -9` loses the last acknowledged writes.
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
from store.metrics import EMBEDDED_RESTARTS

log = logging.getLogger("credgraph")

ADDRESS_FILE = "embedded.json"
LOCK_FILE = "embedded.lock"
LOG_FILE = "embedded.log"
MEMBERS_DIR = "members"
STORAGE_DIR = "db"
HOST = "127.0.0.1"


@dataclass
class EmbeddedServer:
    """This process's membership of a data directory's database."""

    uri: str
    pid: int
    port: int
    data_dir: Path
    durable: bool = True
    _keeper: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _supervisor: threading.Event | None = field(default=None, repr=False)

    def alive(self) -> bool:
        if self._keeper is not None:
            self._keeper.poll()  # reap a keeper we started, so it is not counted as alive
        return _pid_alive(self.pid)

    def stop(self, timeout: float = 15.0) -> None:
        """Leave the database to the other members; the last one out stops it (and waits)."""
        if self._supervisor is not None:
            self._supervisor.set()
        with _locked(self.data_dir):
            _leave(self.data_dir)
            if _members(self.data_dir):
                return
            recorded = _read_address(self.data_dir)
        if recorded is not None and recorded.get("pid") == self.pid:
            _stop_keeper(recorded, timeout)  # unlocked: the keeper takes the lock to finish
        if self._keeper is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._keeper.wait(timeout)


def acquire(
    data_dir: Path, *, startup_timeout: float = 30.0, durable: bool = True
) -> EmbeddedServer:
    """Join the data directory's database: attach to it if it answers, else start it."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with _locked(data_dir):
        _join(data_dir)
        recorded = _read_address(data_dir)
        if recorded is not None and _pid_alive(recorded["pid"]) and _answers(recorded["port"]):
            return EmbeddedServer(
                uri=_uri(recorded["port"]),
                pid=recorded["pid"],
                port=recorded["port"],
                data_dir=data_dir,
                durable=durable,
            )
        try:
            return _start(data_dir, startup_timeout, durable=durable)
        except BaseException:
            _leave(data_dir)
            raise


def supervise(server: EmbeddedServer, *, every: float = 1.0) -> threading.Event:
    """Start the database again, on its own port, whenever it is gone; set the returned event
    to stop watching. Every member watches: whichever notices first restarts it."""
    stop = threading.Event()

    def watch() -> None:
        while not stop.wait(every):
            if server.alive() and _answers(server.port):
                continue
            try:
                with _locked(server.data_dir):
                    if stop.is_set():
                        return
                    recorded = _read_address(server.data_dir)
                    if recorded and _pid_alive(recorded["pid"]) and _answers(recorded["port"]):
                        server.pid = recorded["pid"]  # another member restarted it
                        continue
                    log.warning(
                        "the embedded database is gone; starting it on port %s", server.port
                    )
                    fresh = _start(server.data_dir, 30.0, port=server.port, durable=server.durable)
                    # Under the lock, with the address it recorded: a `stop` waiting for the lock
                    # then stops this database, not the one that died.
                    server.pid, server._keeper = fresh.pid, fresh._keeper
                    EMBEDDED_RESTARTS.inc()
            except (EmbeddedError, OSError) as error:
                log.error("could not restart the embedded database: %s", error)

    server._supervisor = stop
    threading.Thread(target=watch, name="embedded-supervisor", daemon=True).start()
    return stop


def _start(
    data_dir: Path, startup_timeout: float, port: int | None = None, durable: bool = True
) -> EmbeddedServer:
    """Start a keeper, which starts the database on `port` and records its address."""
    port = port or _free_port()
    (data_dir / ADDRESS_FILE).unlink(missing_ok=True)
    command = [sys.executable, "-m", "store.keeper", str(data_dir), str(port)]
    if durable:
        command.append("--durable")
    output = (data_dir / LOG_FILE).open("ab")
    try:
        keeper = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=output,
            start_new_session=True,  # no terminal's Ctrl-C reaches it: it goes when members do
            env={**os.environ, "PYTHONPATH": _import_path()},
        )
    finally:
        output.close()
    deadline = time.monotonic() + startup_timeout
    while True:
        recorded = _read_address(data_dir)
        if recorded is not None and recorded["port"] == port and _answers(port):
            break
        if keeper.poll() is not None:
            raise EmbeddedError(
                f"the embedded database exited during start-up (code {keeper.returncode}); "
                f"see {data_dir / LOG_FILE}"
            )
        if time.monotonic() > deadline:
            keeper.kill()  # its database dies with it
            keeper.wait()
            raise EmbeddedError(
                f"the embedded database did not start within {startup_timeout:.0f}s; "
                f"see {data_dir / LOG_FILE}"
            )
        time.sleep(0.05)
    return EmbeddedServer(
        uri=_uri(port),
        pid=recorded["pid"],
        port=port,
        data_dir=data_dir,
        durable=durable,
        _keeper=keeper,
    )


def _import_path() -> str:
    """Where `store` is importable from, so the keeper finds this very code."""
    here = str(Path(__file__).resolve().parent.parent)
    return os.pathsep.join(p for p in (here, os.environ.get("PYTHONPATH", "")) if p)


def _stop_keeper(recorded: dict[str, int], timeout: float) -> None:
    """Ask the keeper to stop the database now, and wait for both to be gone."""
    keeper = recorded.get("keeper", -1)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if keeper > 0:
            os.kill(keeper, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and (
        _pid_alive(keeper) or _pid_alive(recorded.get("pid", -1))
    ):
        time.sleep(0.02)


# --- members -------------------------------------------------------------------------------


def _identity(pid: int) -> str | None:
    """A process's start time (Linux): tells a member from a later process given its pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None if not _exists(pid) else ""
    fields = stat.rsplit(")", 1)[-1].split()
    return "" if fields[0] == "Z" else fields[19]


def _join(data_dir: Path) -> None:
    members = data_dir / MEMBERS_DIR
    members.mkdir(exist_ok=True)
    (members / str(os.getpid())).write_text(_identity(os.getpid()) or "")


def _leave(data_dir: Path) -> None:
    (data_dir / MEMBERS_DIR / str(os.getpid())).unlink(missing_ok=True)


def _members(data_dir: Path) -> list[int]:
    """The live members, forgetting those that are gone."""
    found = []
    directory = data_dir / MEMBERS_DIR
    for entry in directory.iterdir() if directory.is_dir() else ():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        with contextlib.suppress(OSError):
            if _identity(pid) == entry.read_text() and _identity(pid):
                found.append(pid)
                continue
        entry.unlink(missing_ok=True)
    return found


# --- processes -----------------------------------------------------------------------------


def terminate(pid: int, port: int, timeout: float) -> None:
    """SIGTERM the database and see that it really exits, SIGKILL as a last resort.

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


def die_with_parent() -> None:
    """Ask Linux to kill the process when its parent dies (a SIGKILL: it cannot be missed)."""
    pr_set_pdeathsig = 1
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


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


def _exists(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _pid_alive(pid: int) -> bool:
    """Running, not a zombie."""
    return _exists(pid) and _identity(pid) != ""


def _read_address(data_dir: Path) -> dict[str, int] | None:
    try:
        recorded = json.loads((data_dir / ADDRESS_FILE).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(recorded, dict):
        return None
    if not all(isinstance(recorded.get(key), int) for key in ("pid", "port")):
        return None
    return recorded


def write_address(data_dir: Path, pid: int, port: int) -> None:
    tmp = data_dir / f"{ADDRESS_FILE}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps({"pid": pid, "port": port, "keeper": os.getpid()}))
    tmp.replace(data_dir / ADDRESS_FILE)


def live_members(data_dir: Path) -> list[int]:
    """The keeper's question: is anybody still using the database?"""
    with _locked(data_dir):
        return _members(data_dir)


def forget_address(data_dir: Path, pid: int) -> None:
    with _locked(data_dir):
        recorded = _read_address(data_dir)
        if recorded is not None and recorded.get("pid") == pid:
            (data_dir / ADDRESS_FILE).unlink(missing_ok=True)


@contextlib.contextmanager
def _locked(data_dir: Path) -> Iterator[None]:
    with (data_dir / LOCK_FILE).open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
