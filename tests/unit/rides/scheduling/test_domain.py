"""The ServiceDay aggregate adopts only a plan solved against its own version that serves every
booking exactly once; the ScheduledRide refuses to change or cancel twice."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.rides.scheduling.domain import (
    BookingCancelled,
    PlanBreaksPromise,
    ScheduledRide,
    ServiceDay,
    StalePlan,
)
from services.rides.scheduling.model import Booking, Plan, PlannedStop, Spot
from tests.support.gwt import replay, state_of
from tests.unit.rides.scheduling.helpers import TUESDAY

HOME, CLINIC = Spot(51.09, 3.68), Spot(51.04, 3.73)


def booking(ride_id: str) -> Booking:
    return Booking(ride_id, HOME, CLINIC, 1, False, (540, 570), (540, 620), 40, 2)


def plan(*ride_ids: str) -> Plan:
    stops = [PlannedStop("start", None, 530, 530, 51.05, 3.72)]
    for k, rid in enumerate(ride_ids):
        stops.append(PlannedStop("pickup", rid, 540 + k, 540 + k, HOME.lat, HOME.lon))
    for k, rid in enumerate(ride_ids):
        stops.append(PlannedStop("dropoff", rid, 560 + k, 560 + k, CLINIC.lat, CLINIC.lon))
    stops.append(PlannedStop("end", None, 580, 580, 51.05, 3.72))
    return Plan({"van": tuple(stops)}, 40, 20, "reoptimise", "feasible", 0.1, 1.0, 0)


def test_a_day_adopts_a_plan_at_its_version_and_replays_to_the_same_state() -> None:
    day = ServiceDay("demo", TUESDAY)
    day.adopt(plan("a"), based_on=day.version, cause="booked", ride_id="a", add=booking("a"))
    day.adopt(plan("a", "b"), based_on=day.version, cause="booked", ride_id="b", add=booking("b"))

    assert [b.ride_id for b in day.booked()] == ["a", "b"]
    events = day.collect_events()
    assert state_of(replay(events)) == state_of(day)
    decision = events[-1]
    assert isinstance(decision, ServiceDay.Replanned)
    assert decision.considered == ["a", "b"]


def test_a_stale_plan_is_never_adopted() -> None:
    day = ServiceDay("demo", TUESDAY)
    solved_at = day.version
    day.adopt(plan("a"), based_on=solved_at, cause="booked", ride_id="a", add=booking("a"))
    day.collect_events()

    with pytest.raises(StalePlan):
        day.adopt(plan("b"), based_on=solved_at, cause="booked", ride_id="b", add=booking("b"))
    assert day.collect_events() == []


def test_a_plan_that_leaves_out_a_booking_is_refused() -> None:
    day = ServiceDay("demo", TUESDAY)
    day.adopt(plan("a"), based_on=day.version, cause="booked", ride_id="a", add=booking("a"))
    day.collect_events()

    with pytest.raises(PlanBreaksPromise):
        day.adopt(plan("b"), based_on=day.version, cause="booked", ride_id="b", add=booking("b"))
    assert day.collect_events() == []


def test_a_cancelled_ride_is_not_cancelled_or_changed_again() -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    ride = ScheduledRide(
        rider_id="m",
        booked_by=None,
        day=TUESDAY,
        pickup={"lat": 51.0, "lon": 3.7},
        dropoff={"lat": 51.0, "lon": 3.8},
        window_start=now,
        window_end=now,
        seats=1,
        wheelchair=False,
        series_id=None,
        booked_at=now,
    )
    ride.cancel(by="m", at=now)
    ride.collect_events()

    with pytest.raises(BookingCancelled):
        ride.cancel(by="m", at=now)
    with pytest.raises(BookingCancelled):
        ride.change(window_start=now, window_end=now, by="m")
    assert ride.collect_events() == []
