"""GraphQL documents run off the server's event loop, each within a time budget.

Parsing, validating and some resolvers are synchronous Python (a fare quote computes on the
spot): on the server's loop, one heavy request would hold every other request, `/health`
included, until it ends. So each document runs on one of a few threads with an event loop of
their own (the least busy one), and the server's loop only waits for the answer. The GIL is
shared, but Python hands it over every few milliseconds, so `/health` and light requests
still answer while a heavy one computes.

The budget is kept from the server's loop: past it, the client gets a `TIME_BUDGET_EXCEEDED`
error at once, and the document's task is cancelled on its own loop, which stops it at its
next `await` (a resolver already calling a command in a thread finishes that command, which
is atomic, and nothing after it starts).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
from typing import TYPE_CHECKING, Any, TypeVar

from graphql import GraphQLError

if TYPE_CHECKING:
    from collections.abc import Coroutine

T = TypeVar("T")
log = logging.getLogger(__name__)

BUDGET_CODE = "TIME_BUDGET_EXCEEDED"


class BudgetExceeded(GraphQLError):
    """The request ran past its time budget and was cut off."""

    def __init__(self, budget_s: float) -> None:
        super().__init__(
            f"the request ran longer than its budget of {budget_s:g} s and was cut off; "
            "a mutation that had started may have completed, nothing after it ran",
            extensions={"code": BUDGET_CODE, "budgetSeconds": budget_s},
        )


class _Lane:
    """One thread running one event loop."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.busy = 0  # documents in flight; read and written on the server's loop only
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()
        # Stopped: let the resolvers' worker threads (anyio's) finish, then close.
        self.loop.run_until_complete(self.loop.shutdown_default_executor())
        self.loop.close()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


class Executor:
    """Runs coroutines on `threads` event loops, each on its own thread."""

    def __init__(self, threads: int) -> None:
        self._threads = threads
        self._lanes: list[_Lane] = []

    def start(self) -> None:
        self._lanes = [_Lane(f"graphql-{i}") for i in range(self._threads)]

    def stop(self) -> None:
        lanes, self._lanes = self._lanes, []
        for lane in lanes:
            lane.stop()

    async def run(self, coroutine: Coroutine[Any, Any, T], *, budget_s: float) -> T:
        """Run `coroutine` on the least busy lane with the caller's context variables.

        Raises BudgetExceeded after `budget_s` seconds (the coroutine is then cancelled).
        """
        if not self._lanes:  # not started (an app used without its lifespan): run here
            try:
                return await asyncio.wait_for(coroutine, budget_s)
            except TimeoutError:
                raise BudgetExceeded(budget_s) from None
        lane = min(self._lanes, key=lambda lane: lane.busy)
        context = contextvars.copy_context()
        future = asyncio.run_coroutine_threadsafe(_in_context(coroutine, context), lane.loop)
        lane.busy += 1
        try:
            # Cancelled on time-out, which cancels the task on its own loop at its next await.
            return await asyncio.wait_for(asyncio.wrap_future(future), budget_s)
        except TimeoutError:
            raise BudgetExceeded(budget_s) from None
        finally:
            lane.busy -= 1


async def _in_context(coroutine: Coroutine[Any, Any, T], context: contextvars.Context) -> T:
    """Await `coroutine` in a task that runs in `context` (the request's correlation id)."""
    task = asyncio.get_running_loop().create_task(coroutine, context=context)
    return await task
