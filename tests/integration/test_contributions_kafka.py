"""Contributions on the scale-out path: PostgreSQL stores and a real Kafka-protocol broker (Tansu).

- a completed ride's events reach a `muni worker contributions` process over the broker: the
  driver's credit lines and the ledger's balances appear, and the ride delivered twice (a relay
  that lost its position publishes it again) is credited once;
- a ratified value equation reaches contributions as `decisions.PolicyChanged` on the broker and
  is adopted once (the same body as the in-process broker's unit test).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from contributions.application import Contributions
from contributions.domain import member_account
from kernel.bus.kafka import KafkaBus
from kernel.bus.offsets import OffsetReader
from kernel.bus.relay import Relay
from kernel.paging import PageRequest
from kernel.time import FixedClock
from services.rides import published
from services.rides.application import Rides
from tests.integration.conftest import (
    DRIVER,
    complete_rides,
    eventually,
    scale_env,
    start_driver,
)
from tests.support.adoption import AdoptionFlow, check_a_ratified_equation_is_adopted_once
from tests.support.rides import NEAREST

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from kernel.config import Settings
    from tests.support.servers import MuniProcess

pytestmark = pytest.mark.integration


def ledger_of(
    contributions: Contributions,
) -> tuple[list[tuple[str, Decimal, str]], dict[str, Decimal]]:
    """The driver's credit lines (memo, credit, unit) and every account's balance."""
    ledger, _ = contributions.ledger()
    lines = ledger.member_lines(DRIVER, PageRequest(100, None)).items
    accounts = ledger.accounts(PageRequest(100, None)).items
    return (
        sorted((line.memo, -line.amount, line.unit) for line in lines),
        {f"{a.account} {a.unit}": a.balance for a in accounts},
    )


def test_a_completed_ride_is_credited_once_by_the_contributions_worker(
    scale_settings: Settings,
    postgres_dsn: str,
    muni_processes: Callable[..., MuniProcess],
) -> None:
    # the contributions worker runs in its own process, as `muni worker contributions` does
    muni_processes(
        ["worker", "contributions"], env=scale_env(scale_settings, postgres_dsn), name="worker"
    )
    clock = FixedClock()
    rides = Rides(scale_settings, clock=clock, city=NEAREST)
    bus = KafkaBus(scale_settings.kafka_bootstrap or "", client_id="test")
    topic = scale_settings.topic("rides")
    bus.ensure_topics([topic], scale_settings.topic_partitions)
    contributions = Contributions(scale_settings, clock=clock)  # reads the worker's tables

    def relay() -> Relay:
        return Relay(rides, bus.publisher(), topic=topic, to_integration=published.to_integration)

    try:
        start_driver(rides)
        [ride_id] = complete_rides(rides, clock, 1)
        ride = rides.ride(ride_id)
        first = relay()
        while first.run_once():
            pass

        # the driver's lines: the fare's driver part and the hours driven (15 min: 0.25 h)
        def credited() -> bool:
            return len(ledger_of(contributions)[0]) == 2

        eventually(credited, timeout_s=90, what="the contributions worker crediting the ride")
        lines, balances = ledger_of(contributions)
        driver_part = ride.split["driver"].amount
        assert sorted((credit, unit) for _, credit, unit in lines) == [
            (Decimal("0.25"), "HOUR"),
            (driver_part, "EUR"),
        ]
        # each line names what it came from: the ride's fare, the RideCompleted event
        memos = {unit: memo for memo, _, unit in lines}
        assert str(ride_id) in memos["EUR"]
        assert "work/driving from rides.RideCompleted" in memos["HOUR"]
        # the ledger balances: every unit's debits equal its credits, the fare is collected
        ledger, _ = contributions.ledger()
        assert {u.unit for u in ledger.units()} == {"EUR", "HOUR"}
        assert all(unit.balanced for unit in ledger.units())
        assert ride.fare is not None
        assert balances["rides:fares-collected EUR"] == ride.fare.amount
        assert balances[f"{member_account(DRIVER, 'earnings')} EUR"] == -driver_part
        assert sum(v for k, v in balances.items() if k.endswith(" EUR")) == 0
        assert ledger.entries() == 2  # the fare's split and the driving hours

        # published again by a relay that lost its position (it crashed before recording it)
        again = relay()
        again.position = again.published = 0
        while again.run_once():
            pass
        published_once = first.published
        offsets = OffsetReader(bus)
        try:
            group = scale_settings.group("contributions")
            assert offsets.position(group, topic).head == 2 * published_once

            # the worker reads every message again and credits nothing more
            eventually(
                lambda: offsets.position(group, topic).lag == 0,
                timeout_s=60,
                what="the contributions worker reading the republished messages",
            )
        finally:
            offsets.close()
        assert ledger_of(contributions) == (lines, balances)
        assert contributions.ledger()[0].entries() == 2
    finally:
        bus.close()
        rides.close()
        contributions.close()


@pytest.fixture
def kafka_flow(scale_settings: Settings) -> Iterator[AdoptionFlow]:
    bus = KafkaBus(scale_settings.kafka_bootstrap or "", client_id="test")
    flow = AdoptionFlow(scale_settings, bus, FixedClock())
    yield flow
    flow.close()
    bus.close()


def test_a_ratified_equation_is_adopted_once_over_kafka(kafka_flow: AdoptionFlow) -> None:
    check_a_ratified_equation_is_adopted_once(kafka_flow)
