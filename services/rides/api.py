"""GraphQL for rides: strawberry types, inputs, result unions, RidesQuery and RidesMutation.

Resolvers check who is calling, call the application in a thread (it is synchronous) and map
the context's expected errors to union members in one place (`_problem`).
"""

from __future__ import annotations

from datetime import datetime  # noqa: TC003 (strawberry resolves annotations at runtime)
from decimal import Decimal  # noqa: TC003
from typing import TYPE_CHECKING, Annotated, TypeVar

import strawberry
from eventsourcing.persistence import IntegrityError
from starlette.concurrency import run_in_threadpool
from strawberry.types import Info  # noqa: TC002 (strawberry reads resolver hints at runtime)

from kernel import delegation
from kernel.api import (
    Conflict,
    Context,
    InvalidInput,
    NoConsent,
    NotAuthenticated,
    NotAuthorized,
    NotFound,
    UnknownMember,
)
from kernel.delegation import delegations
from kernel.ids import InvalidId, member_id, parse_uuid
from kernel.role_requests import role_requests
from services.rides.application import Rides, place
from services.rides.domain import (
    Driver,
    DriverAlreadyRegistered,
    DriverBusy,
    DriverNotRegistered,
    InvalidRideRequest,
    NotYourRide,
    Ride,
    RideNotFound,
    RidesError,
    RideStateConflict,
)

if TYPE_CHECKING:
    from collections.abc import Callable
    from uuid import UUID

    from kernel.auth import Identity

T = TypeVar("T")
Problems = NotAuthenticated | NotAuthorized | InvalidInput | NotFound | Conflict


@strawberry.type
class Location:
    lat: float
    lon: float


@strawberry.input
class LocationInput:
    lat: float
    lon: float


@strawberry.type
class FareShare:
    part: str
    amount: Decimal


@strawberry.type(name="Ride")
class RideView:
    id: strawberry.ID
    state: str
    rider_id: str
    booked_by: str | None
    driver_id: str | None
    pickup: Location
    dropoff: Location
    seats: int
    wheelchair: bool
    distance_km: Decimal
    quote: Decimal
    currency: str
    fare: Decimal | None
    split: list[FareShare]
    offer_reason: str | None = strawberry.field(
        description="Why the ride was offered to this driver, in words the driver can check."
    )
    requested_at: datetime
    accepted_at: datetime | None
    picked_up_at: datetime | None
    completed_at: datetime | None
    cancel_reason: str | None

    @classmethod
    def from_ride(cls, ride: Ride) -> RideView:
        return cls(
            id=strawberry.ID(str(ride.id)),
            state=ride.state.value,
            rider_id=ride.rider_id,
            booked_by=ride.booked_by,
            driver_id=ride.driver_id,
            pickup=Location(lat=ride.pickup.lat, lon=ride.pickup.lon),
            dropoff=Location(lat=ride.dropoff.lat, lon=ride.dropoff.lon),
            seats=ride.seats,
            wheelchair=ride.wheelchair,
            distance_km=ride.distance_km,
            quote=ride.quote,
            currency=ride.currency,
            fare=ride.fare,
            split=[FareShare(part=k, amount=v) for k, v in ride.split.items()],
            offer_reason=ride.offer_reason,
            requested_at=ride.requested_at,
            accepted_at=ride.accepted_at,
            picked_up_at=ride.picked_up_at,
            completed_at=ride.completed_at,
            cancel_reason=ride.cancel_reason,
        )


@strawberry.type(name="Driver")
class DriverView:
    member_id: str
    status: str
    seats: int
    wheelchair_accessible: bool
    vehicle: str
    position: Location | None
    current_ride_id: strawberry.ID | None
    completed_rides: int

    @classmethod
    def from_driver(cls, driver: Driver) -> DriverView:
        return cls(
            member_id=driver.member_id,
            status=driver.status.value,
            seats=driver.seats,
            wheelchair_accessible=driver.wheelchair_accessible,
            vehicle=driver.vehicle,
            position=Location(lat=driver.position.lat, lon=driver.position.lon)
            if driver.position
            else None,
            current_ride_id=strawberry.ID(str(driver.current_ride))
            if driver.current_ride
            else None,
            completed_rides=len(driver.rides),
        )


@strawberry.type
class DriverRegistered:
    driver: DriverView
    role_requested: bool = strawberry.field(
        description="True: the driver role is asked of the board; once a board member grants "
        "it, the next token (signIn or refreshToken) carries it. False: it is held already."
    )


@strawberry.type
class Quote:
    distance_km: Decimal
    fare: Decimal
    currency: str
    split: list[FareShare]


@strawberry.input
class RequestRideInput:
    pickup: LocationInput
    dropoff: LocationInput
    seats: int = 1
    wheelchair: bool = False
    on_behalf_of: str | None = strawberry.field(
        default=None,
        description="A dispatcher books for this member (who has no smartphone, say).",
    )


@strawberry.input
class RegisterDriverInput:
    seats: int
    wheelchair_accessible: bool = False
    vehicle: str = "car"


RideResult = Annotated[RideView | Problems, strawberry.union("RideResult")]
DriverResult = Annotated[DriverView | Problems, strawberry.union("DriverResult")]
RegisterDriverResult = Annotated[
    DriverRegistered | Problems, strawberry.union("RegisterDriverResult")
]
QuoteResult = Annotated[Quote | InvalidInput, strawberry.union("QuoteResult")]
RequestRideResult = Annotated[
    RideView | Problems | UnknownMember | NoConsent, strawberry.union("RequestRideResult")
]


@strawberry.type
class RideList:
    rides: list[RideView]


RidesResult = Annotated[RideList | Problems, strawberry.union("RidesResult")]


def _problem(exc: Exception) -> InvalidInput | NotFound | Conflict:
    """The one mapping of the context's expected errors to GraphQL problems."""
    if isinstance(exc, InvalidRideRequest):
        return InvalidInput(message=str(exc), field=exc.field)
    if isinstance(exc, InvalidId):
        return InvalidInput(message=str(exc), field="id")
    if isinstance(exc, RideNotFound | DriverNotRegistered):
        return NotFound(message=str(exc))
    if isinstance(exc, RideStateConflict | DriverBusy | DriverAlreadyRegistered | NotYourRide):
        return Conflict(message=str(exc))
    raise exc


async def _call(fn: Callable[[], T]) -> T | InvalidInput | NotFound | Conflict:
    try:
        return await run_in_threadpool(fn)
    except (RidesError, InvalidId) as exc:
        return _problem(exc)
    except IntegrityError:
        # Lost an optimistic-concurrency race that retrying could not settle; nothing saved.
        return Conflict(message="the ride or driver changed at the same moment; try again")


def _ride_id(value: strawberry.ID) -> UUID:
    return parse_uuid(str(value), what="ride")


async def _ride_command(
    info: Info[Context, None], role: str, command: Callable[[Rides, Identity], Ride]
) -> RideView | Problems:
    who = info.context.require(role)
    if isinstance(who, NotAuthenticated | NotAuthorized):
        return who
    rides = info.context.app(Rides)
    result = await _call(lambda: command(rides, who))
    return RideView.from_ride(result) if isinstance(result, Ride) else result


@strawberry.type
class RidesQuery:
    @strawberry.field(description="What a ride would cost, before booking. No sign-in needed.")
    async def quote_ride(
        self, info: Info[Context, None], pickup: LocationInput, dropoff: LocationInput
    ) -> QuoteResult:
        try:
            a = place(pickup.lat, pickup.lon, field="pickup")
            b = place(dropoff.lat, dropoff.lon, field="dropoff")
        except InvalidRideRequest as exc:
            return InvalidInput(message=str(exc), field=exc.field)
        km, fare = info.context.app(Rides).quote(pickup=a, dropoff=b)
        return Quote(
            distance_km=km,
            fare=fare.total,
            currency=fare.currency,
            split=[FareShare(part=k, amount=v) for k, v in fare.split.items()],
        )

    @strawberry.field(description="One ride: its rider, its driver, dispatchers and the board.")
    async def ride(self, info: Info[Context, None], id: strawberry.ID) -> RideResult:
        who = info.context.require("member")
        if isinstance(who, NotAuthenticated | NotAuthorized):
            return who
        result = await _call(lambda: info.context.app(Rides).ride(_ride_id(id)))
        if not isinstance(result, Ride):
            return result
        allowed = who.member_id in (result.rider_id, result.driver_id, result.booked_by)
        if not (allowed or who.has("dispatcher") or who.has("board")):
            return NotFound(message=f"no ride {id}")  # do not reveal others' rides exist
        return RideView.from_ride(result)

    @strawberry.field(description="The caller's rides as a rider, oldest first.")
    async def my_rides(self, info: Info[Context, None]) -> RidesResult:
        who = info.context.require("member")
        if isinstance(who, NotAuthenticated | NotAuthorized):
            return who
        rides = await run_in_threadpool(info.context.app(Rides).rides_of, who.member_id)
        return RideList(rides=[RideView.from_ride(r) for r in rides])

    @strawberry.field(description="The caller's completed rides as a driver.")
    async def my_drives(self, info: Info[Context, None]) -> RidesResult:
        who = info.context.require("driver")
        if isinstance(who, NotAuthenticated | NotAuthorized):
            return who
        result = await _call(lambda: info.context.app(Rides).drives_of(who.member_id))
        if isinstance(result, list):
            return RideList(rides=[RideView.from_ride(r) for r in result])
        return result

    @strawberry.field(description="The caller's driver record: status, position, current ride.")
    async def my_driver(self, info: Info[Context, None]) -> DriverResult:
        who = info.context.require("driver")
        if isinstance(who, NotAuthenticated | NotAuthorized):
            return who
        result = await _call(lambda: info.context.app(Rides).driver(who.member_id))
        return DriverView.from_driver(result) if isinstance(result, Driver) else result


@strawberry.type
class RidesMutation:
    @strawberry.mutation(
        description="Register the caller's vehicle and ask the board for the driver role."
    )
    async def register_driver(
        self, info: Info[Context, None], input: RegisterDriverInput
    ) -> RegisterDriverResult:
        who = info.context.require("member")
        if isinstance(who, NotAuthenticated | NotAuthorized):
            return who
        rides = info.context.app(Rides)

        def register() -> Driver:
            rides.register_driver(
                who.member_id,
                seats=input.seats,
                wheelchair_accessible=input.wheelchair_accessible,
                vehicle=input.vehicle,
            )
            return rides.driver(who.member_id)

        result = await _call(register)
        if not isinstance(result, Driver):
            return result
        # The driver role is the board's to grant (kernel/role_requests.py); the member's next
        # token after the grant carries it.
        asked = await run_in_threadpool(
            role_requests(info.context).request, who.member_id, "driver", "registered a vehicle"
        )
        return DriverRegistered(driver=DriverView.from_driver(result), role_requested=asked)

    @strawberry.mutation(description="Go on duty at a position; waiting rides may be offered.")
    async def go_on_duty(self, info: Info[Context, None], position: LocationInput) -> DriverResult:
        who = info.context.require("driver")
        if isinstance(who, NotAuthenticated | NotAuthorized):
            return who
        rides = info.context.app(Rides)
        result = await _call(
            lambda: rides.go_on_duty(who.member_id, lat=position.lat, lon=position.lon)
        )
        return DriverView.from_driver(result) if isinstance(result, Driver) else result

    @strawberry.mutation
    async def go_off_duty(self, info: Info[Context, None]) -> DriverResult:
        who = info.context.require("driver")
        if isinstance(who, NotAuthenticated | NotAuthorized):
            return who
        result = await _call(lambda: info.context.app(Rides).go_off_duty(who.member_id))
        return DriverView.from_driver(result) if isinstance(result, Driver) else result

    @strawberry.mutation(
        description="Request an immediate ride; it is offered to a driver at once."
    )
    async def request_ride(
        self, info: Info[Context, None], input: RequestRideInput
    ) -> RequestRideResult:
        who = info.context.require("member")
        if isinstance(who, NotAuthenticated | NotAuthorized):
            return who
        rider, booked_by = who.member_id, None
        if input.on_behalf_of is not None:
            if not who.has("dispatcher"):
                return NotAuthorized(
                    message="booking for another member needs the 'dispatcher' role",
                    required_role="dispatcher",
                )
            try:
                rider, booked_by = member_id(input.on_behalf_of), who.member_id
            except InvalidId as exc:
                return InvalidInput(message=str(exc), field="onBehalfOf")
            try:
                # The member must exist in this city and have consented (kernel/delegation.py).
                await run_in_threadpool(delegations(info.context).check, who, rider)
            except delegation.UnknownMember as exc:
                return UnknownMember(message=str(exc), member_id=exc.member_id)
            except delegation.NoConsent as exc:
                return NoConsent(message=str(exc), member_id=exc.member_id)
        rides = info.context.app(Rides)

        def request() -> Ride:
            ride_id = rides.request_ride(
                rider,
                pickup=place(input.pickup.lat, input.pickup.lon, field="pickup"),
                dropoff=place(input.dropoff.lat, input.dropoff.lon, field="dropoff"),
                seats=input.seats,
                wheelchair=input.wheelchair,
                booked_by=booked_by,
            )
            return rides.ride(ride_id)

        result = await _call(request)
        return RideView.from_ride(result) if isinstance(result, Ride) else result

    @strawberry.mutation(description="The driver accepts the ride offered to them.")
    async def accept_ride(self, info: Info[Context, None], ride_id: strawberry.ID) -> RideResult:
        return await _ride_command(
            info, "driver", lambda r, w: r.accept_ride(w.member_id, _ride_id(ride_id))
        )

    @strawberry.mutation(description="The driver declines, without penalty; the ride moves on.")
    async def decline_ride(
        self, info: Info[Context, None], ride_id: strawberry.ID, reason: str = ""
    ) -> RideResult:
        return await _ride_command(
            info, "driver", lambda r, w: r.decline_ride(w.member_id, _ride_id(ride_id), reason)
        )

    @strawberry.mutation
    async def mark_picked_up(self, info: Info[Context, None], ride_id: strawberry.ID) -> RideResult:
        return await _ride_command(
            info, "driver", lambda r, w: r.mark_picked_up(w.member_id, _ride_id(ride_id))
        )

    @strawberry.mutation(description="Complete the ride: the fare and its split are fixed here.")
    async def mark_dropped_off(
        self, info: Info[Context, None], ride_id: strawberry.ID
    ) -> RideResult:
        return await _ride_command(
            info, "driver", lambda r, w: r.mark_dropped_off(w.member_id, _ride_id(ride_id))
        )

    @strawberry.mutation(description="Cancel a ride not yet picked up (rider, booker or driver).")
    async def cancel_ride(
        self, info: Info[Context, None], ride_id: strawberry.ID, reason: str = ""
    ) -> RideResult:
        return await _ride_command(
            info, "member", lambda r, w: r.cancel_ride(w.member_id, _ride_id(ride_id), reason)
        )
