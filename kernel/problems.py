"""The refusals every service's GraphQL answers alike, and running a resolver's work off the loop.

Each service maps its own domain errors to its own problem types (`RideNotInState`,
`VotingClosed`, ...). What they all share is mapped once here: a bad page argument or id is
`InvalidInput` naming the field, and a read model that has not reached the `seen` position in
time is `NotCaughtUp` with both positions as the service's tokens. `call` runs a synchronous
application call in the thread pool and answers an expected failure with its problem.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from starlette.concurrency import run_in_threadpool

from kernel.api import InvalidInput, NotCaughtUp
from kernel.ids import InvalidId
from kernel.paging import InvalidPage
from kernel.readside import NotCaughtUp as Behind
from kernel.readside.freshness import position_token

if TYPE_CHECKING:
    from collections.abc import Callable

T = TypeVar("T")
P = TypeVar("P")


def shared_problem(
    exc: Exception, service: str, *, id_field: str = "id"
) -> InvalidInput | NotCaughtUp | None:
    """The problem for a failure every service shares, or None. `id_field` names the input a
    malformed id came in (default `id`)."""
    message = str(exc)
    match exc:
        case InvalidPage(field=field):
            return InvalidInput(message=message, field=field)
        case InvalidId():
            return InvalidInput(message=message, field=id_field)
        case Behind(read_model=read_model, position=position, reached=reached):
            return NotCaughtUp(
                message=message,
                read_model=read_model,
                seen=position_token(service, position),
                as_of=position_token(service, reached),
            )
    return None


async def call(work: Callable[[], T], problem: Callable[[Exception], P | None]) -> T | P:
    """Run `work` in the thread pool (the applications are synchronous); an exception that
    `problem` maps is answered with its problem, any other is raised (a bug, not a refusal)."""

    def run() -> T | P:
        try:
            return work()
        except Exception as exc:
            found = problem(exc)
            if found is None:
                raise
            return found

    return await run_in_threadpool(run)
