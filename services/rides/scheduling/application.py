"""Scheduled, recurring and pooled rides: the use cases, mixed into the rides application.

`ScheduledRides` is a mixin of `services.rides.application.Rides` (one store, one log, one
spec): it adds booking, changing and cancelling scheduled rides, recurring series, and the
desk's and drivers' views of each vehicle's day. Plans are solved with no aggregate held: the day
is read at a version, the planner re-plans from its current plan (outside any lock), and the day
adopts the plan only at that same version (`ServiceDay.adopt` refuses a stale one, and the store
refuses a concurrent save); either way the day is read again and re-planned.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError, Transcoding

from kernel.geo import InvalidPoint, Point, great_circle_km
from kernel.paging import page_request
from kernel.readside.freshness import read_after
from kernel.transcodings import EnumAsValue
from services.rides.projections import Listing
from services.rides.scheduling.domain import (
    BookingDoesNotFit,
    BookingState,
    InvalidBooking,
    NotYourBooking,
    RecurringSeries,
    ScheduledRide,
    ScheduledRideNotFound,
    SchedulingError,
    ServiceDay,
    StalePlan,
)
from services.rides.scheduling.model import Booking, FleetVehicle, Spot, StopRef, orders_of
from services.rides.scheduling.planner import Planner, Refusal
from services.rides.scheduling.projections import (
    ScheduledRecord,
    ScheduledRideRecords,
    StopRecord,
    VehicleStops,
)
from services.rides.scheduling.timeline import Travel

if TYPE_CHECKING:
    from uuid import UUID

    from eventsourcing.persistence import JSONTranscoder

    from kernel.cities import CityConfig, ScheduledRidesPolicy
    from kernel.eventstore import FederationApplication

# A day is re-read and re-planned at most this many times when others change it meanwhile.
REPLAN_ATTEMPTS = 8
# A vehicle's day has at most this many stops in one answer (a van's day is a few dozen).
MAX_STOPS = 400


@dataclass(frozen=True)
class Booked:
    ride_id: UUID
    vehicle: str | None
    pickup_at: datetime | None


@dataclass(frozen=True)
class Occurrence:
    day: date
    ride_id: UUID | None
    refusal: SchedulingError | None


@dataclass(frozen=True)
class SeriesBooked:
    series_id: UUID
    occurrences: list[Occurrence]


@dataclass(frozen=True)
class VehicleDay:
    vehicle: FleetVehicle
    name: str
    day: date
    stops: list[StopRecord]


class Clockwork:
    """A city's service day in minutes after local midnight, and back to instants."""

    def __init__(self, city: CityConfig) -> None:
        self.tz = ZoneInfo(city.timezone)

    def midnight(self, day: date) -> datetime:
        return datetime.combine(day, time(0), self.tz).astimezone(UTC)

    def local_day(self, moment: datetime) -> date:
        return moment.astimezone(self.tz).date()

    def minutes(self, day: date, moment: datetime) -> float:
        return (moment.astimezone(UTC) - self.midnight(day)).total_seconds() / 60.0

    def at(self, day: date, minutes: float) -> datetime:
        return (self.midnight(day) + timedelta(minutes=minutes)).replace(microsecond=0)

    def clock_minutes(self, day: date, hhmm: str) -> float:
        h, m = (int(x) for x in hhmm.split(":"))
        return self.minutes(day, datetime.combine(day, time(h, m), self.tz))


class DateAsISO(Transcoding):
    """A service day in events (eventsourcing transcodes datetimes, not dates)."""

    type = date
    name = "rides.date"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


def _spot(data: dict[str, float]) -> Spot:
    return Spot(float(data["lat"]), float(data["lon"]))


if TYPE_CHECKING:
    _Application = FederationApplication
else:
    _Application = object


class ScheduledRides(_Application):
    """Mixin: scheduled rides for `Rides`, a FederationApplication (the store, the city, the
    clock and the read models are its own)."""

    scheduled_read_models = (ScheduledRideRecords, VehicleStops)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(EnumAsValue(BookingState, "rides.BookingState"))
        transcoder.register(DateAsISO())

    # -- set-up ---------------------------------------------------------------------------------
    @property
    def scheduled(self) -> ScheduledRidesPolicy:
        return self.city.rides.scheduled

    @property
    def clockwork(self) -> Clockwork:
        found: Clockwork | None = self.__dict__.get("_clockwork")
        if found is None:
            found = self.__dict__["_clockwork"] = Clockwork(self.city)
        return found

    @property
    def travel_minutes(self) -> Travel:
        found: Travel | None = self.__dict__.get("_travel_minutes")
        if found is None:
            found = self.__dict__["_travel_minutes"] = Travel(
                detour_factor=float(self.city.rides.detour_factor),
                speed_kmh=float(
                    self.scheduled.average_speed_kmh or self.city.rides.average_speed_kmh
                ),
            )
        return found

    def fleet(self, day: date) -> list[FleetVehicle]:
        p, cw = self.scheduled, self.clockwork
        return [
            FleetVehicle(
                id=v.id,
                seats=v.seats,
                wheelchair_places=v.wheelchair_places,
                depot=Spot(v.depot.lat, v.depot.lon),
                day_start=cw.clock_minutes(day, p.service_starts),
                day_end=cw.clock_minutes(day, p.service_ends),
                max_route=float(p.max_route_hours) * 60.0,
            )
            for v in p.vehicles
        ]

    def planner(self, day: date, *, time_limit: float | None = None) -> Planner:
        fleet = self.fleet(day)
        if not fleet:
            raise InvalidBooking("day", "this city runs no scheduled vehicles")
        p = self.scheduled
        limit = float(p.replan_seconds) if time_limit is None else time_limit
        per = p.replan_seconds_per_booking
        return Planner(
            fleet,
            self.travel_minutes,
            time_limit=limit,
            seconds_per_booking=None if per is None else float(per),
        )

    # -- validation -----------------------------------------------------------------------------
    def _place(self, lat: float, lon: float, field: str) -> dict[str, float]:
        try:
            point = Point(lat, lon)
        except InvalidPoint as exc:
            raise InvalidBooking(field, str(exc)) from None
        centre = Point(self.city.centre.lat, self.city.centre.lon)
        radius = float(self.scheduled.area_radius_km)
        if great_circle_km(centre, point) > radius:
            raise InvalidBooking(
                field, f"({lat}, {lon}) is outside the area served ({radius:g} km of the centre)"
            )
        return {"lat": lat, "lon": lon}

    def _window(self, start: datetime, end: datetime) -> date:
        """The service day of a valid pickup window; InvalidBooking naming `window` if not."""
        p, cw = self.scheduled, self.clockwork
        for moment in (start, end):
            if moment.tzinfo is None or moment.utcoffset() is None:
                raise InvalidBooking(
                    "window", "give times with their offset (2026-12-08T09:00+01:00)"
                )
        if end <= start:
            raise InvalidBooking("window", f"the window ends ({end.isoformat()}) before it starts")
        length = (end - start).total_seconds() / 60
        if not p.min_window_minutes <= length <= p.max_window_minutes:
            raise InvalidBooking(
                "window",
                f"a pickup window is {p.min_window_minutes} to {p.max_window_minutes} minutes, "
                f"got {length:g}",
            )
        now = self.clock.now()
        if start < now + timedelta(minutes=p.min_notice_minutes):
            raise InvalidBooking(
                "window",
                f"the window starts in the past or within {p.min_notice_minutes} minutes' notice",
            )
        if start > now + timedelta(days=p.book_ahead_days):
            raise InvalidBooking("window", f"book at most {p.book_ahead_days} days ahead")
        day = cw.local_day(start)
        lo, hi = cw.clock_minutes(day, p.service_starts), cw.clock_minutes(day, p.service_ends)
        if cw.local_day(end) != day or cw.minutes(day, start) < lo or cw.minutes(day, end) > hi:
            raise InvalidBooking(
                "window",
                f"scheduled rides run {p.service_starts} to {p.service_ends} on one day",
            )
        return day

    def _seats(self, seats: int, wheelchair: bool) -> None:
        most = max((v.seats + (1 if wheelchair else 0) for v in self.scheduled.vehicles), default=0)
        if not 1 <= seats <= most:
            raise InvalidBooking("seats", f"1 to {most} people per booking, got {seats}")

    def _booking(
        self,
        ride_id: str,
        day: date,
        pickup: dict[str, float],
        dropoff: dict[str, float],
        start: datetime,
        end: datetime,
        seats: int,
        wheelchair: bool,
    ) -> Booking:
        """The planner's booking: the pickup window promised, and the drop-off window that
        follows from it and the longest ride the city allows."""
        p, cw = self.scheduled, self.clockwork
        a, b = _spot(pickup), _spot(dropoff)
        direct = self.travel_minutes.minutes(a, b)
        max_ride = direct * float(p.max_ride_factor) + p.max_ride_extra_minutes
        service = float(p.stop_minutes) + (float(p.wheelchair_stop_minutes) if wheelchair else 0)
        lo, hi = cw.minutes(day, start), cw.minutes(day, end)
        return Booking(
            ride_id=ride_id,
            pickup=a,
            dropoff=b,
            seats=seats,
            wheelchair=wheelchair,
            pickup_window=(lo, hi),
            dropoff_window=(lo, hi + service + max_ride),
            max_ride=max_ride,
            service=service,
        )

    # -- the plan -------------------------------------------------------------------------------
    def service_day(self, day: date) -> ServiceDay | None:
        try:
            found: ServiceDay = self.repository.get(ServiceDay.create_id(self.city.id, day))
        except AggregateNotFoundError:
            return None
        return found

    def _replan(
        self,
        day: date,
        *,
        cause: str,
        ride_id: str,
        add: Booking | None = None,
        remove: str | None = None,
        also: Any = None,
    ) -> ServiceDay:
        """Re-plan `day` (solving with no aggregate held), adopt at the version solved against,
        and save with `also(day)`'s aggregates in one transaction. Raises BookingDoesNotFit."""
        planner = self.planner(day)
        for _ in range(REPLAN_ATTEMPTS):
            current = self.service_day(day) or ServiceDay(self.city.id, day)
            based_on = current.version
            bookings = current.booked()
            orders = orders_of(current.plan())
            plan = planner.replan(bookings, orders, add=add, remove=remove)
            if plan is None:
                assert add is not None  # noqa: S101 (taking a booking out always has a plan)
                raise self._refusal(planner, day, bookings, orders, add)
            # The day as it is now: another booking may have been adopted meanwhile.
            fresh = self.service_day(day) or current
            try:
                fresh.adopt(
                    plan, based_on=based_on, cause=cause, ride_id=ride_id, add=add, remove=remove
                )
            except StalePlan:
                continue
            try:
                self.save(fresh, *(also(fresh) if also else ()))
            except IntegrityError:
                continue
            return fresh
        raise IntegrityError(f"day {day} kept changing while it was re-planned")

    def _refusal(
        self,
        planner: Planner,
        day: date,
        bookings: list[Booking],
        orders: dict[str, list[StopRef]],
        booking: Booking,
    ) -> BookingDoesNotFit:
        p, cw = self.scheduled, self.clockwork
        reason = planner.why_not(booking)
        nearest: list[tuple[datetime, datetime]] = []
        if reason == Refusal.NO_ROOM and p.nearest_windows:
            step, span = p.nearest_step_minutes, p.nearest_span_minutes
            lo = max(
                cw.clock_minutes(day, p.service_starts),
                cw.minutes(day, self.clock.now() + timedelta(minutes=p.min_notice_minutes)),
            )
            hi = cw.clock_minutes(day, p.service_ends)
            a, b = booking.pickup_window
            shifts = [
                s
                for k in range(1, span // step + 1)
                for s in (k * step, -k * step)
                if a + s >= lo and b + s <= hi
            ]
            found = planner.nearest_windows(
                bookings, orders, booking, shifts=shifts, count=p.nearest_windows
            )
            nearest = [(cw.at(day, x), cw.at(day, y)) for x, y in found]
        said = {
            Refusal.NO_WHEELCHAIR_PLACE: "no scheduled vehicle has a wheelchair place",
            Refusal.TOO_MANY_SEATS: "no scheduled vehicle carries that many",
            Refusal.CANNOT_SERVE_ALONE: "no vehicle can make this trip within the window and "
            "the service hours, even alone",
            Refusal.NO_ROOM: "the vehicles' other promises leave no room in this window",
        }[reason]
        return BookingDoesNotFit(reason, nearest, f"the booking does not fit: {said}")

    # -- booking --------------------------------------------------------------------------------
    def book_scheduled_ride(
        self,
        rider_id: str,
        *,
        pickup: tuple[float, float],
        dropoff: tuple[float, float],
        window_start: datetime,
        window_end: datetime,
        seats: int = 1,
        wheelchair: bool = False,
        booked_by: str | None = None,
        series_id: UUID | None = None,
    ) -> UUID:
        """Book a pickup window days ahead; re-plans the day. Raises InvalidBooking (changes
        nothing) or BookingDoesNotFit (with the reason and the nearest windows that fit)."""
        a = self._place(*pickup, field="pickup")
        b = self._place(*dropoff, field="dropoff")
        day = self._window(window_start, window_end)
        self._seats(seats, wheelchair)
        ride = ScheduledRide(
            rider_id=rider_id,
            booked_by=booked_by,
            day=day,
            pickup=a,
            dropoff=b,
            window_start=window_start.astimezone(UTC),
            window_end=window_end.astimezone(UTC),
            seats=seats,
            wheelchair=wheelchair,
            series_id=series_id,
            booked_at=self.clock.now(),
        )
        booking = self._booking(
            str(ride.id), day, a, b, window_start, window_end, seats, wheelchair
        )
        self._replan(day, cause="booked", ride_id=str(ride.id), add=booking, also=lambda _: (ride,))
        return ride.id

    def book_recurring_ride(
        self,
        rider_id: str,
        *,
        pickup: tuple[float, float],
        dropoff: tuple[float, float],
        window_start: datetime,
        window_end: datetime,
        weeks: int,
        seats: int = 1,
        wheelchair: bool = False,
        booked_by: str | None = None,
    ) -> SeriesBooked:
        """A seat every week at the first window's local time, for `weeks` weeks: each
        occurrence is its own ride, booked (or refused) on its own."""
        p, cw = self.scheduled, self.clockwork
        if not 1 <= weeks <= p.max_recurring_weeks:
            raise InvalidBooking("weeks", f"1 to {p.max_recurring_weeks} weeks, got {weeks}")
        a = self._place(*pickup, field="pickup")
        b = self._place(*dropoff, field="dropoff")
        first = self._window(window_start, window_end)
        self._seats(seats, wheelchair)
        if window_start > self.clock.now() + timedelta(days=p.book_ahead_days - 7 * (weeks - 1)):
            raise InvalidBooking(
                "weeks", f"the last week would be over {p.book_ahead_days} days ahead"
            )
        local_start = window_start.astimezone(cw.tz)
        minutes = round((window_end - window_start).total_seconds() / 60)
        series = RecurringSeries(
            rider_id=rider_id,
            booked_by=booked_by,
            first_day=first,
            weeks=weeks,
            window_start=local_start.strftime("%H:%M"),
            window_minutes=minutes,
            pickup=a,
            dropoff=b,
            seats=seats,
            wheelchair=wheelchair,
        )
        self.save(series)
        occurrences = []
        for k in range(weeks):
            day = first + timedelta(weeks=k)
            start = datetime.combine(day, local_start.timetz().replace(tzinfo=None), cw.tz)
            try:
                ride_id = self.book_scheduled_ride(
                    rider_id,
                    pickup=pickup,
                    dropoff=dropoff,
                    window_start=start,
                    window_end=start + timedelta(minutes=minutes),
                    seats=seats,
                    wheelchair=wheelchair,
                    booked_by=booked_by,
                    series_id=series.id,
                )
            except (BookingDoesNotFit, InvalidBooking) as exc:
                reason = exc.reason if isinstance(exc, BookingDoesNotFit) else exc.field
                series.record(day, ride_id=None, reason=reason)
                occurrences.append(Occurrence(day, None, exc))
            else:
                series.record(day, ride_id=ride_id)
                occurrences.append(Occurrence(day, ride_id, None))
        self.save(series)
        return SeriesBooked(series.id, occurrences)

    def scheduled_ride(self, ride_id: UUID) -> ScheduledRide:
        try:
            ride: ScheduledRide = self.repository.get(ride_id)
        except AggregateNotFoundError:
            raise ScheduledRideNotFound(ride_id) from None
        if not isinstance(ride, ScheduledRide):
            raise ScheduledRideNotFound(ride_id)
        return ride

    def _own(self, member_id: str, ride_id: UUID, *, desk: bool) -> ScheduledRide:
        ride = self.scheduled_ride(ride_id)
        if not (desk or ride.may_act(member_id)):
            raise NotYourBooking(ride_id)
        return ride

    def change_scheduled_ride(
        self,
        member_id: str,
        ride_id: UUID,
        *,
        window_start: datetime,
        window_end: datetime,
        desk: bool = False,
    ) -> ScheduledRide:
        """Move a booking's pickup window within its day; re-plans. The old window stays
        promised if the new one does not fit (BookingDoesNotFit, nothing changed)."""
        ride = self._own(member_id, ride_id, desk=desk)
        if ride.state is not BookingState.BOOKED:
            ride.change(window_start=window_start, window_end=window_end, by=member_id)
        day = self._window(window_start, window_end)
        if day != ride.day:
            raise InvalidBooking("window", "a change keeps the day; cancel and book another day")
        booking = self._booking(
            str(ride.id),
            day,
            ride.pickup,
            ride.dropoff,
            window_start,
            window_end,
            ride.seats,
            ride.wheelchair,
        )

        def changed(_: ServiceDay) -> tuple[ScheduledRide]:
            fresh = self.scheduled_ride(ride_id)
            fresh.change(
                window_start=window_start.astimezone(UTC),
                window_end=window_end.astimezone(UTC),
                by=member_id,
            )
            return (fresh,)

        self._replan(
            day,
            cause="changed",
            ride_id=str(ride.id),
            add=booking,
            remove=str(ride.id),
            also=changed,
        )
        return self.scheduled_ride(ride_id)

    def cancel_scheduled_ride(
        self, member_id: str, ride_id: UUID, *, desk: bool = False
    ) -> ScheduledRide:
        """Cancel one booking (one occurrence of a series, alone); re-plans its day."""
        ride = self._own(member_id, ride_id, desk=desk)
        if ride.state is not BookingState.BOOKED:
            ride.cancel(by=member_id, at=self.clock.now())  # raises BookingCancelled

        def cancelled(_: ServiceDay) -> tuple[ScheduledRide]:
            fresh = self.scheduled_ride(ride_id)
            fresh.cancel(by=member_id, at=self.clock.now())
            return (fresh,)

        self._replan(
            ride.day, cause="cancelled", ride_id=str(ride.id), remove=str(ride.id), also=cancelled
        )
        return self.scheduled_ride(ride_id)

    # -- reading --------------------------------------------------------------------------------
    def planned(self, ride: ScheduledRide) -> tuple[str | None, datetime | None]:
        """The vehicle and the planned pickup time of a booking, from its day's latest plan."""
        if ride.state is not BookingState.BOOKED:
            return None, None
        day = self.service_day(ride.day)
        if day is None:
            return None, None
        for vehicle, stops in day.plan().items():
            for s in stops:
                if s.ride_id == str(ride.id) and s.kind == "pickup":
                    return vehicle, self.clockwork.at(ride.day, s.at)
        return None, None

    def scheduled_rides_of(
        self,
        member_id: str,
        *,
        first: int | None = None,
        after: str | None = None,
        seen: str | None = None,
    ) -> Listing[ScheduledRecord]:
        request = page_request(first, after, arity=2)
        as_of = read_after(self, ScheduledRideRecords, seen)
        return Listing(
            self.read_model(ScheduledRideRecords).of_rider(member_id, request),
            as_of,
        )

    def vehicle_days(
        self, day: date, *, vehicle: str | None = None, seen: str | None = None
    ) -> tuple[list[VehicleDay], str]:
        """Every scheduled vehicle's stops on `day` (or one vehicle's), from the read model."""
        names = {v.id: v.name for v in self.scheduled.vehicles}
        fleet = [v for v in self.fleet(day) if vehicle is None or v.id == vehicle]
        if vehicle is not None and not fleet:
            raise InvalidBooking("vehicleId", f"no scheduled vehicle {vehicle!r}")
        as_of = read_after(self, VehicleStops, seen)
        stops = self.read_model(VehicleStops)
        return [
            VehicleDay(v, names[v.id], day, stops.of_vehicle(day, v.id, limit=MAX_STOPS))
            for v in fleet
        ], as_of


def route_km(stops: list[StopRecord], travel: Travel) -> float:
    km = 0.0
    for a, b in pairwise(stops):
        km += travel.km(Spot(a.lat, a.lon), Spot(b.lat, b.lon))
    return km
