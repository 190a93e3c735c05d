"""The per-request context every resolver receives as `info.context`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from graphql import OperationType
from starlette.requests import Request
from starlette.responses import Response
from strawberry.types import Info as StrawberryInfo

from graph.freshness import Freshness, Moment
from graph.gate import Prepared
from graph.loaders import Loaders
from graph.settings import Settings
from resolvers.auth import Caller, Session, require_viewer
from resolvers.clock import Clock, as_utc
from resolvers.errors import DomainError, role_required
from store.database import Database


@dataclass
class Context:
    request: Request
    response: Response
    db: Database
    settings: Settings
    clock: Clock
    _now: datetime
    session: Session | None = None
    auth_error: DomainError | None = field(default=None)
    prepared: Prepared | None = None  # the document as the gate parsed and measured it

    @property
    def now(self) -> datetime:
        """The request's moment. Reading it makes the answer true for this second only; a
        resolver that knows when its part next changes uses `when` and `lasts` instead."""
        self.freshness.claim_second()
        return self._now

    @property
    def started(self) -> datetime:
        """The request's moment for bookkeeping that is not part of the answer (a token's
        expiry, a write's timestamp): reading it claims nothing."""
        return self._now

    def when(self, as_of: datetime | None, *, field: str = "asOf") -> Moment:
        """The moment an answer is asked for: the client's `asOf`, else now — until settled
        with `lasts`, an answer at now is true for this second only."""
        if as_of is not None:
            return Moment(as_utc(as_of, field=field), live=False)
        return self.freshness.open()

    def lasts(self, moment: Moment, until: datetime | None) -> None:
        """What was computed at `moment` stays true until `until` (see `graph.freshness`)."""
        self.freshness.settle(moment, until)

    def moment(self, as_of: datetime | None, *, field: str = "asOf") -> datetime:
        """The moment an answer is asked for, true for this second only when it is now."""
        return self.when(as_of, field=field).at

    @cached_property
    def freshness(self) -> Freshness:
        return Freshness(self._now)

    @property
    def viewer(self) -> Caller:
        """The authenticated caller; `UNAUTHENTICATED` (with the token's fault) otherwise."""
        if self.auth_error is not None:
            raise self.auth_error
        caller = require_viewer(self.session.caller if self.session else None)
        if not caller.may_query and self.prepared and self.prepared.kind is OperationType.QUERY:
            raise role_required("this API token may run no query: only a READ token may")
        return caller

    @cached_property
    def loaders(self) -> Loaders:
        return Loaders.for_org(
            self.db, self.viewer.org_id, now=self.started, secret=self.settings.secret
        )


Info = StrawberryInfo[Context, None]
