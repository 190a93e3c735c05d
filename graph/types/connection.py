"""Relay connections over keyset pages: `edges { cursor node }`, `pageInfo`, `totalCount`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, Self, TypeVar

import strawberry

from resolvers.pages import Page

T = TypeVar("T")
R = TypeVar("R")


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    total_count: int

    @classmethod
    def of(cls, page: Page[R], wrap: Callable[[R], T]) -> Self:
        edges = [Edge(cursor=page.cursor(item), node=wrap(item)) for item in page.items]
        return cls(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next, end_cursor=edges[-1].cursor if edges else None
            ),
            total_count=page.total,
        )
