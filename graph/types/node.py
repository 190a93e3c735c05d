"""The `Node` interface: every entity has an opaque global id that `node(id:)` resolves."""

from __future__ import annotations

import strawberry


@strawberry.interface(description="An object with a global id, resolvable through `node(id:)`.")
class Node:
    id: strawberry.ID
