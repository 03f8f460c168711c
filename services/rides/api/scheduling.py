"""GraphQL for scheduled, recurring and pooled rides (services.rides.scheduling).

    bookScheduledRide    a pickup window days ahead (for oneself, or by the desk for a member
                         who consented); refused as BookingDoesNotFit with the nearest windows
    bookRecurringRide    the same window every week; each occurrence its own ride
    changeScheduledRide  move a booking's window within its day; cancelScheduledRide
    scheduledRide, myScheduledRides
    vehicleSchedules     every scheduled vehicle's stops for a day (the desk, drivers, the board)
    vehicleRoute         one vehicle's ordered stops with times and coordinates, for a map

Roles are checked by the kernel's guard from the permission matrix; what depends on the row (a
member changes their own booking, the desk anyone's) is checked here.
"""

from __future__ import annotations

from datetime import date, datetime  # noqa: TC003 (strawberry reads the hints at runtime)
from enum import Enum
from typing import TYPE_CHECKING, Annotated, TypeVar

import strawberry
from starlette.concurrency import run_in_threadpool
from strawberry.types import Info  # noqa: TC002 (strawberry reads resolver hints at runtime)

from kernel import delegation
from kernel.api import Context, InvalidInput, NoConsent, NotAuthorized, Problem, UnknownMember
from kernel.audit import AuditKind
from kernel.connections import Connection, connection
from kernel.delegation import delegations
from kernel.ids import InvalidId, member_id, parse_uuid
from kernel.paging import Page, encode_cursor, page_request
from kernel.readside.freshness import written
from services.rides.api.location import LocationInput  # noqa: TC001 (strawberry reads it)
from services.rides.api.problems import EXPECTED, RidesProblem, problem
from services.rides.application import Rides
from services.rides.scheduling import domain
from services.rides.scheduling.application import VehicleDay, route_km

if TYPE_CHECKING:
    from collections.abc import Callable

    from kernel.auth import Identity
    from services.rides.scheduling.domain import ScheduledRide
    from services.rides.scheduling.projections import ScheduledRecord

T = TypeVar("T")
DESK_ROLES = ("dispatcher", "board")


# -- types ----------------------------------------------------------------------------------------
@strawberry.input(description="A pickup window: times with their offset, on one service day.")
class PickupWindowInput:
    start: datetime
    end: datetime


@strawberry.input
class ScheduledRideInput:
    pickup: LocationInput
    dropoff: LocationInput
    window: PickupWindowInput
    seats: int = 1
    wheelchair: bool = False
    on_behalf_of: str | None = strawberry.field(
        default=None, description="A member's id: the desk books for a member who consented."
    )


@strawberry.type
class PickupWindow:
    start: datetime
    end: datetime


@strawberry.type
class ScheduledPlace:
    lat: float
    lon: float


@strawberry.enum
class ScheduledRideState(Enum):
    BOOKED = "booked"
    CANCELLED = "cancelled"


@strawberry.type(description="A scheduled booking; `plannedPickupAt` is the latest plan's time.")
class ScheduledRideView:
    id: strawberry.ID
    rider_id: str
    booked_by: str | None
    day: date
    state: ScheduledRideState
    window: PickupWindow
    seats: int
    wheelchair: bool
    series_id: strawberry.ID | None
    pickup: ScheduledPlace
    dropoff: ScheduledPlace
    vehicle_id: str | None = None
    planned_pickup_at: datetime | None = None

    @classmethod
    def of(
        cls, ride: ScheduledRide, vehicle: str | None = None, at: datetime | None = None
    ) -> ScheduledRideView:
        return cls(
            id=strawberry.ID(str(ride.id)),
            rider_id=ride.rider_id,
            booked_by=ride.booked_by,
            day=ride.day,
            state=ScheduledRideState(ride.state.value),
            window=PickupWindow(start=ride.window_start, end=ride.window_end),
            seats=ride.seats,
            wheelchair=ride.wheelchair,
            series_id=None if ride.series_id is None else strawberry.ID(str(ride.series_id)),
            pickup=ScheduledPlace(lat=ride.pickup["lat"], lon=ride.pickup["lon"]),
            dropoff=ScheduledPlace(lat=ride.dropoff["lat"], lon=ride.dropoff["lon"]),
            vehicle_id=vehicle,
            planned_pickup_at=at,
        )

    @classmethod
    def of_record(cls, r: ScheduledRecord) -> ScheduledRideView:
        return cls(
            id=strawberry.ID(r.ride_id),
            rider_id=r.rider_id,
            booked_by=r.booked_by,
            day=r.day,
            state=ScheduledRideState(r.state.value),
            window=PickupWindow(start=r.window_start, end=r.window_end),
            seats=r.seats,
            wheelchair=r.wheelchair,
            series_id=None if r.series_id is None else strawberry.ID(r.series_id),
            pickup=ScheduledPlace(lat=r.pickup[0], lon=r.pickup[1]),
            dropoff=ScheduledPlace(lat=r.dropoff[0], lon=r.dropoff[1]),
        )


@strawberry.type
class ScheduledRideChanged:
    ride: ScheduledRideView
    position: str


@strawberry.type
class RefusedOccurrence:
    day: date
    reason: str
    message: str
    nearest_windows: list[PickupWindow]


@strawberry.type
class RecurringRideBooked:
    series_id: strawberry.ID
    booked: list[ScheduledRideView]
    refused: list[RefusedOccurrence]
    position: str


@strawberry.type(
    description="One stop of a vehicle's day; `kind` is start, pickup, dropoff or end."
)
class RouteStop:
    seq: int
    kind: str
    ride_id: strawberry.ID | None
    arrival_at: datetime
    at: datetime
    lat: float
    lon: float


@strawberry.type(description="A scheduled vehicle's day: its stops in order, ready for a map.")
class VehicleSchedule:
    vehicle_id: str
    name: str
    seats: int
    wheelchair_places: int
    day: date
    km: float
    stops: list[RouteStop]
    path: list[list[float]] = strawberry.field(
        description="The stops' coordinates in order as GeoJSON LineString positions [lon, lat]."
    )


# -- problems -------------------------------------------------------------------------------------
@strawberry.type(
    description="No plan serves this booking and keeps every other promise; `reason` is one of "
    "no_room_in_window, cannot_serve_alone, no_wheelchair_place, too_many_seats; "
    "`nearestWindows` fit the day as it stands. Nothing was booked."
)
class BookingDoesNotFit(Problem):
    reason: str
    nearest_windows: list[PickupWindow]


@strawberry.type(description="No scheduled ride with this id that the caller may see.")
class ScheduledRideNotFound(Problem):
    ride_id: strawberry.ID


@strawberry.type(description="The scheduled ride is cancelled; `action` cannot be done.")
class ScheduledRideCancelled(Problem):
    ride_id: strawberry.ID
    action: str


ScheduledProblem = (
    RidesProblem
    | BookingDoesNotFit
    | ScheduledRideNotFound
    | ScheduledRideCancelled
    | UnknownMember
    | NoConsent
)
ScheduledRideResult = Annotated[
    ScheduledRideChanged | ScheduledProblem, strawberry.union("ScheduledRideResult")
]
RecurringRideResult = Annotated[
    RecurringRideBooked | ScheduledProblem, strawberry.union("RecurringRideResult")
]
ScheduledRideViewResult = Annotated[
    ScheduledRideView | ScheduledProblem, strawberry.union("ScheduledRideViewResult")
]
ScheduledRidesResult = Annotated[
    Connection[ScheduledRideView] | ScheduledProblem, strawberry.union("ScheduledRidesResult")
]
VehicleSchedulesResult = Annotated[
    Connection[VehicleSchedule] | ScheduledProblem, strawberry.union("VehicleSchedulesResult")
]
VehicleRouteResult = Annotated[
    VehicleSchedule | ScheduledProblem, strawberry.union("VehicleRouteResult")
]


def _windows(found: list[tuple[datetime, datetime]]) -> list[PickupWindow]:
    return [PickupWindow(start=a, end=b) for a, b in found]


def scheduling_problem(exc: Exception) -> ScheduledProblem:
    message = str(exc)
    match exc:
        case domain.InvalidBooking(field=field):
            return InvalidInput(message=message, field=field)
        case domain.BookingDoesNotFit(reason=reason, nearest=nearest):
            return BookingDoesNotFit(
                message=message, reason=reason, nearest_windows=_windows(nearest)
            )
        case domain.ScheduledRideNotFound(ride_id=ride_id) | domain.NotYourBooking(ride_id=ride_id):
            # Another member's booking is not revealed to exist.
            return ScheduledRideNotFound(
                message=f"no scheduled ride {ride_id}", ride_id=strawberry.ID(ride_id)
            )
        case domain.BookingCancelled(ride_id=ride_id, action=action):
            return ScheduledRideCancelled(
                message=message, ride_id=strawberry.ID(ride_id), action=action
            )
    return problem(exc)


async def scall(fn: Callable[[], T]) -> T | ScheduledProblem:
    """Run a synchronous application call in a thread; expected errors become problems."""
    try:
        return await run_in_threadpool(fn)
    except (domain.SchedulingError, *EXPECTED) as exc:
        return scheduling_problem(exc)


async def _for_whom(
    info: Info[Context, None], on_behalf_of: str | None
) -> tuple[str, str | None] | ScheduledProblem:
    """The rider and who booked for them: the caller, or a member who consented (the desk)."""
    who = info.context.caller
    if on_behalf_of is None:
        return who.member_id, None
    if not who.has("dispatcher"):
        return NotAuthorized(
            message="booking for another member needs the 'dispatcher' role",
            required_role="dispatcher",
        )
    try:
        rider = member_id(on_behalf_of)
    except InvalidId as exc:
        return InvalidInput(message=str(exc), field="onBehalfOf")
    try:
        await run_in_threadpool(delegations(info.context).check, who, rider)
    except delegation.UnknownMember as exc:
        return UnknownMember(message=str(exc), member_id=exc.member_id)
    except delegation.NoConsent as exc:
        return NoConsent(message=str(exc), member_id=exc.member_id)
    return rider, who.member_id


def _desk(who: Identity) -> bool:
    return any(who.has(role) for role in DESK_ROLES)


def _ride_id(value: strawberry.ID) -> object:
    return parse_uuid(str(value), what="scheduled ride")


def _view(rides: Rides, ride: ScheduledRide) -> ScheduledRideView:
    vehicle, at = rides.planned(ride)
    return ScheduledRideView.of(ride, vehicle, at)


def _schedule(rides: Rides, vd: VehicleDay) -> VehicleSchedule:
    at = rides.clockwork.at
    return VehicleSchedule(
        vehicle_id=vd.vehicle.id,
        name=vd.name,
        seats=vd.vehicle.seats,
        wheelchair_places=vd.vehicle.wheelchair_places,
        day=vd.day,
        km=round(route_km(vd.stops, rides.travel_minutes), 2),
        stops=[
            RouteStop(
                seq=s.seq,
                kind=s.kind,
                ride_id=None if s.ride_id is None else strawberry.ID(s.ride_id),
                arrival_at=at(vd.day, s.arrival),
                at=at(vd.day, s.at),
                lat=s.lat,
                lon=s.lon,
            )
            for s in vd.stops
        ],
        path=[[s.lon, s.lat] for s in vd.stops],
    )


# -- mutations ------------------------------------------------------------------------------------
@strawberry.type
class ScheduledRidesMutation:
    @strawberry.mutation(
        description="Book a scheduled ride for a pickup window days ahead (or, as the desk, "
        "for a member who consented: onBehalfOf). The day is re-planned at once; a booking that "
        "cannot fit is refused with the reason and the nearest windows that fit."
    )
    async def book_scheduled_ride(
        self, info: Info[Context, None], input: ScheduledRideInput
    ) -> ScheduledRideResult:
        whom = await _for_whom(info, input.on_behalf_of)
        if not isinstance(whom, tuple):
            return whom
        rider, booked_by = whom
        rides = info.context.app(Rides)

        def book() -> tuple[ScheduledRideView, str]:
            ride_id = rides.book_scheduled_ride(
                rider,
                pickup=(input.pickup.lat, input.pickup.lon),
                dropoff=(input.dropoff.lat, input.dropoff.lon),
                window_start=input.window.start,
                window_end=input.window.end,
                seats=input.seats,
                wheelchair=input.wheelchair,
                booked_by=booked_by,
            )
            return _view(rides, rides.scheduled_ride(ride_id)), written(rides)

        result = await scall(book)
        if not isinstance(result, tuple):
            return result
        if booked_by is not None:
            info.context.audited(
                AuditKind.ACTED_ON_BEHALF, "bookScheduledRide", "booked", subject=rider
            )
        return ScheduledRideChanged(ride=result[0], position=result[1])

    @strawberry.mutation(
        description="Book the same pickup window every week for `weeks` weeks (every Tuesday "
        "to the clinic): each occurrence is its own ride, booked or refused on its own."
    )
    async def book_recurring_ride(
        self, info: Info[Context, None], input: ScheduledRideInput, weeks: int
    ) -> RecurringRideResult:
        whom = await _for_whom(info, input.on_behalf_of)
        if not isinstance(whom, tuple):
            return whom
        rider, booked_by = whom
        rides = info.context.app(Rides)

        def book() -> RecurringRideBooked:
            series = rides.book_recurring_ride(
                rider,
                pickup=(input.pickup.lat, input.pickup.lon),
                dropoff=(input.dropoff.lat, input.dropoff.lon),
                window_start=input.window.start,
                window_end=input.window.end,
                weeks=weeks,
                seats=input.seats,
                wheelchair=input.wheelchair,
                booked_by=booked_by,
            )
            booked, refused = [], []
            for o in series.occurrences:
                if o.ride_id is not None:
                    booked.append(_view(rides, rides.scheduled_ride(o.ride_id)))
                else:
                    exc = o.refusal
                    refused.append(
                        RefusedOccurrence(
                            day=o.day,
                            reason=str(getattr(exc, "reason", None) or getattr(exc, "field", "")),
                            message=str(exc),
                            nearest_windows=_windows(getattr(exc, "nearest", [])),
                        )
                    )
            return RecurringRideBooked(
                series_id=strawberry.ID(str(series.series_id)),
                booked=booked,
                refused=refused,
                position=written(rides),
            )

        result = await scall(book)
        if booked_by is not None and isinstance(result, RecurringRideBooked):
            info.context.audited(
                AuditKind.ACTED_ON_BEHALF, "bookRecurringRide", "booked", subject=rider
            )
        return result

    @strawberry.mutation(
        description="Move a booking's pickup window within its day (the rider, the booker or "
        "the desk); the day is re-planned, and if the new window cannot fit nothing changes."
    )
    async def change_scheduled_ride(
        self, info: Info[Context, None], ride_id: strawberry.ID, window: PickupWindowInput
    ) -> ScheduledRideResult:
        who = info.context.caller
        rides = info.context.app(Rides)

        def change() -> tuple[ScheduledRideView, str]:
            ride = rides.change_scheduled_ride(
                who.member_id,
                _ride_id(ride_id),  # type: ignore[arg-type]
                window_start=window.start,
                window_end=window.end,
                desk=_desk(who),
            )
            return _view(rides, ride), written(rides)

        result = await scall(change)
        if not isinstance(result, tuple):
            return result
        return ScheduledRideChanged(ride=result[0], position=result[1])

    @strawberry.mutation(
        description="Cancel one scheduled ride (one occurrence of a series, alone); the day is "
        "re-planned without it, and everyone else keeps their window."
    )
    async def cancel_scheduled_ride(
        self, info: Info[Context, None], ride_id: strawberry.ID
    ) -> ScheduledRideResult:
        who = info.context.caller
        rides = info.context.app(Rides)

        def cancel() -> tuple[ScheduledRideView, str]:
            ride = rides.cancel_scheduled_ride(
                who.member_id,
                _ride_id(ride_id),  # type: ignore[arg-type]
                desk=_desk(who),
            )
            return _view(rides, ride), written(rides)

        result = await scall(cancel)
        if not isinstance(result, tuple):
            return result
        return ScheduledRideChanged(ride=result[0], position=result[1])


# -- queries --------------------------------------------------------------------------------------
@strawberry.type
class ScheduledRidesQuery:
    @strawberry.field(
        description="One scheduled ride with its planned vehicle and pickup time: its rider, "
        "its booker, the desk, drivers and the board."
    )
    async def scheduled_ride(
        self, info: Info[Context, None], id: strawberry.ID
    ) -> ScheduledRideViewResult:
        who = info.context.caller
        rides = info.context.app(Rides)

        def read() -> ScheduledRideView:
            ride = rides.scheduled_ride(_ride_id(id))  # type: ignore[arg-type]
            if not (ride.may_act(who.member_id) or _desk(who) or who.has("driver")):
                raise domain.NotYourBooking(ride.id)
            return _view(rides, ride)

        return await scall(read)

    @strawberry.field(description="The caller's scheduled rides, soonest window first.")
    async def my_scheduled_rides(
        self,
        info: Info[Context, None],
        first: int | None = None,
        after: str | None = None,
        seen: str | None = None,
    ) -> ScheduledRidesResult:
        rides, who = info.context.app(Rides), info.context.caller.member_id
        result = await scall(
            lambda: rides.scheduled_rides_of(who, first=first, after=after, seen=seen)
        )
        if isinstance(result, Problem):
            return result
        return connection(result.page, ScheduledRideView.of_record, as_of=result.as_of, after=after)

    @strawberry.field(
        description="Every scheduled vehicle's stops for a day, paged by vehicle (first: at "
        "most 100); each vehicle's day is bounded (a few dozen stops)."
    )
    async def vehicle_schedules(
        self,
        info: Info[Context, None],
        day: date,
        first: int | None = None,
        after: str | None = None,
        seen: str | None = None,
    ) -> VehicleSchedulesResult:
        rides = info.context.app(Rides)

        def read() -> Connection[VehicleSchedule]:
            request = page_request(first, after, arity=1)
            days, as_of = rides.vehicle_days(day, seen=seen)
            days.sort(key=lambda d: d.vehicle.id)
            if request.after is not None:
                days = [d for d in days if d.vehicle.id > request.after[0]]
            shown = days[: request.first]
            page = Page(
                items=[_schedule(rides, d) for d in shown],
                cursors=[encode_cursor([d.vehicle.id]) for d in shown],
                has_next=len(days) > request.first,
            )
            return connection(page, lambda s: s, as_of=as_of, after=after)

        return await scall(read)

    @strawberry.field(
        description="One vehicle's route for a day: ordered stops with times and coordinates, "
        "and the path for a map."
    )
    async def vehicle_route(
        self,
        info: Info[Context, None],
        vehicle_id: str,
        day: date,
        seen: str | None = None,
    ) -> VehicleRouteResult:
        rides = info.context.app(Rides)

        def read() -> VehicleSchedule:
            days, _ = rides.vehicle_days(day, vehicle=vehicle_id, seen=seen)
            return _schedule(rides, days[0])

        return await scall(read)
