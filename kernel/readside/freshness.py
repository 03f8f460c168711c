"""Read your own writes: positions a mutation hands out and a list query can wait for.

A mutation's answer carries `position`, the head of its service's log after the write
(`rides@1234`). A list query given that token as `seen` answers only once its read model has
applied everything it takes up to there: it helps the runner along in the request's own thread
(the same safe batch a runner applies), and gives up after a bound with `NotCaughtUp`, so a
reader never waits long and never reads a list older than its own write.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from kernel.paging import InvalidPage
from kernel.readside.runner import NotCaughtUp

if TYPE_CHECKING:
    from kernel.eventstore import FederationApplication
    from kernel.readside.projection import ReadModel

READ_AFTER_TIMEOUT_S = 2.0


def position_token(service: str, position: int) -> str:
    return f"{service}@{position}"


def parse_seen(token: str, service: str) -> int:
    name, _, number = token.partition("@")
    if name != service or not number.isdigit():
        raise InvalidPage("seen", f"expected a position of the {service} service like {service}@12")
    return int(number)


def written(app: FederationApplication) -> str:
    """The position token to hand out after a command of `app`."""
    return position_token(app.service, app.head())


def read_after(
    app: FederationApplication,
    model: type[ReadModel],
    seen: str | None,
    *,
    timeout_s: float = READ_AFTER_TIMEOUT_S,
) -> str:
    """Wait (helping) until `model` has applied `seen`; return the position it has applied."""
    runner = app.runners[model]
    if seen is not None:
        wanted = parse_seen(seen, app.service)
        started = time.monotonic()
        while not runner.caught_up(wanted):
            waited = time.monotonic() - started
            if waited >= timeout_s:
                raise NotCaughtUp(runner.name, wanted, runner.position(), waited)
            if not runner.run_once():
                time.sleep(0.005)
    return position_token(app.service, runner.position())
