"""Crediting a ride costs the same after 3,000 rides as after 100: the policy loads no aggregate
that grows with history, and no aggregate's state grows (counted, not timed)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from kernel.ids import new_member_id
from tests.support.ledger import AT, completed, consume, new_app

if TYPE_CHECKING:
    from uuid import UUID

    from contributions.application import Contributions

DRIVERS = [new_member_id("demo") for _ in range(5)]  # type: ignore[arg-type]


@dataclass(frozen=True)
class Cost:
    """What crediting one more ride took, and the largest aggregate in the store after it."""

    loads: int  # aggregates the policy asked the repository for
    found: int  # ... of which existed (and were read)
    events_saved: int
    aggregates: int
    largest_version: int
    largest_state: int  # bytes of the largest aggregate's encoded state


class CountingLoads:
    """Wraps `app.repository.get` to count what a command loads."""

    def __init__(self, app: Contributions) -> None:
        self.loads = self.found = 0
        self._get = app.repository.get
        app.repository.get = self  # type: ignore[method-assign]

    def __call__(self, aggregate_id: UUID, *args: Any, **kwargs: Any) -> Any:
        self.loads += 1
        aggregate = self._get(aggregate_id, *args, **kwargs)
        self.found += 1
        return aggregate


def credit_rides(app: Contributions, start: int, n: int) -> None:
    for i in range(start, start + n):
        ride = completed(
            DRIVERS[i % 5], 800 + i % 900, Decimal(10 + i % 50), at=AT + timedelta(minutes=i)
        )
        consume(app, ride, i + 1)


def cost_of_the_next_ride(app: Contributions, position: int) -> Cost:
    counting = CountingLoads(app)
    before = app.head()
    credit_rides(app, position, 1)
    loads, found = counting.loads, counting.found
    app.repository.get = counting._get  # type: ignore[method-assign]
    largest_version = largest_state = 0
    ids = {n.originator_id for n in app.recorder.select_notifications(start=1, limit=10**6)}
    for aggregate_id in ids:
        aggregate: Any = app.repository.get(aggregate_id)  # type: ignore[arg-type]
        largest_version = max(largest_version, aggregate.version)
        largest_state = max(largest_state, len(app.mapper.transcoder.encode(vars(aggregate))))
    return Cost(loads, found, app.head() - before, len(ids), largest_version, largest_state)


def test_crediting_a_ride_loads_and_stores_the_same_after_3000_rides_as_after_100() -> None:
    app = new_app()
    credit_rides(app, 0, 100)
    early = cost_of_the_next_ride(app, 100)
    credit_rides(app, 101, 2_899)

    late = cost_of_the_next_ride(app, 3_000)

    # the policy asks for its two entries by the fact's id, finds neither, and saves both
    assert (early.loads, early.found, early.events_saved) == (2, 0, 2)
    assert (late.loads, late.found, late.events_saved) == (2, 0, 2)
    # two entries per ride, each one event, never changed; none grows with the history
    assert (early.aggregates, late.aggregates) == (2 * 101, 2 * 3_001)
    assert early.largest_version == late.largest_version == 1
    assert late.largest_state <= early.largest_state + 16  # digits of amounts, not history
    assert late.largest_state < 2_000
