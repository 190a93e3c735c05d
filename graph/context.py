"""The per-request context every resolver receives as `info.context`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from starlette.requests import Request
from starlette.responses import Response
from strawberry.types import Info as StrawberryInfo

from graph.clock import noted
from graph.settings import Settings
from resolvers.auth import Session, require_viewer
from resolvers.clock import Clock, as_utc
from resolvers.errors import DomainError
from resolvers.loaders import Loaders
from store.database import Database
from store.users import User


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

    @property
    def now(self) -> datetime:
        """The request's moment. Reading it makes an answer depend on the clock: the field
        doing so must be marked `reads_clock()` (a test watches for it)."""
        noted()
        return self._now

    def moment(self, as_of: datetime | None, *, field: str = "asOf") -> datetime:
        """The moment an answer is asked for: the client's `asOf`, else now."""
        return as_utc(as_of, field=field) if as_of is not None else self.now

    @property
    def viewer(self) -> User:
        """The authenticated caller; `UNAUTHENTICATED` (with the token's fault) otherwise."""
        if self.auth_error is not None:
            raise self.auth_error
        return require_viewer(self.session.user if self.session else None)

    @cached_property
    def loaders(self) -> Loaders:
        return Loaders.for_org(self.db, self.viewer.org_id, now=lambda: self.now)


Info = StrawberryInfo[Context, None]
