"""A completed ride is priced by the policy in force when it ends, and names its version: a
decision adopted before the ride changes its split; rides before it keep the file's."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import uuid4

import pytest

from kernel.config import Settings
from kernel.ids import new_member_id
from kernel.money import Money
from services.rides.application import Rides
from services.rides.domain import Place, Ride
from services.rides.published import RideCompletedV1, to_integration
from tests.support.rides import NEAREST, consume_decisions, decisions_envelope

if TYPE_CHECKING:
    from datetime import datetime
    from uuid import UUID

    from kernel.time import FixedClock

PICKUP, DROPOFF = Place(51.05, 3.72), Place(51.03, 3.75)
NEW_SPLIT = {"driver": 90, "coop": 5, "common_fund": 4, "protocol": 1}


@pytest.fixture
def rides(clock: FixedClock) -> Rides:
    return Rides(Settings(persistence="popo"), clock=clock, city=NEAREST)


def member() -> str:
    return new_member_id("demo")  # type: ignore[arg-type]


def a_completed_ride(rides: Rides, clock: FixedClock, driver: str) -> UUID:
    ride_id = rides.request_ride(
        member(), pickup=PICKUP, dropoff=DROPOFF, seats=1, wheelchair=False
    )
    rides.accept_ride(driver, ride_id)
    rides.mark_picked_up(driver, ride_id)
    clock.advance(timedelta(minutes=10))
    rides.mark_dropped_off(driver, ride_id)
    return ride_id


def adopt(
    rides: Rides, clock: FixedClock, path: str, value: Any, *, from_: datetime | None = None
) -> None:
    """Decisions' policy version 2, one change at `path`, in force from `from_` (now), applied
    by the rides service's real consumer."""
    changed = {
        "policy_version": 2,
        "decision_id": str(uuid4()),
        "changes": [{"path": path, "value": value}],
        "effective_from": (from_ or clock.now()).isoformat(),
        "decided_at": clock.now().isoformat(),
    }
    consume_decisions(
        rides,
        decisions_envelope(
            "decisions.PolicyChanged", changed, aggregate=uuid4(), position=1, at=clock.now()
        ),
    )


def split_percent(rides: Rides, ride_id: UUID) -> dict[str, Decimal]:
    ride = rides.ride(ride_id)
    assert ride.fare is not None
    fare = ride.fare.amount
    return {part: (m.amount / fare * 100).quantize(Decimal(1)) for part, m in ride.split.items()}


def test_a_policy_change_before_a_ride_changes_its_split_and_names_the_version(
    rides: Rides, clock: FixedClock
) -> None:
    # given a driver, and a ride completed under the city file (policy version 1)
    driver = member()
    rides.register_driver(driver, seats=4, wheelchair_accessible=False, vehicle="car")
    rides.go_on_duty(driver, lat=PICKUP.lat, lon=PICKUP.lon)
    before = a_completed_ride(rides, clock, driver)
    # when decisions adopts version 2 (a new split), in force from now
    adopt(rides, clock, "rides.split", NEW_SPLIT)
    clock.advance(timedelta(minutes=1))
    after = a_completed_ride(rides, clock, driver)

    # then the ride before it keeps the file's split and version; the one after has the new
    assert rides.ride(before).policy_version == 1
    assert split_percent(rides, before)["driver"] != Decimal(90)
    assert rides.ride(after).policy_version == 2
    assert split_percent(rides, after) == {k: Decimal(v) for k, v in NEW_SPLIT.items()}
    ride = rides.ride(after)
    assert ride.fare is not None
    assert sum(ride.split.values(), Money.zero(ride.currency)) == ride.fare
    # and the published RideCompleted says which version priced it
    [done] = [to_integration(e) for e in rides.events.get(after) if isinstance(e, Ride.Completed)]
    assert isinstance(done, RideCompletedV1)
    assert done.policy_version == 2


def test_a_change_in_force_later_does_not_price_a_ride_ending_before_it(
    rides: Rides, clock: FixedClock
) -> None:
    driver = member()
    rides.register_driver(driver, seats=4, wheelchair_accessible=False, vehicle="car")
    rides.go_on_duty(driver, lat=PICKUP.lat, lon=PICKUP.lon)
    adopt(rides, clock, "rides.split", NEW_SPLIT, from_=(clock.now() + timedelta(days=7)))

    ride_id = a_completed_ride(rides, clock, driver)

    assert rides.ride(ride_id).policy_version == 1
    assert split_percent(rides, ride_id)["driver"] != Decimal(90)


def test_a_late_cancellation_is_charged_by_the_policy_in_force_and_names_its_version(
    rides: Rides, clock: FixedClock
) -> None:
    driver = member()
    rides.register_driver(driver, seats=4, wheelchair_accessible=False, vehicle="car")
    rides.go_on_duty(driver, lat=PICKUP.lat, lon=PICKUP.lon)
    adopt(rides, clock, "rides.cancellation.fee", "4.50")
    rider = member()
    ride_id = rides.request_ride(rider, pickup=PICKUP, dropoff=DROPOFF, seats=1, wheelchair=False)
    rides.accept_ride(driver, ride_id)
    clock.advance(timedelta(minutes=10))  # past the free minutes

    rides.cancel_ride(rider, ride_id, "")

    ride = rides.ride(ride_id)
    assert ride.charge is not None
    assert ride.charge.amount == Decimal("4.50")
    assert ride.charge_rule is not None
    assert ride.charge_rule.endswith("policy version 2)")


def test_a_ratified_cap_on_open_rides_is_the_cap_from_its_date(
    rides: Rides, clock: FixedClock
) -> None:
    from services.rides.domain import TooManyOpenRides

    rider = member()
    limit = rides.city.rides.max_open_rides_per_member
    for _ in range(limit):
        rides.request_ride(rider, pickup=PICKUP, dropoff=DROPOFF, seats=1, wheelchair=False)
    with pytest.raises(TooManyOpenRides):
        rides.request_ride(rider, pickup=PICKUP, dropoff=DROPOFF, seats=1, wheelchair=False)
    adopt(rides, clock, "rides.max_open_rides_per_member", limit + 1)

    one_more = rides.request_ride(rider, pickup=PICKUP, dropoff=DROPOFF, seats=1, wheelchair=False)

    assert rides.ride(one_more).rider_id == rider
    with pytest.raises(TooManyOpenRides) as refused:
        rides.request_ride(rider, pickup=PICKUP, dropoff=DROPOFF, seats=1, wheelchair=False)
    assert refused.value.limit == limit + 1
