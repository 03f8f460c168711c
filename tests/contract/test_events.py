"""Producer events against consumer models: what rides publishes, contributions can read.

Tests sit outside the service boundary, so they may import both sides (STYLE.md B3).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from contributions.inbound import INBOUND, RideCompleted
from kernel.bus.consumer import Consumer
from kernel.bus.embedded import EmbeddedBroker
from kernel.bus.envelope import Envelope
from kernel.bus.relay import Relay
from kernel.config import Settings
from kernel.time import FixedClock
from services.rides import published
from services.rides.application import Rides
from services.rides.domain import Place
from tests.support.rides import next_batch

DRIVER = "demo:11111111-1111-4111-8111-111111111111"
RIDER = "demo:22222222-2222-4222-8222-222222222222"
BOARD = "demo:33333333-3333-4333-8333-333333333333"


def _completed_ride_envelopes(
    *, solidarity: bool = False, late_cancel: bool = False
) -> list[Envelope]:
    clock = FixedClock()
    rides = Rides(Settings(persistence="popo"), clock=clock)
    rides.register_driver(DRIVER, seats=4, wheelchair_accessible=False, vehicle="car")
    rides.go_on_duty(DRIVER, lat=51.05, lon=3.72)
    if solidarity:
        rides.name_for_solidarity(RIDER, by=BOARD, named=True)
    if late_cancel:
        cancelled = rides.request_ride(
            RIDER, pickup=Place(51.06, 3.71), dropoff=Place(51.03, 3.75), seats=1, wheelchair=False
        )
        next_batch(rides, clock)
        rides.accept_ride(DRIVER, cancelled)
        clock.advance(timedelta(minutes=8))
        rides.cancel_ride(RIDER, cancelled, "")
    ride = rides.request_ride(
        RIDER, pickup=Place(51.06, 3.71), dropoff=Place(51.03, 3.75), seats=1, wheelchair=False
    )
    next_batch(rides, clock)
    rides.accept_ride(DRIVER, ride)
    clock.advance(timedelta(minutes=4))
    rides.mark_picked_up(DRIVER, ride)
    clock.advance(timedelta(minutes=11))
    rides.mark_dropped_off(DRIVER, ride)
    broker = EmbeddedBroker()
    relay = Relay(rides, broker.publisher(), topic="t", to_integration=published.to_integration)
    while relay.run_once():
        pass
    subscriber = broker.subscriber("reader")
    subscriber.subscribe(["t"])
    return [Envelope.from_bytes(m.value) for m in subscriber.poll(0.1)]


def test_every_published_type_is_read_or_knowingly_ignored_by_contributions() -> None:
    produced = {cls.model_fields["type"].default for cls in published.PUBLISHED}
    read = {t for (t, _) in INBOUND.models}
    assert produced <= read | INBOUND.ignores


def test_contributions_reads_the_ride_completed_that_rides_publishes() -> None:
    (completed,) = [e for e in _completed_ride_envelopes() if e.type == "rides.RideCompleted"]
    model = RideCompleted.model_validate(
        {
            **completed.payload,
            "event_id": completed.id,
            "city": completed.city,
            "occurred_at": completed.occurred_at,
            "aggregate_id": completed.aggregate_id,
        }
    )
    assert model.driver_id == DRIVER
    assert model.driver_minutes == Decimal("15.0")
    assert sum(model.split.values()) == model.fare


def test_the_whole_path_applies_through_the_real_consumer() -> None:
    envelopes = _completed_ride_envelopes()
    broker = EmbeddedBroker()
    broker.publisher().publish("t", [(e.key, e.to_bytes()) for e in envelopes])
    from contributions.application import Contributions

    app = Contributions(Settings(persistence="popo"))
    consumer = Consumer(app, broker.subscriber("c"), topics=["t"], inbound=INBOUND)
    consumer.run_once(0.1)
    assert (consumer.outcome.applied, consumer.outcome.parked) == (1, 0)


def _applied(envelopes: list[Envelope]) -> tuple[object, object]:
    from contributions.application import Contributions
    from contributions.projections import Ledger

    broker = EmbeddedBroker()
    broker.publisher().publish("t", [(e.key, e.to_bytes()) for e in envelopes])
    app = Contributions(Settings(persistence="popo"))
    consumer = Consumer(app, broker.subscriber("c"), topics=["t"], inbound=INBOUND)
    consumer.run_once(0.1)
    app.catch_up(Ledger)
    return consumer.outcome, app


def test_a_late_cancellation_fee_reaches_the_ledger_balanced_with_its_rule() -> None:
    envelopes = _completed_ride_envelopes(late_cancel=True)
    (fee,) = [e for e in envelopes if e.type == "rides.RideFeeCharged"]
    assert fee.payload["kind"] == "cancellation"
    assert Decimal(fee.payload["amount"]) == Decimal("3.00")
    assert "late cancellation: 8.0 min after the driver accepted" in fee.payload["rule"]
    assert sum(Decimal(v) for v in fee.payload["split"].values()) == Decimal("3.00")
    outcome, app = _applied(envelopes)
    assert (outcome.applied, outcome.parked) == (2, 0)  # type: ignore[attr-defined]
    ledger, _ = app.ledger()  # type: ignore[attr-defined]
    assert ledger.balance("rides:fees-collected", "EUR") == Decimal("3.00")


def test_a_solidarity_fare_is_paid_partly_by_the_common_fund_in_the_ledger() -> None:
    envelopes = _completed_ride_envelopes(solidarity=True)
    (done,) = [e for e in envelopes if e.type == "rides.RideCompleted"]
    fare, fund = Decimal(done.payload["fare"]), Decimal(done.payload["common_fund_pays"])
    assert fund == (fare / 2).quantize(Decimal("0.01"))
    assert Decimal(done.payload["rider_pays"]) + fund == fare
    assert done.payload["rules_version"] == "demo-2026-12"
    assert sum(Decimal(v) for v in done.payload["breakdown"].values()) == fare
    outcome, app = _applied(envelopes)
    assert (outcome.applied, outcome.parked) == (1, 0)  # type: ignore[attr-defined]
    ledger, _ = app.ledger()  # type: ignore[attr-defined]
    assert ledger.balance("rides:fares-collected", "EUR") == fare - fund
    # the commons fund paid its part and received its 4 % share of the whole fare
    share = Decimal(done.payload["split"]["common_fund"])
    assert ledger.balance("commons:fund", "EUR") == fund - share
