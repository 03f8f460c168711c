"""Why a rides request was refused: one GraphQL type per refusal, carrying its data, and the one
mapping from the context's exceptions to them (`problem`).

Every refusal implements the kernel's `Problem` (so `... on Problem { message }` reads any of
them) and changes nothing. Who may call at all is the kernel's guard (kernel.permissions);
`NotAuthenticated`, `NotAuthorized` and `InvalidInput` are the kernel's shared types.
"""

from __future__ import annotations

from datetime import datetime  # noqa: TC003 (strawberry resolves annotations at runtime)
from decimal import Decimal  # noqa: TC003
from typing import TYPE_CHECKING, TypeVar

import strawberry
from eventsourcing.persistence import IntegrityError
from starlette.concurrency import run_in_threadpool

from kernel import readside
from kernel.api import InvalidInput, NotAuthenticated, NotAuthorized, NotCaughtUp, Problem
from kernel.ids import InvalidId
from kernel.paging import InvalidPage
from kernel.readside.freshness import position_token
from services.rides import domain, incidents, vehicles
from services.rides.api.enums import (  # noqa: TC001 (strawberry reads them)
    DriverStatus,
    IncidentOutcome,
    RideState,
)
from services.rides.api.location import Location

if TYPE_CHECKING:
    from collections.abc import Callable

T = TypeVar("T")


@strawberry.type(description="No ride with this id that the caller may see.")
class RideNotFound(Problem):
    ride_id: strawberry.ID


@strawberry.type(
    description="The ride's state does not allow `action` (accepting a ride not offered)."
)
class RideNotInState(Problem):
    ride_id: strawberry.ID
    state: RideState
    action: str


@strawberry.type(description="The ride is not the caller's to act on (offered to another driver).")
class NotYourRide(Problem):
    ride_id: strawberry.ID


@strawberry.type(description="The member is not registered as a driver (registerDriver first).")
class DriverNotRegistered(Problem):
    member_id: str


@strawberry.type(description="The member is registered as a driver already.")
class DriverAlreadyRegistered(Problem):
    member_id: str


@strawberry.type(description="The driver's status does not allow `action` (off duty mid-ride).")
class DriverBusy(Problem):
    member_id: str
    status: DriverStatus
    action: str


@strawberry.type(description="A pickup or drop-off outside the city's service area.")
class OutsideServiceArea(Problem):
    field: str
    point: Location


@strawberry.type(description="The member has as many rides open as the city allows at once.")
class TooManyOpenRides(Problem):
    member_id: str
    open_rides: int
    limit: int


@strawberry.type(
    description="The offer lapsed before it was accepted; the ride went to the next batch."
)
class OfferExpired(Problem):
    ride_id: strawberry.ID
    expired_at: datetime


@strawberry.type(description="A no-show is marked only after the city's wait at the pickup.")
class NoShowTooEarly(Problem):
    ride_id: strawberry.ID
    waited_minutes: Decimal
    required_minutes: int


@strawberry.type(
    description="A board member's recorded decision suspended the driver: no going on duty "
    "until it is lifted (appealSuspension)."
)
class SuspendedFromDriving(Problem):
    member_id: str


@strawberry.type(description="No vehicle with this id (registered, or in the co-op's fleet).")
class UnknownVehicle(Problem):
    vehicle_id: str


@strawberry.type(
    description="The vehicle is another driver's; a driver drives their own or the co-op's."
)
class NotYourVehicle(Problem):
    vehicle_id: str
    member_id: str


@strawberry.type(description="Another driver is on duty with the vehicle.")
class VehicleInUse(Problem):
    vehicle_id: str


@strawberry.type(description="No incident with this id.")
class IncidentNotFound(Problem):
    incident_id: strawberry.ID


@strawberry.type(description="The incident was resolved already; it is resolved once.")
class IncidentAlreadyResolved(Problem):
    incident_id: strawberry.ID
    outcome: IncidentOutcome


@strawberry.type(
    description="The ride or driver changed at the same moment, again and again; nothing was "
    "saved: try again."
)
class TryAgain(Problem):
    pass


# What any rides field may answer instead of its result.
RidesProblem = (
    NotAuthenticated
    | NotAuthorized
    | InvalidInput
    | NotCaughtUp
    | RideNotFound
    | RideNotInState
    | NotYourRide
    | DriverNotRegistered
    | DriverAlreadyRegistered
    | DriverBusy
    | OutsideServiceArea
    | TooManyOpenRides
    | OfferExpired
    | NoShowTooEarly
    | SuspendedFromDriving
    | UnknownVehicle
    | NotYourVehicle
    | VehicleInUse
    | IncidentNotFound
    | IncidentAlreadyResolved
    | TryAgain
)
EXPECTED = (domain.RidesError, InvalidId, InvalidPage, readside.NotCaughtUp, IntegrityError)


def problem(exc: Exception) -> RidesProblem:
    """The one mapping of the context's expected errors to GraphQL problems."""
    message = str(exc)
    match exc:
        case domain.InvalidRideRequest(field=field) | InvalidPage(field=field):
            return InvalidInput(message=message, field=field)
        case InvalidId():
            return InvalidInput(message=message, field="id")
        case readside.NotCaughtUp(read_model=read_model, position=position, reached=reached):
            return NotCaughtUp(
                message=message,
                read_model=read_model,
                seen=position_token("rides", position),
                as_of=position_token("rides", reached),
            )
        case domain.RideNotFound(ride_id=ride_id):
            return RideNotFound(message=message, ride_id=strawberry.ID(ride_id))
        case domain.RideNotInState(ride_id=ride_id, state=state, action=action):
            return RideNotInState(
                message=message, ride_id=strawberry.ID(str(ride_id)), state=state, action=action
            )
        case domain.NotYourRide(ride_id=ride_id):
            return NotYourRide(message=message, ride_id=strawberry.ID(str(ride_id)))
        case domain.DriverNotRegistered(member_id=member_id):
            return DriverNotRegistered(message=message, member_id=member_id)
        case domain.DriverAlreadyRegistered(member_id=member_id):
            return DriverAlreadyRegistered(message=message, member_id=member_id)
        case domain.OutsideServiceArea(field=field, lat=lat, lon=lon):
            return OutsideServiceArea(
                message=message, field=field, point=Location(lat=lat, lon=lon)
            )
        case domain.TooManyOpenRides(member_id=member_id, open_rides=open_rides, limit=limit):
            return TooManyOpenRides(
                message=message, member_id=member_id, open_rides=open_rides, limit=limit
            )
        case domain.OfferExpired(ride_id=ride_id, expired_at=expired_at):
            return OfferExpired(
                message=message, ride_id=strawberry.ID(str(ride_id)), expired_at=expired_at
            )
        case domain.NoShowTooEarly(
            ride_id=ride_id, waited_minutes=waited, required_minutes=required
        ):
            return NoShowTooEarly(
                message=message,
                ride_id=strawberry.ID(str(ride_id)),
                waited_minutes=waited,
                required_minutes=required,
            )
        case incidents.IncidentNotFound(incident_id=incident_id):
            return IncidentNotFound(message=message, incident_id=strawberry.ID(incident_id))
        case incidents.IncidentAlreadyResolved(incident_id=incident_id, outcome=outcome):
            return IncidentAlreadyResolved(
                message=message, incident_id=strawberry.ID(incident_id), outcome=outcome
            )
        case vehicles.VehicleInUse(vehicle_id=vehicle_id):
            # Which driver holds it is theirs to know, not the caller's.
            return VehicleInUse(message=message, vehicle_id=vehicle_id)
        case vehicles.UnknownVehicle(vehicle_id=vehicle_id):
            return UnknownVehicle(message=message, vehicle_id=vehicle_id)
        case vehicles.NotYourVehicle(vehicle_id=vehicle_id, member_id=member_id):
            return NotYourVehicle(message=message, vehicle_id=vehicle_id, member_id=member_id)
        case domain.SuspendedFromDriving(member_id=member_id):
            return SuspendedFromDriving(message=message, member_id=member_id)
        case domain.DriverBusy(member_id=member_id, status=status, action=action):
            return DriverBusy(message=message, member_id=member_id, status=status, action=action)
        case IntegrityError():
            # Lost an optimistic-concurrency race that retrying could not settle.
            return TryAgain(message="the ride or driver changed at the same moment; try again")
    raise exc


async def call(fn: Callable[[], T]) -> T | RidesProblem:
    """Run a synchronous application call in a thread; expected errors become problems."""
    try:
        return await run_in_threadpool(fn)
    except EXPECTED as exc:
        return problem(exc)
