"""Booking, changing and cancelling scheduled rides through the rides application (POPO store):
every re-plan is an event with its inputs, checked, and it keeps every promise."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from services.rides.scheduling import planner as planner_module
from services.rides.scheduling.domain import (
    BookingCancelled,
    BookingDoesNotFit,
    BookingState,
    InvalidBooking,
    NotYourBooking,
    ServiceDay,
)
from tests.support.gwt import replay
from tests.unit.rides.scheduling.helpers import CLINIC, HOME, TUESDAY, app, at

if TYPE_CHECKING:
    from uuid import UUID

    from services.rides.application import Rides


def book(
    rides: Rides,
    rider: str = "m-ines",
    start: datetime | None = None,
    minutes: int = 30,
    **extra: Any,
) -> UUID:
    start = start or at(9)
    return rides.book_scheduled_ride(
        rider,
        pickup=extra.pop("pickup", HOME),
        dropoff=extra.pop("dropoff", CLINIC),
        window_start=start,
        window_end=start + timedelta(minutes=minutes),
        **extra,
    )


def day_of(rides: Rides) -> ServiceDay:
    day = rides.service_day(TUESDAY)
    assert day is not None
    return day


def decisions(rides: Rides) -> list[ServiceDay.Replanned]:
    events = rides.events.get(ServiceDay.create_id("demo", TUESDAY))
    return [e for e in events if isinstance(e, ServiceDay.Replanned)]


def test_a_booking_is_planned_inside_its_window_and_recorded_with_its_inputs() -> None:
    rides = app()

    ride_id = book(rides)

    ride = rides.scheduled_ride(ride_id)
    assert (ride.state, ride.rider_id, ride.day) == (BookingState.BOOKED, "m-ines", TUESDAY)
    vehicle, pickup_at = rides.planned(ride)
    assert vehicle == "van"
    assert pickup_at is not None
    assert at(9) <= pickup_at <= at(9, 30)
    decision = decisions(rides)[-1]
    assert (decision.cause, decision.ride_id, decision.considered) == (
        "booked",
        str(ride_id),
        [str(ride_id)],
    )
    pu_lo, pu_hi, _, do_hi = decision.windows[str(ride_id)]
    assert (pu_lo, pu_hi) == (9 * 60, 9 * 60 + 30)
    assert do_hi > pu_hi
    assert decision.objective["km"] > 0
    assert decision.objective["travel_minutes"] > 0
    assert decision.solver["method"] in ("reoptimise", "insertion")
    assert [s["kind"] for s in decision.routes["van"]] == ["start", "pickup", "dropoff", "end"]


def test_replaying_a_day_never_runs_the_solver(monkeypatch: pytest.MonkeyPatch) -> None:
    rides = app()
    first, second = book(rides), book(rides, "m-tomas", at(9, 15))
    plan_before = day_of(rides).plan()

    def no_solver(*args: object, **kwargs: object) -> None:
        raise AssertionError("a replay ran the solver")

    monkeypatch.setattr(planner_module, "reoptimise", no_solver)
    replayed = replay(rides.events.get(ServiceDay.create_id("demo", TUESDAY)))
    assert isinstance(replayed, ServiceDay)
    assert replayed.plan() == plan_before
    assert {b.ride_id for b in replayed.booked()} == {str(first), str(second)}


def test_riders_share_the_van_within_their_windows() -> None:
    rides = app()
    ids = [book(rides, f"m-{k}", at(9, 5 * k), pickup=(51.09 - 0.004 * k, 3.68)) for k in range(4)]

    day = day_of(rides)
    (van,) = day.plan().values()
    on_board = max_on_board = 0
    for stop in van:
        on_board += {"pickup": 1, "dropoff": -1}.get(stop.kind, 0)
        max_on_board = max(max_on_board, on_board)
    assert max_on_board > 1  # pooled: more than one rider aboard at once
    for k, ride_id in enumerate(ids):
        _, pickup_at = rides.planned(rides.scheduled_ride(ride_id))
        assert pickup_at is not None
        assert at(9, 5 * k) <= pickup_at <= at(9, 5 * k + 30)


def test_a_booking_that_cannot_fit_is_refused_with_the_nearest_windows_and_changes_nothing() -> (
    None
):
    rides = app()
    for k in range(3):
        book(rides, f"m-{k}", seats=2)
    before = list(rides.events.get(ServiceDay.create_id("demo", TUESDAY)))

    with pytest.raises(BookingDoesNotFit) as refused:
        book(rides, "m-late", seats=3)

    assert refused.value.reason == "no_room_in_window"
    assert refused.value.nearest
    for start, end in refused.value.nearest:
        assert end - start == timedelta(minutes=30)
        assert start != at(9)
    assert list(rides.events.get(ServiceDay.create_id("demo", TUESDAY))) == before
    # The nearest window offered does fit.
    start, _ = refused.value.nearest[0]
    ride_id = book(rides, "m-late", start, seats=3)
    _, pickup_at = rides.planned(rides.scheduled_ride(ride_id))
    assert pickup_at is not None
    assert start <= pickup_at <= start + timedelta(minutes=30)


def test_a_second_wheelchair_is_refused_by_name_when_the_van_has_one_place() -> None:
    rides = app()
    book(rides, "m-a", wheelchair=True)

    with pytest.raises(BookingDoesNotFit) as refused:
        book(rides, "m-b", wheelchair=True)
    assert refused.value.reason == "no_room_in_window"
    assert all(start != at(9) for start, _ in refused.value.nearest)


def test_a_weekly_seat_is_its_own_ride_each_week_and_one_is_cancelled_alone() -> None:
    rides = app()
    series = rides.book_recurring_ride(
        "m-ines",
        pickup=HOME,
        dropoff=CLINIC,
        window_start=at(14),
        window_end=at(14, 30),
        weeks=3,
    )

    days = [o.day for o in series.occurrences]
    assert days == [TUESDAY + timedelta(weeks=k) for k in range(3)]
    ids = [o.ride_id for o in series.occurrences]
    assert all(ids)
    assert len(set(ids)) == 3
    for o in series.occurrences:
        ride = rides.scheduled_ride(o.ride_id)  # type: ignore[arg-type]
        assert ride.series_id == series.series_id
        assert ride.window_start.astimezone(at(14).tzinfo).hour == 14  # local time every week

    rides.cancel_scheduled_ride("m-ines", ids[1])  # type: ignore[arg-type]

    states = [rides.scheduled_ride(i).state for i in ids]  # type: ignore[arg-type]
    assert states == [BookingState.BOOKED, BookingState.CANCELLED, BookingState.BOOKED]
    second_day = rides.service_day(TUESDAY + timedelta(weeks=1))
    assert second_day is not None
    assert second_day.booked() == []
    assert second_day.plan() == {}
    assert {b.ride_id for b in day_of(rides).booked()} == {str(ids[0])}
    with pytest.raises(BookingCancelled):
        rides.cancel_scheduled_ride("m-ines", ids[1])  # type: ignore[arg-type]


def test_a_change_re_plans_and_only_the_rider_the_booker_or_the_desk_may_make_it() -> None:
    rides = app()
    ride_id = book(rides, "m-ines", booked_by="m-desk")
    other = book(rides, "m-tomas", at(9, 10))

    with pytest.raises(NotYourBooking):
        rides.change_scheduled_ride("m-tomas", ride_id, window_start=at(11), window_end=at(11, 30))
    rides.change_scheduled_ride("m-desk", ride_id, window_start=at(11), window_end=at(11, 30))

    _, pickup_at = rides.planned(rides.scheduled_ride(ride_id))
    assert pickup_at is not None
    assert at(11) <= pickup_at <= at(11, 30)
    _, tomas_at = rides.planned(rides.scheduled_ride(other))
    assert tomas_at is not None
    assert at(9, 10) <= tomas_at <= at(9, 40)
    decision = decisions(rides)[-1]
    assert (decision.cause, decision.windows[str(ride_id)][:2]) == ("changed", [660.0, 690.0])


@pytest.mark.parametrize(
    ("start", "minutes", "extra", "field"),
    [
        (at(9, days=-8), 30, {}, "window"),  # in the past
        (at(9), -20, {}, "window"),  # ends before it starts
        (at(9), 3, {}, "window"),  # shorter than the city's shortest window
        (at(22), 30, {}, "window"),  # outside the service hours
        (at(9, days=60), 30, {}, "window"),  # beyond the booking horizon
        (at(9), 30, {"pickup": (0.0, 0.0)}, "pickup"),  # outside the area served
        (at(9), 30, {"dropoff": (91.0, 0.0)}, "dropoff"),  # not a place
        (at(9), 30, {"seats": 0}, "seats"),
    ],
)
def test_bad_input_names_the_field_and_changes_nothing(
    start: datetime, minutes: int, extra: dict[str, Any], field: str
) -> None:
    rides = app()
    head = rides.head()

    with pytest.raises(InvalidBooking) as refused:
        book(rides, "m-ines", start, minutes, **extra)

    assert refused.value.field == field
    assert rides.head() == head


def test_a_plan_solved_while_another_booking_landed_is_solved_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rides = app()
    real = planner_module.Planner.replan
    landed: list[object] = []

    def replan_with_a_booking_landing_meanwhile(
        self: planner_module.Planner, *args: Any, **kwargs: Any
    ) -> object:
        plan = real(self, *args, **kwargs)
        if not landed:
            # Another replica books the same day while this plan is being solved.
            landed.append(None)
            landed[0] = book(rides, "m-meanwhile", at(9, 20))
        return plan

    monkeypatch.setattr(planner_module.Planner, "replan", replan_with_a_booking_landing_meanwhile)
    ride_id = book(rides, "m-ines")

    day = day_of(rides)
    assert {b.ride_id for b in day.booked()} == {str(ride_id), str(landed[0])}
    decisions = [e for e in rides.events.get(day.id) if isinstance(e, ServiceDay.Replanned)]
    assert [d.ride_id for d in decisions] == [str(landed[0]), str(ride_id)]
    assert decisions[-1].based_on == decisions[0].originator_version
