"""Relay-style connections for GraphQL lists: `first`, `after`, `edges { cursor node }`,
`pageInfo`. Built from a `kernel.paging.Page`; every paged list of every service uses these."""

from __future__ import annotations

from typing import TYPE_CHECKING, Generic, Self, TypeVar

import strawberry

if TYPE_CHECKING:
    from collections.abc import Callable

    from kernel.paging import Page

T = TypeVar("T")
R = TypeVar("R")


@strawberry.type(description="Where a page ends; pass `endCursor` as `after` for the next one.")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type(
    description=(
        "One page of a list. `asOf` is the position of the service's log the list had applied "
        "when it was read; pass a mutation's `position` as `seen` to read your own writes."
    )
)
class Connection(Generic[T]):
    edges: list[Edge[T]]
    # Data, not a resolver: strawberry tells a generic type's members of a union apart by
    # reading its generic fields' values, and a resolver's value is a bound method.
    nodes: list[T] = strawberry.field(
        description="The nodes of `edges`, for clients that need no cursors."
    )
    page_info: PageInfo
    as_of: str

    @classmethod
    def of(cls, page: Connection[T]) -> Self:
        """`page` as this concrete subclass (`class RideConnection(Connection[RideView])`):
        strawberry tells the members of a union apart by their class."""
        return cls(edges=page.edges, nodes=page.nodes, page_info=page.page_info, as_of=page.as_of)


def connection(
    page: Page[R], to_node: Callable[[R], T], *, as_of: str, after: str | None = None
) -> Connection[T]:
    edges = [
        Edge(cursor=c, node=to_node(item)) for item, c in zip(page.items, page.cursors, strict=True)
    ]
    return Connection(
        edges=edges,
        nodes=[e.node for e in edges],
        page_info=PageInfo(
            has_next_page=page.has_next,
            has_previous_page=after is not None,
            start_cursor=page.cursors[0] if page.cursors else None,
            end_cursor=page.end_cursor,
        ),
        as_of=as_of,
    )
