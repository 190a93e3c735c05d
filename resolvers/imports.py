"""Imports of training history from CSV: received, run in the background, resumed.

The upload streams into GridFS (`store.documents`) as it arrives, bounded in size, and the
import is created RUNNING: the request answers at once and a background task of this process
works through the file. It reads the stored file chunk by chunk (`resolvers.csv_reading`), a
batch of rows at a time: the batch's learners in one read, its records in one `insert_many`
(each keyed by what the row says, so a row already applied — by this import before a restart,
or by an earlier upload of the same file — is skipped, never applied twice), its learners'
cycles derived (`resolvers.assignments.settle`), then its row results and the progress after
it in one write. Memory holds one batch, whatever the file's size.

An administrator's rows become approved records at once (history the organization vouches
for); a `RECORDS_WRITE` token's wait for review, as its single submissions do. Nobody is
notified per row: a thousand "record approved" messages about last year's training would bury
the ones that matter. Managers do not import (an import crosses groups).

A process that stops gives its imports up (`Runs.stop`) and the next start-up resumes them
after their last written batch; one that dies holds them until its lease lapses, and the
scheduler's next tick (or a start-up after that) resumes them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime

from resolvers import audit, writes
from resolvers.assignments import settle
from resolvers.audit import Action
from resolvers.auth import Caller, require_viewer
from resolvers.clock import Clock
from resolvers.csv_reading import Parsed, Reader, RecordTooLong, Utf16, not_utf8
from resolvers.errors import Code, DomainError, invalid, role_required
from resolvers.import_rows import Catalogue, Columns, Draft, checked, record_doc
from resolvers.pages import Cursors, Page
from resolvers.text import bounded
from store import credentials, documents, imports, labels, records, users
from store.api_tokens import Scope
from store.database import Database
from store.errors import StoreError
from store.imports import Counts, Import, ImportStatus, Outcome, RowResult
from store.records import KeyHolder, RecordStatus

log = logging.getLogger(__name__)

MAX_FILE = 50 * 1024 * 1024
MAX_ROWS = 200_000
BATCH = 500
SETTLE_AT_ONCE = 25  # learners derived in one call: their histories are read whole
MAX_STALLS = 5  # takeovers without a batch written, before the import fails rather than loop


def require_importer(viewer: Caller | None) -> Caller:
    """Administrators and `RECORDS_WRITE` tokens; everyone else is refused at the door."""
    caller = require_viewer(viewer)
    if not (caller.is_admin or caller.has(Scope.RECORDS_WRITE)):
        raise role_required("only an administrator or a RECORDS_WRITE token may import records")
    return caller


def too_large(limit: int) -> DomainError:
    return invalid(Code.FILE_TOO_LARGE, f"an import is at most {limit:,} bytes", "file")


async def receive(
    db: Database,
    caller: Caller,
    body: AsyncIterator[bytes],
    *,
    filename: str | None,
    runner: str,
    now: datetime,
    limit: int,
) -> Import:
    """Store the uploaded file as it arrives and create its import; `FILE_TOO_LARGE` past
    `limit` (and nothing kept of it)."""
    name = bounded((filename or "").strip() or "import.csv", field="filename", limit=200)
    upload = documents.Spooled(db, caller.org_id, name, "text/csv")
    size = 0
    try:
        async for chunk in body:
            size += len(chunk)
            if size > limit:
                raise too_large(limit)
            await upload.write(chunk)
        file_id = await upload.finish()
    except BaseException:
        await upload.abort()
        raise
    if size == 0:
        await documents.delete(db, file_id=file_id)
        raise invalid(Code.EMPTY_FILE, "the file is empty", "file")
    made = audit.event(
        caller,
        Action.IMPORT_TRAINING_RECORDS,
        "Import",
        now=now,
        changes=audit.created({"filename": name, "size": size}),
    )
    return await imports.create(
        db, org_id=caller.org_id, file_id=file_id, filename=name, size=size,
        created_by=caller.id, by_token=caller.user is None, runner=runner, now=now, event=made,
    )  # fmt: skip


@dataclass
class Runs:
    """The imports this process runs, each a background task kept referenced until it ends."""

    db: Database
    clock: Clock
    runner: str = field(default_factory=lambda: uuid.uuid4().hex)
    tasks: dict[str, asyncio.Task[None]] = field(default_factory=dict)

    def start(self, found: Import) -> None:
        task = asyncio.create_task(self._run(found), name=f"import {found.id}")
        self.tasks[found.id] = task
        task.add_done_callback(lambda _: self.tasks.pop(found.id, None))

    async def resume(self) -> int:
        """Take over the imports no process holds; how many."""
        taken = 0
        for import_id in await imports.unclaimed(self.db):
            if import_id in self.tasks:
                continue
            found = await imports.claim(self.db, id=import_id, runner=self.runner)
            if found is None:
                continue
            if found.stalls > MAX_STALLS:
                await imports.finish(
                    self.db, import_=found, runner=self.runner, status=ImportStatus.FAILED,
                    now=self.clock.now(), error_code=Code.SERVICE_UNAVAILABLE.value,
                    error_message=f"the same batch was taken over {MAX_STALLS} times without "
                    "getting through (the database did not answer in time): the rows before it "
                    "are applied; upload the file again to go on",
                )  # fmt: skip
                continue
            self.start(found)
            taken += 1
        return taken

    async def watch(self, every: float) -> None:
        """Resume, every `every` seconds, what a process that died left held (its lease lapsed)."""
        while True:
            await asyncio.sleep(every)
            try:
                await self.resume()
            except StoreError as error:
                log.warning("imports: %s", error)

    async def stop(self) -> None:
        """Stop every import and give it up, for the next start-up to resume."""
        running = list(self.tasks.values())
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)

    async def _run(self, found: Import) -> None:
        try:
            await Run(self.db, self.clock, found, self.runner).through()
        except asyncio.CancelledError:
            with contextlib.suppress(StoreError):
                await imports.release(self.db, id=found.id, runner=self.runner)
            raise
        except StoreError as error:  # the database is away: the lease lapses, a tick resumes
            log.warning("import %s paused: %s", found.id, error)
        except Exception:
            log.exception("import %s failed", found.id)
            with contextlib.suppress(StoreError):
                await imports.finish(
                    self.db, import_=found, runner=self.runner, status=ImportStatus.FAILED,
                    now=self.clock.now(), error_code=Code.INTERNAL_SERVER_ERROR.value,
                    error_message="the import stopped on an unexpected error",
                )  # fmt: skip


class Run:
    """One pass through an import's file, from the row after its last written batch."""

    def __init__(self, db: Database, clock: Clock, found: Import, runner: str) -> None:
        self.db = db
        self.clock = clock
        self.found = found
        self.runner = runner
        self.counts = found.counts
        self.columns: Columns | None = None
        self.catalogue: Catalogue | None = None
        self.batch: list[Parsed] = []

    async def through(self) -> None:
        org_id = self.found.org_id
        chunks = await documents.spooled_chunks(self.db, org_id=org_id, file_id=self.found.file_id)
        if chunks is None:
            await self._fail(Code.NOT_FOUND, "the uploaded file is gone")
            return
        self.catalogue = Catalogue(
            await labels.list_all(self.db, org_id=org_id),
            await credentials.all_of(self.db, org_id=org_id),
        )
        reader = Reader()
        try:
            async for chunk in chunks:
                for parsed in reader.feed(chunk):
                    if not await self._take(parsed):
                        return
            for parsed in reader.feed(b"", final=True):
                if not await self._take(parsed):
                    return
        except RecordTooLong as error:
            await self._flush()
            await self._fail(Code.ROW_TOO_LONG, str(error))
            return
        except Utf16:
            await self._fail(Code.NOT_UTF8, "the file is UTF-16: save it as CSV UTF-8")
            return
        if self.columns is None:
            await self._fail(Code.EMPTY_FILE, "the file has no header row")
            return
        if await self._flush():
            await imports.finish(
                self.db, import_=self.found, runner=self.runner, status=ImportStatus.DONE,
                now=self.clock.now(),
            )  # fmt: skip

    async def _take(self, parsed: Parsed) -> bool:
        """Take one record of the file; False when the run must stop."""
        blank = not any(cell.strip() for cell in parsed.cells) and parsed.error is None
        if blank:
            return True
        if self.columns is None:
            if not_utf8(parsed.cells):  # an old code page: no column is readable
                await self._fail(Code.NOT_UTF8, "the file is not UTF-8: save it as CSV UTF-8")
                return False
            try:
                self.columns = Columns.of(parsed.cells)
            except DomainError as error:
                await self._fail(error.code, error.message)
                return False
            return True
        if parsed.line <= self.found.position:
            return True  # its batch was written before a restart
        if self.counts.read >= MAX_ROWS:
            await self._flush()
            await self._fail(Code.TOO_MANY_ROWS, f"an import has at most {MAX_ROWS} rows")
            return False
        self.counts = _add(self.counts, read=1)
        self.batch.append(parsed)
        if len(self.batch) >= BATCH:
            return await self._flush()
        return True

    async def _flush(self) -> bool:
        """Apply the batch and write its progress; False when the lease was lost."""
        if not self.batch:
            return True
        batch, self.batch = self.batch, []
        now = self.clock.now()
        results, drafts = [], []
        assert self.columns is not None
        assert self.catalogue is not None
        for parsed in batch:
            try:
                drafts.append(checked(parsed, self.columns, self.catalogue, today=now.date()))
            except DomainError as error:
                results.append(RowResult(parsed.line, Outcome.ERROR, error.code, error.message))
        async with writes.one_change(self.db):  # its feed events in order, one data version
            results += await self._apply(drafts, now)
        failed = sum(1 for r in results if r.outcome is Outcome.ERROR)
        duplicates = sum(1 for r in results if r.outcome is Outcome.DUPLICATE)
        self.counts = _add(
            self.counts, applied=len(batch) - failed - duplicates, duplicates=duplicates,
            failed=failed,
        )  # fmt: skip
        return await imports.progress(
            self.db, import_=self.found, runner=self.runner, counts=self.counts,
            position=batch[-1].line, results=sorted(results, key=lambda r: r.line),
        )  # fmt: skip

    async def _apply(self, drafts: list[Draft], now: datetime) -> list[RowResult]:
        """Insert the drafts' records (those whose learner exists), settle their learners;
        the results of the rows not applied."""
        org_id, found = self.found.org_id, self.found
        people = {
            u.email: u
            for u in await users.by_emails(
                self.db, org_id=org_id, emails=sorted({d.email for d in drafts})
            )
        }
        results, docs, lines = [], [], []
        for draft in drafts:
            learner = people.get(draft.email)
            if learner is None:
                message = f"no one in the organization has the email {draft.email}"
                results.append(RowResult(draft.line, Outcome.ERROR, Code.UNKNOWN_LEARNER, message))
                continue
            docs.append(
                record_doc(
                    draft, learner, org_id=org_id, import_id=found.id,
                    submitted_by=found.created_by, approved=not found.by_token, now=now,
                )
            )  # fmt: skip
            lines.append(draft.line)
        taken = await records.insert_imported(self.db, docs=docs)
        if taken:
            keys = [docs[i]["importKey"] for i in sorted(taken)]
            holders = await records.by_import_keys(self.db, org_id=org_id, keys=keys)
            for i in sorted(taken):
                holder = holders.get(docs[i]["importKey"])  # None: its record went meanwhile
                if holder is None or (holder.import_id, holder.line) != (found.id, lines[i]):
                    # another row's record (this row's own, written before a restart, is applied)
                    results.append(
                        RowResult(lines[i], Outcome.DUPLICATE, None, _duplicate(holder),
                                  holder and holder.record_id)
                    )  # fmt: skip
        # Every learner of the batch, duplicates' too: a batch a crash interrupted after its
        # insert is settled when it is written again.
        learners = sorted({doc["learnerId"] for doc in docs})
        for start in range(0, len(learners), SETTLE_AT_ONCE):
            chunk = learners[start : start + SETTLE_AT_ONCE]
            await settle(self.db, org_id=org_id, learner_ids=chunk, now=now)
        return results

    async def _fail(self, code: Code, message: str) -> None:
        await imports.finish(
            self.db, import_=self.found, runner=self.runner, status=ImportStatus.FAILED,
            now=self.clock.now(), error_code=code.value, error_message=message,
        )  # fmt: skip


def _duplicate(holder: KeyHolder | None) -> str:
    """Why a row was not applied again: said plainly when its record does not count (a
    reviewer declined it, or it waits for review), since importing it again changes nothing."""
    said = "this row was already imported"
    if holder is None or holder.status is RecordStatus.APPROVED:
        return said
    return f"{said}, and its record is {holder.status.value}: review that record instead"


def _add(counts: Counts, *, read: int = 0, applied: int = 0, duplicates: int = 0,
         failed: int = 0) -> Counts:  # fmt: skip
    return Counts(
        counts.read + read, counts.applied + applied, counts.duplicates + duplicates,
        counts.failed + failed,
    )  # fmt: skip


def visible(viewer: Caller | None, found: Import | None) -> Import | None:
    """Administrators and `READ` tokens see the organization's imports; a token sees the
    ones it made."""
    caller = require_viewer(viewer)
    if found is None or found.org_id != caller.org_id:
        return None
    if caller.reads_organization or found.created_by == caller.id:
        return found
    return None


async def get(db: Database, viewer: Caller | None, import_id: str) -> Import | None:
    caller = require_viewer(viewer)
    return visible(caller, await imports.get(db, org_id=caller.org_id, id=import_id))


async def import_page(
    db: Database, viewer: Caller | None, *, first: int | None, after: str | None
) -> Page[Import]:
    """Administrators and `READ` tokens: the organization's imports, newest first."""
    caller = require_viewer(viewer)
    if not caller.reads_organization:
        raise role_required("only an administrator may see imports")
    cursors = Cursors("imports")
    size, last = cursors.keyset(first, after)
    fetched = await imports.page(db, org_id=caller.org_id, before=last, limit=size + 1)
    total = await imports.count(db, org_id=caller.org_id)
    return Page.of(fetched, size, total, lambda i: cursors.encode(i.id))


async def row_page(
    db: Database, found: Import, *, first: int | None, after: str | None
) -> Page[RowResult]:
    """The rows of a visible import that were not applied, in file order."""
    cursors = Cursors("importRows", found.id)
    size, last = cursors.keyset(first, after)
    if last is not None and not last.isdigit():
        raise invalid(Code.INVALID_CURSOR, "this cursor was not issued for this list", "after")
    total = found.counts.duplicates + found.counts.failed  # every row not applied has one
    fetched: list[RowResult] = []
    if total:  # else every row was applied: nothing to read
        fetched = await imports.row_results(
            db, org_id=found.org_id, import_id=found.id,
            after=int(last) if last is not None else None, limit=size + 1, end=found.position,
        )  # fmt: skip
    return Page.of(fetched, size, total, lambda r: cursors.encode(str(r.line)))
