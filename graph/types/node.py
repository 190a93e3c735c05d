"""The `Node` interface: every entity has an opaque global id that `node(id:)` resolves.

Entity types register here by name, so a type can reach another at run time (`Enrollment.learner`
needs `User`) without the modules importing each other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

import strawberry

if TYPE_CHECKING:
    from graph.context import Info


@strawberry.interface(description="An object with a global id, resolvable through `node(id:)`.")
class Node:
    id: strawberry.ID


T = TypeVar("T", bound=type)
NODE_TYPES: dict[str, Any] = {}


def entity(cls: T) -> T:
    """Register a Node type under its GraphQL name."""
    NODE_TYPES[cls.__name__] = cls
    return cls


def node_type(name: str) -> Any:
    return NODE_TYPES[name]


async def named(info: Info, user_id: str | None) -> Any:
    """The `User` named on something the caller has (whose it is, who submitted, reviewed,
    exempted or granted it): whoever has it may know, whatever that user's role now; None for
    no one, or an API token."""
    if user_id is None:
        return None
    found = await info.context.loaders.users_by_id.load(user_id)
    return node_type("User").from_record(found) if found else None
