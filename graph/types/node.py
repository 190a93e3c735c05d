"""The `Node` interface: every entity has an opaque global id that `node(id:)` resolves.

Entity types register here by name, so a type can reach another at run time (`Enrollment.learner`
needs `User`) without the modules importing each other.
"""

from __future__ import annotations

from typing import Any, TypeVar

import strawberry


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
