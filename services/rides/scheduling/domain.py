"""The scheduled-rides aggregates. No I/O, no clock, no solver: `now` and plans are passed in.

    ServiceDay       one service day of the scheduled fleet: the bookings it has promised and
                     each vehicle's stops; changed only by adopting a checked plan
    ScheduledRide    one booking (one occurrence of a series is one ride, cancelled alone)
    RecurringSeries  a seat every week (every Tuesday to the clinic) and the rides it booked

A ServiceDay's state is bounded by one day of one fleet; the history of days is the read models'.
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Any

from eventsourcing.domain import Aggregate, event

from kernel.ids import stable_uuid
from services.rides.domain import RidesError
from services.rides.scheduling.model import Booking, Plan, PlannedStop

if TYPE_CHECKING:
    from datetime import date, datetime
    from uuid import UUID


class SchedulingError(RidesError):
    """Base of the expected refusals of scheduled rides."""


class InvalidBooking(SchedulingError):
    """Bad input: names the field (a window in the past, a place outside the area, ...)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class BookingDoesNotFit(SchedulingError):
    """No plan serves this booking and keeps every promise; `nearest` are pickup windows (as
    aware datetimes) that fit the day as it stands."""

    def __init__(self, reason: str, nearest: list[tuple[datetime, datetime]], message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.nearest = nearest


class ScheduledRideNotFound(SchedulingError):
    def __init__(self, ride_id: UUID | str) -> None:
        super().__init__(f"no scheduled ride {ride_id}")
        self.ride_id = str(ride_id)


class NotYourBooking(SchedulingError):
    def __init__(self, ride_id: UUID | str) -> None:
        super().__init__(f"scheduled ride {ride_id} is not the caller's to change")
        self.ride_id = str(ride_id)


class BookingCancelled(SchedulingError):
    def __init__(self, ride_id: UUID | str, action: str) -> None:
        super().__init__(f"scheduled ride {ride_id} is cancelled; cannot {action}")
        self.ride_id = str(ride_id)
        self.action = action


class StalePlan(SchedulingError):
    """The day changed since the plan was solved: solve again from the day as it is now."""

    def __init__(self, based_on: int, version: int) -> None:
        super().__init__(f"plan solved against version {based_on}, the day is at {version}")


class PlanBreaksPromise(SchedulingError):
    """A plan offered to a day does not serve every booking exactly once (never adopted)."""


class ServiceDay(Aggregate):
    """One service day of the scheduled fleet.

    Invariants (checked by `adopt`): every booking is served exactly once, pickup before
    drop-off, by one vehicle; a plan solved against an older version of the day is never
    adopted (it may not hold the bookings made meanwhile). The plan itself was checked against
    every promise by the planner with the route checker before it got here.
    """

    class Opened(Aggregate.Created):
        city: str
        day: date

    class Replanned(Aggregate.Event):
        """A plan decision with its inputs summarised, so an explanation or a replay never
        runs the solver: why (`cause`, the ride), who was considered with their promised windows
        (minutes after local midnight: pickup from/to, drop-off from/to), the objective (travel
        minutes and km), how it was made (`solver`), and the stops per vehicle."""

        day: date
        cause: str
        ride_id: str
        based_on: int
        booking: dict[str, Any] | None
        considered: list[str]
        windows: dict[str, list[float]]
        objective: dict[str, float]
        solver: dict[str, Any]
        routes: dict[str, list[dict[str, Any]]]

    @staticmethod
    def create_id(city: str, day: date) -> UUID:
        return stable_uuid("rides.service-day", city, day.isoformat())

    @event(Opened)
    def __init__(self, city: str, day: date) -> None:
        self.city = city
        self.day = day
        self.bookings: dict[str, dict[str, Any]] = {}
        self.routes: dict[str, list[dict[str, Any]]] = {}

    # -- reading --------------------------------------------------------------------------------
    def booked(self) -> list[Booking]:
        return [Booking.from_dict(b) for b in self.bookings.values()]

    def plan(self) -> dict[str, tuple[PlannedStop, ...]]:
        return {
            v: tuple(PlannedStop.from_dict(s) for s in stops) for v, stops in self.routes.items()
        }

    # -- deciding -------------------------------------------------------------------------------
    def adopt(
        self,
        plan: Plan,
        *,
        based_on: int,
        cause: str,
        ride_id: str,
        add: Booking | None = None,
        remove: str | None = None,
    ) -> None:
        """Adopt a plan solved against version `based_on` that adds `add` and/or removes
        `remove` (a change is both, with the same ride id)."""
        if based_on != self.version:
            raise StalePlan(based_on, self.version)
        after = {k for k in self.bookings if k != remove} | ({add.ride_id} if add else set())
        _check_serves(plan, after)
        bookings = [self.bookings[k] for k in sorted(after) if k in self.bookings and k != remove]
        windows = {
            b["ride_id"]: [*b["pickup_window"], *b["dropoff_window"]]
            for b in [*bookings, *([add.to_dict()] if add else [])]
        }
        self._replanned(
            day=self.day,
            cause=cause,
            ride_id=ride_id,
            based_on=based_on,
            booking=add.to_dict() if add else None,
            considered=sorted(after),
            windows=windows,
            objective={
                "travel_minutes": round(plan.travel_minutes, 3),
                "km": round(plan.km, 3),
            },
            solver={
                "method": plan.method,
                "status": plan.status,
                "wall_s": round(plan.wall_s, 3),
                "time_limit_s": plan.time_limit_s,
                "seed": plan.seed,
                "removed": remove,
            },
            # A vehicle the plan no longer uses is named with no stops, so its day is cleared.
            routes={v: [] for v in self.routes}
            | {v: [s.to_dict() for s in stops] for v, stops in plan.routes.items()},
        )

    @event(Replanned)
    def _replanned(
        self,
        day: date,
        cause: str,
        ride_id: str,
        based_on: int,
        booking: dict[str, Any] | None,
        considered: list[str],
        windows: dict[str, list[float]],
        objective: dict[str, float],
        solver: dict[str, Any],
        routes: dict[str, list[dict[str, Any]]],
    ) -> None:
        removed = solver.get("removed")
        if removed is not None:
            self.bookings.pop(removed, None)
        if booking is not None:
            self.bookings[booking["ride_id"]] = booking
        self.routes = {v: stops for v, stops in routes.items() if stops}


def _check_serves(plan: Plan, bookings: set[str]) -> None:
    seen: dict[str, list[str]] = {}
    for vehicle, stops in plan.routes.items():
        for s in stops:
            if s.ride_id is None:
                continue
            seen.setdefault(s.ride_id, []).append(f"{vehicle}:{s.kind}")
    for rid in bookings:
        kinds = seen.get(rid, [])
        if (
            len(kinds) != 2
            or not kinds[0].endswith(":pickup")
            or not kinds[1].endswith(":dropoff")
            or kinds[0].split(":")[0] != kinds[1].split(":")[0]
        ):
            raise PlanBreaksPromise(f"ride {rid}: served {kinds or 'not at all'}")
    extra = set(seen) - bookings
    if extra:
        raise PlanBreaksPromise(f"the plan serves rides the day has not booked: {sorted(extra)}")


class BookingState(Enum):
    BOOKED = "booked"
    CANCELLED = "cancelled"


class ScheduledRide(Aggregate):
    """One scheduled booking: a pickup window on one day (an occurrence of a series, or alone).

    Invariants: only a BOOKED ride is changed or cancelled; its window stays within one day.
    """

    class Booked(Aggregate.Created):
        rider_id: str
        booked_by: str | None
        day: date
        pickup: dict[str, float]
        dropoff: dict[str, float]
        window_start: datetime
        window_end: datetime
        seats: int
        wheelchair: bool
        series_id: UUID | None
        booked_at: datetime

    class Changed(Aggregate.Event):
        window_start: datetime
        window_end: datetime
        by: str

    class Cancelled(Aggregate.Event):
        by: str
        at: datetime

    @event(Booked)
    def __init__(
        self,
        rider_id: str,
        booked_by: str | None,
        day: date,
        pickup: dict[str, float],
        dropoff: dict[str, float],
        window_start: datetime,
        window_end: datetime,
        seats: int,
        wheelchair: bool,
        series_id: UUID | None,
        booked_at: datetime,
    ) -> None:
        self.rider_id = rider_id
        self.booked_by = booked_by
        self.day = day
        self.pickup = pickup
        self.dropoff = dropoff
        self.window_start = window_start
        self.window_end = window_end
        self.seats = seats
        self.wheelchair = wheelchair
        self.series_id = series_id
        self.booked_at = booked_at
        self.state = BookingState.BOOKED

    def may_act(self, member: str) -> bool:
        return member in (self.rider_id, self.booked_by)

    def change(self, *, window_start: datetime, window_end: datetime, by: str) -> None:
        if self.state is not BookingState.BOOKED:
            raise BookingCancelled(self.id, "change")
        self._changed(window_start=window_start, window_end=window_end, by=by)

    @event(Changed)
    def _changed(self, window_start: datetime, window_end: datetime, by: str) -> None:
        self.window_start, self.window_end = window_start, window_end

    def cancel(self, *, by: str, at: datetime) -> None:
        if self.state is not BookingState.BOOKED:
            raise BookingCancelled(self.id, "cancel")
        self._cancelled(by=by, at=at)

    @event(Cancelled)
    def _cancelled(self, by: str, at: datetime) -> None:
        self.state = BookingState.CANCELLED


class RecurringSeries(Aggregate):
    """A seat every week at the same local time: each occurrence is booked as its own ride.

    Bounded: at most the city's `max_recurring_weeks` occurrences, each recorded once.
    """

    class Started(Aggregate.Created):
        rider_id: str
        booked_by: str | None
        first_day: date
        weeks: int
        window_start: str  # local "HH:MM"
        window_minutes: int
        pickup: dict[str, float]
        dropoff: dict[str, float]
        seats: int
        wheelchair: bool

    class OccurrenceBooked(Aggregate.Event):
        day: date
        ride_id: UUID

    class OccurrenceRefused(Aggregate.Event):
        day: date
        reason: str

    @event(Started)
    def __init__(
        self,
        rider_id: str,
        booked_by: str | None,
        first_day: date,
        weeks: int,
        window_start: str,
        window_minutes: int,
        pickup: dict[str, float],
        dropoff: dict[str, float],
        seats: int,
        wheelchair: bool,
    ) -> None:
        self.rider_id = rider_id
        self.booked_by = booked_by
        self.first_day = first_day
        self.weeks = weeks
        self.window_start = window_start
        self.window_minutes = window_minutes
        self.pickup = pickup
        self.dropoff = dropoff
        self.seats = seats
        self.wheelchair = wheelchair
        self.occurrences: dict[str, str] = {}  # day -> ride id or "refused: <reason>"

    def record(self, day: date, *, ride_id: UUID | None, reason: str = "") -> None:
        if day.isoformat() in self.occurrences:
            raise SchedulingError(f"series {self.id}: {day} is recorded already")
        if len(self.occurrences) >= self.weeks:
            raise SchedulingError(f"series {self.id}: all {self.weeks} weeks are recorded")
        if ride_id is not None:
            self._booked(day=day, ride_id=ride_id)
        else:
            self._refused(day=day, reason=reason)

    @event(OccurrenceBooked)
    def _booked(self, day: date, ride_id: UUID) -> None:
        self.occurrences[day.isoformat()] = str(ride_id)

    @event(OccurrenceRefused)
    def _refused(self, day: date, reason: str) -> None:
        self.occurrences[day.isoformat()] = f"refused: {reason}"
