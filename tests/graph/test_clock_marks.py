"""Every field whose answer reads the clock is marked `reads_clock()` where it is defined.

A witness listens while every query root field is asked for in full (as the authorization
matrix asks, over a world with data) and notes each field that read "now"; each must carry the
mark, or a poll could be answered 304 with a stale answer.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema_converter import GraphQLCoreConverter

from graph.app import create_app
from graph.clock import MARK, RESOLVING, WITNESS
from graph.schema import schema
from tests.conftest import Api, make_org
from tests.generated import FIELDS, document, ids_for, world

SEEN: set[tuple[str, str]] = set()


class Witness(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        token = WITNESS.set(SEEN)
        yield
        WITNESS.reset(token)

    async def resolve(
        self, _next: Callable[..., Any], root: Any, info: Any, *args: Any, **kwargs: Any
    ) -> Any:
        token = RESOLVING.set((info.parent_type.name, info.field_name))
        try:
            result = _next(root, info, *args, **kwargs)
            return await result if inspect.isawaitable(result) else result
        finally:
            RESOLVING.reset(token)


def marked() -> set[tuple[str, str]]:
    found = set()
    for type_ in schema._schema.type_map.values():
        for name, field in getattr(type_, "fields", {}).items():
            definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
            if MARK in (getattr(definition, "metadata", None) or {}):
                found.add((type_.name, name))
    return found


async def witnessed_api(settings, clock) -> AsyncIterator[Api]:
    app = create_app(settings, clock=clock, extensions=[Witness])
    async with app.router.lifespan_context(app):
        await app.state.repair
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            yield Api(http)
        await app.state.database.client.drop_database(app.state.database.db.name)


async def test_every_field_that_reads_the_clock_is_marked(settings, clock):
    async for api in witnessed_api(settings, clock):
        db = api.http._transport.app.state.database  # type: ignore[attr-defined]
        org = await make_org(db, settings, clock, "Acme Health")
        foreign = await make_org(db, settings, clock, "Other Clinic")
        made = await world(api, org, foreign)
        SEEN.clear()
        for kind, field_name in FIELDS:
            if kind != "query":
                continue
            for token in (org.token(org.learner), org.token(org.admin)):
                query, variables = document(kind, field_name, ids_for(made, "org", org.learner.id))
                await api.call(query, variables, token=token)
        assert ("CredentialAssignment", "status") in SEEN, "the witness heard nothing"
        unmarked = SEEN - marked()
        assert not unmarked, f"these read the clock but are not marked reads_clock(): {unmarked}"
