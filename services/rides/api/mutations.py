"""Rides' GraphQL mutations. Each answers what it changed and the log `position` after it (pass
it as `seen` to a list to read the write back), or a typed refusal that changed nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry
from starlette.concurrency import run_in_threadpool
from strawberry.types import Info  # noqa: TC002 (strawberry reads resolver hints at runtime)

from kernel import delegation
from kernel.api import Context, InvalidInput, NoConsent, NotAuthorized, UnknownMember
from kernel.audit import AuditKind
from kernel.delegation import delegations
from kernel.ids import InvalidId, member_id, parse_uuid
from kernel.ids import member_id as parse_member_id
from kernel.readside.freshness import written
from kernel.role_requests import role_requests
from services.rides.api.location import LocationInput  # noqa: TC001 (strawberry reads it)
from services.rides.api.problems import RidesProblem, call
from services.rides.api.types import (
    DriverChanged,
    DriverRegistered,
    DriverView,
    RegisterDriverInput,
    RequestRideInput,
    RideChanged,
    RideView,
    SolidarityFare,
)
from services.rides.application import Rides, place

if TYPE_CHECKING:
    from collections.abc import Callable
    from uuid import UUID

    from services.rides.domain import Driver, Ride

RideChangeResult = Annotated[RideChanged | RidesProblem, strawberry.union("RideChangeResult")]
DriverChangeResult = Annotated[DriverChanged | RidesProblem, strawberry.union("DriverChangeResult")]
RegisterDriverResult = Annotated[
    DriverRegistered | RidesProblem, strawberry.union("RegisterDriverResult")
]
SolidarityResult = Annotated[SolidarityFare | RidesProblem, strawberry.union("SolidarityResult")]
RequestRideResult = Annotated[
    RideChanged | RidesProblem | UnknownMember | NoConsent, strawberry.union("RequestRideResult")
]


def _ride_id(value: strawberry.ID) -> UUID:
    return parse_uuid(str(value), what="ride")


async def _ride_command(
    info: Info[Context, None], command: Callable[[Rides, str], Ride]
) -> RideChangeResult:
    """Run `command` as the caller; answer the ride and the position after the write."""
    rides, who = info.context.app(Rides), info.context.caller.member_id
    result = await call(lambda: (command(rides, who), written(rides)))
    if isinstance(result, tuple):
        ride, position = result
        return RideChanged(ride=RideView.of(ride), position=position)
    return result


async def _driver_command(
    info: Info[Context, None], command: Callable[[Rides, str], Driver]
) -> DriverChangeResult:
    rides, who = info.context.app(Rides), info.context.caller.member_id
    result = await call(lambda: (command(rides, who), written(rides)))
    if isinstance(result, tuple):
        driver, position = result
        return DriverChanged(driver=DriverView.of(driver), position=position)
    return result


@strawberry.type
class RidesMutation:
    @strawberry.mutation(
        description="Register the caller's vehicle and ask the board for the driver role."
    )
    async def register_driver(
        self, info: Info[Context, None], input: RegisterDriverInput
    ) -> RegisterDriverResult:
        who = info.context.caller
        rides = info.context.app(Rides)

        def register() -> tuple[Driver, str]:
            rides.register_driver(
                who.member_id,
                seats=input.seats,
                wheelchair_accessible=input.wheelchair_accessible,
                vehicle=input.vehicle,
            )
            return rides.driver(who.member_id), written(rides)

        result = await call(register)
        if not isinstance(result, tuple):
            return result
        driver, position = result
        # The driver role is the board's to grant (kernel/role_requests.py); the member's next
        # token after the grant carries it.
        asked = await run_in_threadpool(
            role_requests(info.context).request, who.member_id, "driver", "registered a vehicle"
        )
        return DriverRegistered(
            driver=DriverView.of(driver), role_requested=asked, position=position
        )

    @strawberry.mutation(
        description="Go on duty at a position, with one of your vehicles or the co-op's "
        "(`vehicleId`; none: the vehicle as before); matching uses its seats and wheelchair "
        "places. Waiting rides may be offered."
    )
    async def go_on_duty(
        self,
        info: Info[Context, None],
        position: LocationInput,
        vehicle_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="myVehicles' or fleetVehicles' id."),
        ] = None,
    ) -> DriverChangeResult:
        vehicle = None if vehicle_id is None else str(vehicle_id)
        return await _driver_command(
            info,
            lambda r, who: r.go_on_duty(
                who, lat=position.lat, lon=position.lon, vehicle_id=vehicle
            ),
        )

    @strawberry.mutation(description="Go off duty (not while holding a ride).")
    async def go_off_duty(self, info: Info[Context, None]) -> DriverChangeResult:
        return await _driver_command(info, lambda r, who: r.go_off_duty(who))

    @strawberry.mutation(
        description="Request an immediate ride: it waits for the next batch window (the city's "
        "matching), then is offered to one driver; `ride.state` and `offerReason` follow it."
    )
    async def request_ride(
        self, info: Info[Context, None], input: RequestRideInput
    ) -> RequestRideResult:
        who = info.context.caller
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

        def request(rides: Rides, _: str) -> Ride:
            ride_id = rides.request_ride(
                rider,
                pickup=place(input.pickup.lat, input.pickup.lon, field="pickup"),
                dropoff=place(input.dropoff.lat, input.dropoff.lon, field="dropoff"),
                seats=input.seats,
                wheelchair=input.wheelchair,
                booked_by=booked_by,
            )
            return rides.ride(ride_id)

        answer = await _ride_command(info, request)
        if booked_by is not None and isinstance(answer, RideChanged):
            info.context.audited(AuditKind.ACTED_ON_BEHALF, "requestRide", "booked", subject=rider)
        return answer

    @strawberry.mutation(description="The driver accepts the ride offered to them.")
    async def accept_ride(
        self, info: Info[Context, None], ride_id: strawberry.ID
    ) -> RideChangeResult:
        return await _ride_command(info, lambda r, who: r.accept_ride(who, _ride_id(ride_id)))

    @strawberry.mutation(
        description="The desk offers a waiting or offered ride to the driver it names, "
        "overriding the batch, and says why (kept, with who did it). A standing offer is taken "
        "back first, with no mark against its driver; the named driver must be on duty and "
        "free with a suitable vehicle, and may still decline."
    )
    async def assign_ride(
        self, info: Info[Context, None], ride_id: strawberry.ID, driver_id: str, reason: str
    ) -> RideChangeResult:
        try:
            driver = member_id(driver_id)
        except InvalidId as exc:
            return InvalidInput(message=str(exc), field="driverId")
        answer = await _ride_command(
            info, lambda r, who: r.assign_ride(who, _ride_id(ride_id), driver, reason)
        )
        if isinstance(answer, RideChanged):
            info.context.audited(
                AuditKind.ACTED_ON_BEHALF, "assignRide", "assigned", subject=driver
            )
        return answer

    @strawberry.mutation(description="The driver declines, without penalty; the ride moves on.")
    async def decline_ride(
        self, info: Info[Context, None], ride_id: strawberry.ID, reason: str = ""
    ) -> RideChangeResult:
        return await _ride_command(
            info, lambda r, who: r.decline_ride(who, _ride_id(ride_id), reason)
        )

    @strawberry.mutation(
        description="The driver is at the pickup; the city's no-show wait counts from now."
    )
    async def mark_arriving(
        self, info: Info[Context, None], ride_id: strawberry.ID
    ) -> RideChangeResult:
        return await _ride_command(info, lambda r, who: r.mark_arriving(who, _ride_id(ride_id)))

    @strawberry.mutation(
        description="The rider did not come: after the city's wait at the pickup, with its fee "
        "(the charge names the rule)."
    )
    async def mark_no_show(
        self, info: Info[Context, None], ride_id: strawberry.ID
    ) -> RideChangeResult:
        return await _ride_command(info, lambda r, who: r.mark_no_show(who, _ride_id(ride_id)))

    @strawberry.mutation(
        description="The board names a member for solidarity fares (or stops naming them): the "
        "common fund pays the city's share of their fares."
    )
    async def set_solidarity_fare(
        self, info: Info[Context, None], member_id: str, named: bool
    ) -> SolidarityResult:
        rides, who = info.context.app(Rides), info.context.caller.member_id
        try:
            member = parse_member_id(member_id)
        except InvalidId as exc:
            return InvalidInput(message=str(exc), field="memberId")
        result = await call(
            lambda: (rides.name_for_solidarity(member, by=who, named=named), written(rides))
        )
        if isinstance(result, tuple):
            now_named, position = result
            return SolidarityFare(member_id=member, named=now_named, position=position)
        return result

    @strawberry.mutation
    async def mark_picked_up(
        self, info: Info[Context, None], ride_id: strawberry.ID
    ) -> RideChangeResult:
        return await _ride_command(info, lambda r, who: r.mark_picked_up(who, _ride_id(ride_id)))

    @strawberry.mutation(description="Complete the ride: the fare and its split are fixed here.")
    async def mark_dropped_off(
        self, info: Info[Context, None], ride_id: strawberry.ID
    ) -> RideChangeResult:
        return await _ride_command(info, lambda r, who: r.mark_dropped_off(who, _ride_id(ride_id)))

    @strawberry.mutation(description="Cancel a ride not yet picked up (rider, booker or driver).")
    async def cancel_ride(
        self, info: Info[Context, None], ride_id: strawberry.ID, reason: str = ""
    ) -> RideChangeResult:
        return await _ride_command(
            info, lambda r, who: r.cancel_ride(who, _ride_id(ride_id), reason)
        )
