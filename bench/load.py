"""credgraph under a wallboard's load: `python -m bench.load` (issue 12).

For each organization size it seeds a fresh data directory (N learners x 3 credentials, as
`bench.seed` shapes them), starts the installed `credgraph serve` on it (embedded database, one
worker, the default database timeout) and runs one phase per write rate. In every phase, at
once: 50 dashboards poll the wallboard query once a second with `If-None-Match`, 5 learners
poll their own credentials the same way, and a writer submits training records and approves
them at the phase's rate — every write advances the organization's data version, so the rate
decides how many polls can still be answered 304. Per phase it reports throughput, the share
of 304s, latencies, errors, writes, and the CPU seconds the server, the database and this very
load generator spent; per size, the learner query's median measured alone (the issue's
300-vs-3000 comparison, target at most 1.5x).

The client is deliberately lean — hand-written HTTP/1.1 over `asyncio.open_connection`, one
keep-alive connection per simulated client, no httpx in the measured path — so what is
measured is the server, not the generator; its own CPU is printed next to the server's to
show it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any

import orjson

from bench.common import free_port
from bench.seed import organization
from resolvers import tokens
from store import embedded
from store.database import connect
from store.users import User

CREDGRAPH = Path(sys.executable).with_name("credgraph")  # the installed console script
HOST = "127.0.0.1"
SECRET = "load-secret-" + "x" * 40
CREDENTIALS = 3  # per learner, as bench.run and bench.seed use
LEARNER_POLLERS = 5
EVERY = 1.0  # seconds between one client's polls
TIMEOUT = 10.0  # a request slower than this is an error
ALONE = 30  # sequential learner requests for the median measured without load
TICKS = os.sysconf("SC_CLK_TCK")

DASHBOARD = (
    "query Dashboard { complianceSummary(expiringWithin: {amount: 60, unit: DAY}) { total "
    "notYetAvailable notStarted inProgress completed overdue expired expiringSoon dueSoon "
    "pendingRecords } assignments(status: OVERDUE, orderBy: {field: DUE_DATE}, first: 20) { "
    "totalCount edges { node { id learner { name } credential { name } dueDate } } } }"
)
LEARNER = (
    "query MyCredentials { me { credentials(first: 50) { totalCount edges { node { id status "
    "dueDate validUntil credential { name } tasks { state action requirement { title } } } } } } }"
)
SUBMIT = (
    "mutation Submit($input: SubmitTrainingRecordInput!) { submitTrainingRecord(input: $input) "
    "{ record { id status } userErrors { code message } } }"
)
APPROVE = (
    "mutation Approve($record: ID!) { approveTrainingRecord(input: {record: $record, "
    'note: "load test"}) { record { id status } userErrors { code message } } }'
)


# --- a lean HTTP/1.1 client ------------------------------------------------------------------


class TransportError(Exception):
    """The connection failed or the server's bytes were not HTTP we understand."""


@dataclass(slots=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


class Connection:
    """One persistent HTTP/1.1 connection, as one browser tab or wallboard keeps open.

    Requests go one at a time (no pipelining). The connection is opened on first use and again
    after the server closes it; a request that finds a reused connection closed before any byte
    of the answer arrived is sent once more on a fresh one — the server closed it idle, which is
    not an error. Any failure or timeout closes it, since a late answer would otherwise be read
    as the next request's.
    """

    def __init__(self, port: int) -> None:
        self.port = port
        self.host = f"Host: {HOST}:{port}\r\n".encode()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(HOST, self.port)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def request(
        self, method: str, path: str, headers: bytes = b"", body: bytes = b""
    ) -> Response:
        """Send one request (`headers`: complete `Name: value\\r\\n` lines) and read its answer
        within `TIMEOUT`; raises TimeoutError or TransportError."""
        head = b"%s %s HTTP/1.1\r\n%s%sContent-Length: %d\r\n\r\n" % (
            method.encode(),
            path.encode(),
            self.host,
            headers,
            len(body),
        )
        try:
            async with asyncio.timeout(TIMEOUT):
                return await self._exchange(head + body, head_only=method == "HEAD")
        except BaseException:
            self.close()
            raise

    async def _exchange(self, message: bytes, *, head_only: bool) -> Response:
        for _ in range(2):
            reused = self.writer is not None
            await self.open()
            assert self.reader is not None
            assert self.writer is not None
            try:
                self.writer.write(message)
                await self.writer.drain()
                status_line = await self.reader.readline()
            except OSError as error:
                if not reused:
                    raise TransportError(f"{type(error).__name__}: {error}") from error
                status_line = b""
            if status_line:
                break
            self.close()
            if not reused:
                raise TransportError("connection closed before the status line")
        else:
            raise TransportError("connection closed before the status line")
        try:
            return await self._answer(status_line, head_only=head_only)
        except (OSError, ValueError, asyncio.IncompleteReadError) as error:
            raise TransportError(f"{type(error).__name__}: {error}") from error

    async def _answer(self, status_line: bytes, *, head_only: bool) -> Response:
        assert self.reader is not None
        parts = status_line.split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
            raise TransportError(f"bad status line {status_line[:80]!r}")
        status = int(parts[1])
        headers: dict[str, str] = {}
        while True:
            line = await self.reader.readline()
            if not line:
                raise TransportError("connection closed in the headers")
            if line in (b"\r\n", b"\n"):
                break
            name, colon, value = line.partition(b":")
            if not colon:
                raise TransportError(f"bad header line {line[:80]!r}")
            headers[name.strip().lower().decode("latin-1")] = value.strip().decode("latin-1")
        if 100 <= status < 200:  # an interim answer (100 Continue): the real one follows
            return await self._answer(await self.reader.readline(), head_only=head_only)
        if head_only or status in (204, 304):
            body = b""
        elif "chunked" in headers.get("transfer-encoding", "").lower():
            body = await self._chunked()
        elif "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        else:  # delimited by the end of the connection
            body = await self.reader.read()
            self.close()
        if headers.get("connection", "").lower() == "close":
            self.close()
        return Response(status, headers, body)

    async def _chunked(self) -> bytes:
        assert self.reader is not None
        chunks = []
        while True:
            size_line = await self.reader.readline()
            try:
                size = int(size_line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise TransportError(f"bad chunk size {size_line[:80]!r}") from None
            if size == 0:
                while (await self.reader.readline()) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(chunks)
            chunks.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)  # the chunk's CRLF


def headers_for(token: str) -> bytes:
    """The fixed part of a client's request headers, built once so a poll costs little."""
    return (
        "Content-Type: application/json\r\nAccept: application/json\r\n"
        f"Authorization: Bearer {token}\r\n"
    ).encode()


def graphql_body(query: str, operation: str, variables: dict[str, Any] | None = None) -> bytes:
    payload: dict[str, Any] = {"query": query, "operationName": operation}
    if variables is not None:
        payload["variables"] = variables
    return orjson.dumps(payload)


def problem(response: Response) -> tuple[str | None, Any]:
    """(None, data) for a good answer — a 304, or a 200 without `errors` — else (what went
    wrong, None): any other status, a body that is not JSON, or GraphQL errors, named with the
    first error's code so that a run's failures say why (a 503 with SERVICE_UNAVAILABLE is the
    database timeout shedding load, not a crash)."""
    if response.status == 304:
        return None, None
    try:
        payload = orjson.loads(response.body)
    except orjson.JSONDecodeError:
        payload = None
    errors = payload.get("errors") if isinstance(payload, dict) else None
    code = ""
    if errors and isinstance(errors, list) and isinstance(errors[0], dict):
        first = errors[0]
        code = (first.get("extensions") or {}).get("code") or str(first.get("message", ""))[:60]
    if response.status != 200:
        return f"HTTP {response.status}" + (f" ({code})" if code else ""), None
    if not isinstance(payload, dict):
        return "200 that is not a JSON object", None
    if errors:
        return f"200 with errors ({code})", None
    return None, payload.get("data")


# --- measurements --------------------------------------------------------------------------


@dataclass
class Phase:
    """What one phase at one write rate measured."""

    learners: int
    writes_per_second: float
    dashboard: list[float] = field(default_factory=list)  # seconds, answered polls only
    dashboard_304: int = 0
    dashboard_polls: int = 0
    learner: list[float] = field(default_factory=list)
    learner_304: int = 0
    learner_polls: int = 0
    errors: Counter[str] = field(default_factory=Counter)  # failed polls, by who and why
    writes: list[float] = field(default_factory=list)  # seconds, successful writes
    write_errors: Counter[str] = field(default_factory=Counter)
    elapsed: float = 0.0
    server_cpu: float = 0.0
    database_cpu: float = 0.0
    client_cpu: float = 0.0

    @property
    def polls(self) -> int:
        return self.dashboard_polls + self.learner_polls


@dataclass
class Poller:
    """A simulated dashboard or learner: its connection, its request, the last ETag it got."""

    kind: str  # "dashboard" or "learner"
    connection: Connection
    headers: bytes
    body: bytes
    etag: str | None = None

    async def poll(self, phase: Phase | None) -> None:
        """One conditional poll, recorded in `phase` (None: a warm-up, not recorded)."""
        headers = self.headers
        if self.etag:
            headers += f"If-None-Match: {self.etag}\r\n".encode()
        started = time.perf_counter()
        try:
            response = await self.connection.request("POST", "/graphql", headers, self.body)
        except TimeoutError:
            what: str | None = f"timeout (> {TIMEOUT:.0f} s)"
            response = None
        except (TransportError, OSError) as error:
            what, response = f"transport: {error}"[:80], None
        else:
            what, _ = problem(response)
        took = time.perf_counter() - started
        if response is not None and what is None and response.status == 200:
            self.etag = response.headers.get("etag")
        if phase is None:
            if what is not None:
                raise RuntimeError(f"warm-up {self.kind} poll failed: {what}")
            return
        dashboard = self.kind == "dashboard"
        if dashboard:
            phase.dashboard_polls += 1
        else:
            phase.learner_polls += 1
        if what is not None:
            phase.errors[f"{self.kind}: {what}"] += 1
            return
        assert response is not None
        (phase.dashboard if dashboard else phase.learner).append(took)
        if response.status == 304:
            if dashboard:
                phase.dashboard_304 += 1
            else:
                phase.learner_304 += 1

    async def run(self, phase: Phase, first: float, deadline: float) -> None:
        """Poll at `first`, then once every `EVERY` seconds until `deadline` — one request in
        flight at a time, as a page that awaits its fetch does: a poll slower than the
        interval is followed at once by the next, never by a burst of the missed ones."""
        due = first
        while due < deadline:
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            await self.poll(phase)
            due = max(due + EVERY, time.perf_counter())


class Writer:
    """Writes at a fixed rate, alternating a learner's submission and an administrator's
    approval of it: the review-queue traffic a real organization has. Writes are sent on
    schedule whether or not earlier ones have returned (each on an idle connection from a
    small pool), so a slow server cannot lower the offered write rate."""

    def __init__(self, port: int, admin: bytes, learners: list[bytes]) -> None:
        self.port = port
        self.admin = admin
        self.learners = learners
        self.idle: list[Connection] = []
        self.submitted = 0

    def close(self) -> None:
        for connection in self.idle:
            connection.close()
        self.idle.clear()

    async def _send(self, headers: bytes, body: bytes, phase: Phase, what: str) -> Any:
        """The mutation's payload, or None with the failure counted."""
        connection = self.idle.pop() if self.idle else Connection(self.port)
        started = time.perf_counter()
        try:
            response = await connection.request("POST", "/graphql", headers, body)
        except TimeoutError:
            phase.write_errors[f"{what}: timeout (> {TIMEOUT:.0f} s)"] += 1
            return None
        except (TransportError, OSError) as error:
            phase.write_errors[f"{what}: transport: {error}"[:80]] += 1
            return None
        finally:
            self.idle.append(connection)
        took = time.perf_counter() - started
        failure, data = problem(response)
        payload = (data or {}).get(f"{what}TrainingRecord") or {}
        if failure is None and (payload.get("userErrors") or not payload.get("record")):
            codes = ",".join(e.get("code", "?") for e in payload.get("userErrors") or [])
            failure = f"userErrors {codes}" if codes else "no record"
        if failure is not None:
            phase.write_errors[f"{what}: {failure}"] += 1
            return None
        phase.writes.append(took)
        return payload["record"]

    async def submit(self, phase: Phase, outcome: asyncio.Future[str | None]) -> None:
        """A learner's training record (no document: ADDITIONAL_TRAINING needs none)."""
        key = uuid.uuid4().hex
        headers = self.learners[self.submitted % len(self.learners)]
        self.submitted += 1
        done = (datetime.now(UTC) - timedelta(days=1)).isoformat()
        variables = {
            "input": {
                "type": "ADDITIONAL_TRAINING",
                "title": f"Load {key[:8]}",
                "completedAt": done,
                "idempotencyKey": key,
            }
        }
        body = graphql_body(SUBMIT, "Submit", variables)
        record = None
        try:
            record = await self._send(headers, body, phase, "submit")
        finally:  # whatever happens, the paired approval must not wait for ever
            outcome.set_result((record or {}).get("id"))

    async def approve(self, phase: Phase, submission: asyncio.Future[str | None]) -> None:
        """The administrator approves the record the previous write submitted."""
        record = await submission
        if record is None:
            phase.write_errors["approve: not sent (its submission failed)"] += 1
            return
        body = graphql_body(APPROVE, "Approve", {"record": record})
        await self._send(self.admin, body, phase, "approve")

    async def run(self, phase: Phase, start: float, deadline: float) -> None:
        rate = phase.writes_per_second
        if rate <= 0:
            return
        loop = asyncio.get_running_loop()
        sent: list[asyncio.Task[None]] = []
        submission: asyncio.Future[str | None] = loop.create_future()
        k = 0
        while (due := start + k / rate) < deadline:
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            if k % 2 == 0:
                submission = loop.create_future()
                sent.append(asyncio.create_task(self.submit(phase, submission)))
            else:
                sent.append(asyncio.create_task(self.approve(phase, submission)))
            k += 1
        await asyncio.gather(*sent)


# --- processes -----------------------------------------------------------------------------


def _stat(pid: int) -> list[str] | None:
    """/proc/<pid>/stat's fields after the command name (index 0 is field 3, the state)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def cpu_seconds(pid: int) -> float:
    """User plus system CPU of a process (all its threads), 0 once it is gone."""
    fields = _stat(pid)
    return (int(fields[11]) + int(fields[12])) / TICKS if fields else 0.0


def processes_using(data_dir: Path) -> dict[int, str]:
    """Live processes whose command line mentions the data directory (the keeper, the
    database), by pid with their command line."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        fields = _stat(int(entry.name))
        if str(data_dir) in command and fields and fields[0] != "Z":
            found[int(entry.name)] = command
    return found


def database_pids(data_dir: Path) -> list[int]:
    """The embedded database's processes: everything below the data directory's keeper
    (`python -m store.keeper DATA_DIR`), which starts SecantusDB as its child."""
    keepers = [pid for pid, cmd in processes_using(data_dir).items() if "store.keeper" in cmd]
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))):
            parents.setdefault(int(fields[1]), []).append(int(entry.name))
    found, queue = [], list(keepers)
    while queue:
        for child in parents.get(queue.pop(), []):
            found.append(child)
            queue.append(child)
    return found


@dataclass
class CPU:
    """A snapshot of the CPU seconds the server, the database and this process have used."""

    server: float
    database: dict[int, float]
    client: float

    @classmethod
    def now(cls, server_pid: int, data_dir: Path) -> CPU:
        return cls(
            server=cpu_seconds(server_pid),
            database={pid: cpu_seconds(pid) for pid in database_pids(data_dir)},
            client=time.process_time(),
        )

    def since(self, before: CPU) -> tuple[float, float, float]:
        """(server, database, client) seconds between the two snapshots; a database process
        started in between counts from zero (one that ended in between is lost)."""
        database = sum(used - before.database.get(pid, 0.0) for pid, used in self.database.items())
        return self.server - before.server, database, self.client - before.client


def tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


async def healthy(port: int, server: asyncio.subprocess.Process, log: Path) -> None:
    """Wait for /healthz to answer 200; fail with the server's log if it exits first."""
    deadline = time.monotonic() + 120
    connection = Connection(port)
    try:
        while time.monotonic() < deadline:
            if server.returncode is not None:
                raise RuntimeError(f"credgraph serve exited with {server.returncode}:\n{tail(log)}")
            with contextlib.suppress(OSError, TransportError, TimeoutError):
                if (await connection.request("GET", "/healthz")).status == 200:
                    return
            await asyncio.sleep(0.2)
        raise RuntimeError(f"credgraph serve was not healthy within 120 s:\n{tail(log)}")
    finally:
        connection.close()


async def stop(server: asyncio.subprocess.Process, data_dir: Path) -> None:
    """SIGTERM the server and wait (it stops its embedded database on the way out); then make
    sure nothing is left: its process group, and the keeper and database, which run in a
    session of their own and so are found by their command line instead."""
    if server.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            server.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(server.wait(), 30)
        except TimeoutError:
            print("credgraph serve ignored SIGTERM for 30 s; killing it", file=sys.stderr)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(server.pid, signal.SIGKILL)  # its group: nothing, unless something hung
    if server.returncode is None:
        await server.wait()
    for _ in range(100):  # the keeper stops the database within its own 15 s
        if not (left := processes_using(data_dir)):
            return
        await asyncio.sleep(0.2)
    for signum in (signal.SIGTERM, signal.SIGKILL):
        if not left:
            return
        print(f"left behind, sending {signum.name}: {sorted(left)}", file=sys.stderr)
        for pid in left:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signum)
        await asyncio.sleep(5)
        left = processes_using(data_dir)
    if left:
        print(f"could not stop: {sorted(left)}", file=sys.stderr)


@asynccontextmanager
async def serving(data_dir: Path, log: Path) -> AsyncIterator[tuple[int, int]]:
    """`credgraph serve` as a user runs it — the console script, embedded database under
    `data_dir`, one worker, default settings but the secret — yielding (port, pid)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "MONGODB_URI"}
    env = {k: v for k, v in env.items() if not k.startswith("CREDGRAPH_")}
    env |= {"CREDGRAPH_DATA_DIR": str(data_dir), "CREDGRAPH_SECRET": SECRET}
    output = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        server = await asyncio.create_subprocess_exec(
            str(CREDGRAPH),
            "serve",
            "--port",
            str(port),
            "--workers",
            "1",
            env=env,
            cwd=data_dir.parent,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=output,
            start_new_session=True,  # a group of its own, to kill whatever it leaves
        )
    finally:
        os.close(output)
    try:
        await healthy(port, server, log)
        await repaired(log)
        yield port, server.pid
    finally:
        await stop(server, data_dir)


async def repaired(log: Path, seconds: float = 300) -> None:
    """Wait for the server's start-up pass over every open cycle (its log says when): measured
    while it runs, the first phase would time the repair, not the polls."""
    deadline = time.monotonic() + seconds
    while "start-up repair" not in await asyncio.to_thread(log.read_text, errors="replace"):
        if time.monotonic() > deadline:
            raise RuntimeError(f"no start-up repair within {seconds:.0f} s; see {log}")
        await asyncio.sleep(0.2)


async def seed(data_dir: Path, learners: int) -> tuple[User, list[User]]:
    """A fresh organization in the data directory's embedded database (the server's default
    database), which is stopped again before the server starts it as its own."""
    member = await asyncio.to_thread(embedded.acquire, data_dir)
    try:
        async with connect(member.uri, seconds=120) as db:
            return await organization(
                db,
                name=f"Load{learners}",
                learners=learners,
                credentials_per_learner=CREDENTIALS,
                now=datetime.now(UTC),
            )
    finally:
        await asyncio.to_thread(member.stop)


def token(user: User) -> str:
    return tokens.issue(user, secret=SECRET, ttl=timedelta(hours=12), now=datetime.now(UTC))


# --- one size ------------------------------------------------------------------------------


@dataclass
class Size:
    learners: int
    seeded: float
    alone_median: float | None
    alone_errors: Counter[str]
    phases: list[Phase]


async def learner_alone(port: int, headers: bytes) -> tuple[float | None, Counter[str]]:
    """The learner query's median on its own: sequential, no If-None-Match, no other load."""
    connection = Connection(port)
    body = graphql_body(LEARNER, "MyCredentials")
    samples: list[float] = []
    errors: Counter[str] = Counter()
    try:
        for attempt in range(3 + ALONE):
            started = time.perf_counter()
            try:
                response = await connection.request("POST", "/graphql", headers, body)
            except (TimeoutError, TransportError, OSError) as error:
                if attempt >= 3:
                    errors[f"{type(error).__name__}: {error}"[:80]] += 1
                continue
            took = time.perf_counter() - started
            what, _ = problem(response)
            if attempt < 3:
                continue  # warm-up
            if what is not None:
                errors[what] += 1
            else:
                samples.append(took)
    finally:
        connection.close()
    return (statistics.median(samples) if samples else None), errors


async def run_phase(
    size: int,
    rate: float,
    seconds: float,
    pollers: list[Poller],
    writer: Writer,
    server_pid: int,
    data_dir: Path,
) -> Phase:
    """One phase: every poller and the writer at once for `seconds`, then the requests still
    in flight are awaited (at most `TIMEOUT`); CPU is counted over the whole of it."""
    phase = Phase(size, rate)
    dashboards = [p for p in pollers if p.kind == "dashboard"]
    learners = [p for p in pollers if p.kind == "learner"]
    before = CPU.now(server_pid, data_dir)
    start = time.perf_counter()
    deadline = start + seconds
    await asyncio.gather(
        *(p.run(phase, start + i / len(dashboards), deadline) for i, p in enumerate(dashboards)),
        *(p.run(phase, start + i / len(learners), deadline) for i, p in enumerate(learners)),
        writer.run(phase, start, deadline),
    )
    phase.elapsed = time.perf_counter() - start
    phase.server_cpu, phase.database_cpu, phase.client_cpu = CPU.now(server_pid, data_dir).since(
        before
    )
    return phase


async def measure(learners: int, dashboards: int, writes: Sequence[float], seconds: float) -> Size:
    root = Path(tempfile.mkdtemp(prefix=f"credgraph-load-{learners}-"))
    data_dir = root / "data"
    log = root / "server.log"
    try:
        started = time.perf_counter()
        admin, people = await seed(data_dir, learners)
        seeded = time.perf_counter() - started
        print(
            f"N={learners}: seeded {learners} learners x {CREDENTIALS} in {seeded:.1f} s",
            flush=True,
        )
        admin_headers = headers_for(token(admin))
        step = max(1, len(people) // LEARNER_POLLERS)
        polling = [headers_for(token(p)) for p in people[::step][:LEARNER_POLLERS]]
        submitting = [headers_for(token(p)) for p in people[1::7][:50]]
        async with serving(data_dir, log) as (port, server_pid):
            alone, alone_errors = await learner_alone(port, polling[0])
            shown = f"{alone * 1000:.1f} ms" if alone is not None else "n/a"
            print(f"N={learners}: learner query alone, median of {ALONE}: {shown}", flush=True)
            dashboard_body = graphql_body(DASHBOARD, "Dashboard")
            learner_body = graphql_body(LEARNER, "MyCredentials")
            pollers = [
                Poller("dashboard", Connection(port), admin_headers, dashboard_body)
                for _ in range(dashboards)
            ] + [Poller("learner", Connection(port), h, learner_body) for h in polling]
            writer = Writer(port, admin_headers, submitting)
            try:
                await asyncio.gather(*(p.connection.open() for p in pollers))
                # Warm-up: the dashboards share one answer (and tag) — every administrator
                # does — so one full execution gives each its tag; each learner needs its own.
                await pollers[0].poll(None)
                for poller in pollers[1:dashboards]:
                    poller.etag = pollers[0].etag
                await asyncio.gather(*(p.poll(None) for p in pollers[dashboards:]))
                phases = []
                for rate in writes:
                    phase = await run_phase(
                        learners, rate, seconds, pollers, writer, server_pid, data_dir
                    )
                    print(row(phase), flush=True)
                    phases.append(phase)
            finally:
                for poller in pollers:
                    poller.connection.close()
                writer.close()
        return Size(learners, seeded, alone, alone_errors, phases)
    except BaseException:
        print(f"server log ({log}):\n{tail(log)}", file=sys.stderr)
        raise
    finally:
        shutil.rmtree(root, ignore_errors=True)


# --- report --------------------------------------------------------------------------------

COLUMNS = (
    "learners",
    "writes/s",
    "s",
    "polls/s",
    "304 % dash / learner",
    "dash p50 ms",
    "dash p99 ms",
    "errors",
    "learner p50 ms",
    "writes ok / failed",
    "write p50 ms",
    "server CPU s",
    "DB CPU s",
    "client CPU s",
)


def cells(*values: object) -> str:
    return "| " + " | ".join(str(v) for v in values) + " |"


def ms(samples: list[float], q: float) -> str:
    if not samples:
        return "-"
    ordered = sorted(samples)
    return f"{ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000:.1f}"


def share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}" if whole else "-"


def row(phase: Phase) -> str:
    return cells(
        phase.learners,
        f"{phase.writes_per_second:g}",
        f"{phase.elapsed:.1f}",
        f"{phase.polls / phase.elapsed:.1f}" if phase.elapsed else "-",
        f"{share(phase.dashboard_304, phase.dashboard_polls)} / "
        f"{share(phase.learner_304, phase.learner_polls)}",
        ms(phase.dashboard, 0.5),
        ms(phase.dashboard, 0.99),
        f"{sum(phase.errors.values())} of {phase.polls}",
        ms(phase.learner, 0.5),
        f"{len(phase.writes)} / {sum(phase.write_errors.values())}",
        ms(phase.writes, 0.5),
        f"{phase.server_cpu:.1f}",
        f"{phase.database_cpu:.1f}",
        f"{phase.client_cpu:.1f}",
    )


def report(sizes: list[Size], dashboards: int, seconds: float) -> str:
    command = shlex.join(["python", "-m", "bench.load", *sys.argv[1:]])
    lines = [
        f"`{command}`, {datetime.now(UTC):%Y-%m-%d}, {os.cpu_count()} cores, "
        f"SecantusDB {version('SecantusDB')}.",
        "",
        f"Each phase: {dashboards} dashboards and {LEARNER_POLLERS} learners polling once a "
        f"second with If-None-Match for {seconds:g} s (s: the phase's length with in-flight "
        f"requests drained), a writer alternating a learner's submission and its approval; "
        f"{CREDENTIALS} credentials per learner, one uvicorn worker, embedded SecantusDB, "
        "default database timeout. Latencies of answered requests; errors: non-200/304, "
        f"transport failures, > {TIMEOUT:.0f} s, or GraphQL errors. CPU: seconds used during "
        "the phase by the server process, the database process(es) and this load generator.",
        "",
        cells(*COLUMNS),
        cells(*("---" for _ in COLUMNS)),
        *(row(phase) for size in sizes for phase in size.phases),
    ]
    problems = [
        f"- N = {phase.learners}, {phase.writes_per_second:g} writes/s: "
        + "; ".join(f"{what} x{n}" for what, n in (phase.errors + phase.write_errors).items())
        for size in sizes
        for phase in size.phases
        if phase.errors or phase.write_errors
    ]
    if problems:
        lines += ["", "Failures:", *problems]
    lines += ["", f"Learner query alone ({ALONE} sequential requests, no If-None-Match), median:"]
    for size in sizes:
        median = f"{size.alone_median * 1000:.1f} ms" if size.alone_median is not None else "n/a"
        failed = sum(size.alone_errors.values())
        lines.append(f"- N = {size.learners}: {median}" + (f" ({failed} failed)" if failed else ""))
    measured = [s for s in sizes if s.alone_median]
    if len(measured) >= 2:
        low, high = min(measured, key=lambda s: s.learners), max(measured, key=lambda s: s.learners)
        assert low.alone_median
        assert high.alone_median
        ratio = high.alone_median / low.alone_median
        lines.append(
            f"- N = {high.learners} vs N = {low.learners}: {ratio:.2f}x (target at most 1.5x: "
            f"{'met' if ratio <= 1.5 else 'missed'})"
        )
    return "\n".join(lines)


async def main(
    sizes: list[int], dashboards: int, writes: list[float], seconds: float, out: Path | None
) -> None:
    if not CREDGRAPH.exists():
        raise SystemExit(f"no {CREDGRAPH}: install the project into the venv (pip install -e .)")
    results = [await measure(n, dashboards, writes, seconds) for n in sizes]
    text = report(results, dashboards, seconds)
    print("\n" + text)
    path = out or Path(tempfile.gettempdir()) / f"credgraph-load-{datetime.now():%Y%m%d-%H%M%S}.md"
    path.write_text(text + "\n")
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[300, 3000], help="learners")
    parser.add_argument("--seconds", type=float, default=20, help="length of each phase")
    parser.add_argument("--writes", type=float, nargs="+", default=[0, 1, 5], help="per second")
    parser.add_argument("--pollers", type=int, default=50, help="dashboards polling")
    parser.add_argument("--out", type=Path, help="the report's file (default: a temp file)")
    args = parser.parse_args()
    asyncio.run(main(args.sizes, args.pollers, args.writes, args.seconds, args.out))
