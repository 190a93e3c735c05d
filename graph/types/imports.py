"""`Import`: one CSV upload of training history, its progress, and its rows' results."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Self

import strawberry

from graph import ids
from graph.context import Info
from graph.enums import Code, ImportStatus, Outcome
from graph.types.connection import Connection
from graph.types.node import Node, entity, named, node_type
from resolvers import imports as import_resolvers
from store import imports as import_store

if TYPE_CHECKING:
    from graph.types.record import TrainingRecord
    from graph.types.user import User


@strawberry.type(description="A row of an import that was not applied, and why.")
class ImportRow:
    line: int = strawberry.field(
        description="The line of the file the row begins on (the header is line 1)."
    )
    outcome: Outcome
    code: Code | None = strawberry.field(description="Why the row was refused (ERROR).")
    message: str | None
    result: strawberry.Private[import_store.RowResult]

    @classmethod
    def from_record(cls, result: import_store.RowResult) -> Self:
        return cls(
            line=result.line,
            outcome=result.outcome,
            code=Code(result.code) if result.code else None,
            message=result.message,
            result=result,
        )

    @strawberry.field(description="DUPLICATE: the record that already says what the row says.")
    async def record(
        self, info: Info
    ) -> Annotated[TrainingRecord, strawberry.lazy("graph.types.record")] | None:
        if self.result.record_id is None:
            return None
        return await node_type("TrainingRecord").load(info, self.result.record_id)


@entity
@strawberry.type(
    description="A CSV upload of training history (`POST /imports`), worked through in the "
    "background: poll it for progress. Administrators and READ tokens see every import."
)
class Import(Node):
    filename: str
    size: int = strawberry.field(description="The file's size in bytes.")
    status: ImportStatus
    created_at: datetime
    finished_at: datetime | None
    rows_read: int = strawberry.field(
        description="Rows read so far (the header and blank lines aside)."
    )
    applied: int = strawberry.field(description="Rows that became training records.")
    duplicates: int = strawberry.field(
        description="Rows skipped because a record already says the same (this file or an "
        "earlier one): applied once, never twice."
    )
    failed: int = strawberry.field(description="Rows refused; `rows` says why.")
    error_code: Code | None = strawberry.field(
        description="FAILED: why the file could not be read on."
    )
    error_message: str | None
    record: strawberry.Private[import_store.Import]

    @classmethod
    def from_record(cls, found: import_store.Import) -> Self:
        return cls(
            id=strawberry.ID(ids.encode("Import", found.id)),
            filename=found.filename,
            size=found.size,
            status=found.status,
            created_at=found.created_at,
            finished_at=found.finished_at,
            rows_read=found.counts.read,
            applied=found.counts.applied,
            duplicates=found.counts.duplicates,
            failed=found.counts.failed,
            error_code=Code(found.error_code) if found.error_code else None,
            error_message=found.error_message,
            record=found,
        )

    @classmethod
    async def load(cls, info: Info, db_id: str) -> Self | None:
        ctx = info.context
        found = await import_resolvers.get(ctx.db, ctx.viewer, db_id)
        return cls.from_record(found) if found else None

    @strawberry.field(description="Who uploaded it (null: an API token).")
    async def created_by(
        self, info: Info
    ) -> Annotated[User, strawberry.lazy("graph.types.user")] | None:
        return None if self.record.by_token else await named(info, self.record.created_by)

    @strawberry.field(
        description="The rows not applied — refused (ERROR) or already imported (DUPLICATE) — "
        "in file order."
    )
    async def rows(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[ImportRow]:
        page = await import_resolvers.row_page(
            info.context.db, self.record, first=first, after=after
        )
        return Connection.of(page, ImportRow.from_record)
