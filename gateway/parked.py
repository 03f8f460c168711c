"""The board's list of parked messages, across every service this gateway runs.

A consumer parks a message it cannot apply (an unknown version, a bad payload) instead of
stopping, and every service keeps its own `ParkedMessages` read model. The board needs one list:
the services' pages merged by (parked_at, id), each row naming its service, paged with one
cursor across them all. `service:` narrows it to one.
"""

from __future__ import annotations

import heapq
from datetime import datetime  # noqa: TC003 (strawberry resolves annotations at runtime)
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from starlette.concurrency import run_in_threadpool
from strawberry.types import Info  # noqa: TC002 (strawberry reads resolver hints at runtime)

from kernel.api import Context, InvalidInput, NotAuthenticated, NotAuthorized, NotCaughtUp
from kernel.connections import Connection, connection
from kernel.eventstore import FederationApplication
from kernel.paging import InvalidPage, Page, encode_cursor, page_request
from kernel.parking import ORDER, ParkedMessages
from kernel.readside.freshness import position_token, read_after
from kernel.readside.runner import NotCaughtUp as Behind

if TYPE_CHECKING:
    from kernel.parking import ParkedRow


@strawberry.type(name="ParkedMessage")
class ParkedMessageView:
    id: str
    service: str = strawberry.field(description="The service whose consumer parked it.")
    parked_at: datetime
    reason: str
    topic: str
    partition: int
    offset: int
    event_type: str | None
    source_log: str | None

    @classmethod
    def of(cls, service: str, row: ParkedRow) -> ParkedMessageView:
        return cls(
            id=row.id,
            service=service,
            parked_at=row.parked_at,
            reason=row.reason,
            topic=row.topic,
            partition=row.partition,
            offset=row.offset,
            event_type=row.event_type,
            source_log=row.source_log,
        )


@strawberry.type(name="ParkedMessageConnection")
class ParkedMessageConnection(Connection[ParkedMessageView]):
    """`Connection[ParkedMessageView]` made concrete, so the result union tells it apart by
    type (`Connection.of`)."""


ParkedMessagesResult = Annotated[
    ParkedMessageConnection | InvalidInput | NotCaughtUp | NotAuthenticated | NotAuthorized,
    strawberry.union("ParkedMessagesResult"),
]


def _services(context: Context, only: str | None) -> list[FederationApplication]:
    apps = sorted(
        (a for a in context.apps.values() if isinstance(a, FederationApplication)),
        key=lambda a: a.service,
    )
    if only is None:
        return apps
    chosen = [a for a in apps if a.service == only]
    if not chosen:
        names = ", ".join(a.service for a in apps)
        raise InvalidPage("service", f"no service {only!r} here; the services are {names}")
    return chosen


def parked_page(
    apps: list[FederationApplication],
    *,
    first: int | None,
    after: str | None,
    seen: str | None,
) -> Connection[ParkedMessageView]:
    """Every service's parked messages, oldest first, merged; `seen` (a position of one of
    them, `rides@12`) waits for that service's list."""
    request = page_request(first, after, arity=len(ORDER))
    positions = []
    for app in apps:
        app.catch_up(ParkedMessages)
        mine = seen if seen is not None and seen.partition("@")[0] == app.service else None
        positions.append(read_after(app, ParkedMessages, mine))
    if seen is not None and not any(seen.partition("@")[0] == a.service for a in apps):
        raise InvalidPage("seen", f"{seen!r} is not a position of a service listed here")
    # Each service's next rows after the cursor; the merge keeps the global order.
    runs: list[list[tuple[Any, ...]]] = [
        [
            (row.parked_at, row.id, app.service, row)
            for row in app.parked_messages(first=request.first + 1, after=request.after)
        ]
        for app in apps
    ]
    merged = list(heapq.merge(*runs, key=lambda r: (r[0], r[1])))
    shown = merged[: request.first]
    page = Page(
        items=[(service, row) for _, _, service, row in shown],
        cursors=[encode_cursor([parked_at, id_]) for parked_at, id_, _, _ in shown],
        has_next=len(merged) > request.first,
    )
    return connection(
        page, lambda item: ParkedMessageView.of(*item), as_of=",".join(positions), after=after
    )


@strawberry.type
class ParkedQuery:
    @strawberry.field(
        description="Messages the services' consumers parked (could not apply), oldest first, "
        "each naming its service; `service` narrows it to one. For the board."
    )
    async def parked_messages(
        self,
        info: Info[Context, None],
        first: int | None = None,
        after: str | None = None,
        seen: str | None = None,
        service: str | None = None,
    ) -> ParkedMessagesResult:
        def read() -> ParkedMessageConnection:
            apps = _services(info.context, service)
            return ParkedMessageConnection.of(
                parked_page(apps, first=first, after=after, seen=seen)
            )

        try:
            return await run_in_threadpool(read)
        except InvalidPage as exc:
            return InvalidInput(message=str(exc), field=exc.field)
        except Behind as exc:
            waited_on = (seen or "").partition("@")[0]  # only `seen`'s service is waited for
            return NotCaughtUp(
                message=str(exc),
                read_model=exc.read_model,
                seen=position_token(waited_on, exc.position),
                as_of=position_token(waited_on, exc.reached),
            )
