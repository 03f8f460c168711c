"""GraphQL types of rides: rides, drivers, quotes, their inputs, enums and command answers.

Each view is built by one classmethod (`of`) from the aggregate a command returns or from the
read model's record a list returns: both carry the same attribute names, so a ride looks the
same whether it came from a mutation or a list.
"""

from __future__ import annotations

from datetime import datetime  # noqa: TC003 (strawberry resolves annotations at runtime)
from decimal import Decimal  # noqa: TC003
from typing import TYPE_CHECKING
from uuid import UUID

import strawberry
from starlette.concurrency import run_in_threadpool
from strawberry.types import Info  # noqa: TC002 (strawberry reads resolver hints at runtime)

from kernel.api import Context  # noqa: TC001
from services.rides.api.enums import DriverStatus, RideState  # noqa: TC001
from services.rides.api.loaders import driver_records
from services.rides.api.location import Location, LocationInput
from services.rides.application import CANCELLED, Rides

if TYPE_CHECKING:
    from kernel.money import Money
    from services.rides.domain import Driver, Ride
    from services.rides.projections import DriverRecord, RideRecord


@strawberry.type
class FareShare:
    part: str
    amount: Decimal


def _shares(split: dict[str, Money]) -> list[FareShare]:
    return [FareShare(part=part, amount=money.amount) for part, money in split.items()]


@strawberry.type(
    description="What a cancellation or a no-show cost the rider (maybe nothing), and the rule "
    "that decided it."
)
class RideCharge:
    kind: str
    amount: Decimal
    currency: str
    rule: str


@strawberry.type(description="The driver of a ride as its rider sees them: what to look for.")
class RideDriver:
    member_id: str
    vehicle: str
    seats: int
    wheelchair_accessible: bool
    position: Location | None = strawberry.field(
        description="Where the driver last reported being (going on duty, moving, a drop-off)."
    )

    @classmethod
    def of(cls, record: DriverRecord) -> RideDriver:
        at = record.position
        return cls(
            member_id=record.member_id,
            vehicle=record.vehicle,
            seats=record.seats,
            wheelchair_accessible=record.wheelchair_accessible,
            position=None if at is None else Location(lat=at.lat, lon=at.lon),
        )


@strawberry.type(name="Ride")
class RideView:
    id: strawberry.ID
    state: RideState
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
    offer_expires_at: datetime | None = strawberry.field(
        description="When the offer lapses if the driver has not answered (then the ride goes "
        "into the next batch)."
    )
    fare_breakdown: list[FareShare] = strawberry.field(
        description="What the fare is made of (base, distance, time; or the vehicle's cost per "
        "km and per hour over its expected riders); sums exactly to the fare."
    )
    fare_rule: str | None = strawberry.field(
        description="The rule that made the fare, in words, with its version."
    )
    rules_version: str | None
    policy_version: int | None = strawberry.field(
        description="The city's policy version (decisions adopted, kernel.policies) whose fares "
        "and split priced the ride."
    )
    common_fund_pays: Decimal | None = strawberry.field(
        description="What the common fund pays of a solidarity fare (the rider pays the rest)."
    )
    rider_pays: Decimal | None
    charge: RideCharge | None = strawberry.field(
        description="The charge of a cancellation or no-show (the rule names why, even when free)."
    )
    unservable_reason: str | None = strawberry.field(
        description="Why nobody could serve the ride within the city's bound on a wait."
    )
    requested_at: datetime
    accepted_at: datetime | None
    arrived_at: datetime | None
    picked_up_at: datetime | None
    completed_at: datetime | None
    cancelled_at: datetime | None

    @strawberry.field(
        description="What the member who cancelled wrote (kept in their vault, not in events; "
        "null once they are erased)."
    )
    async def cancel_reason(self, info: Info[Context, None]) -> str | None:
        if self.cancelled_at is None:
            return None
        rides = info.context.app(Rides)
        by = (self.rider_id, self.booked_by, self.driver_id)
        found: str | None = await run_in_threadpool(
            rides.reason, CANCELLED, UUID(str(self.id)), by=by
        )
        return found

    @strawberry.field(description="The driver's vehicle and seats, once the ride is offered.")
    async def driver(self, info: Info[Context, None]) -> RideDriver | None:
        if self.driver_id is None:
            return None
        # One read of the drivers table for every ride of the response (a DataLoader).
        found = await driver_records(info.context).load(self.driver_id)
        return None if found is None else RideDriver.of(found)

    @classmethod
    def of(cls, ride: Ride | RideRecord) -> RideView:
        # A list's rows (RideRecord) keep the fields lists show; the rest come from the ride.
        charge, rule = getattr(ride, "charge", None), getattr(ride, "charge_rule", None)
        fund: Money | None = getattr(ride, "common_fund_pays", None)
        return cls(
            id=strawberry.ID(str(ride.id)),
            state=ride.state,
            rider_id=ride.rider_id,
            booked_by=ride.booked_by,
            driver_id=ride.driver_id,
            pickup=Location(lat=ride.pickup.lat, lon=ride.pickup.lon),
            dropoff=Location(lat=ride.dropoff.lat, lon=ride.dropoff.lon),
            seats=ride.seats,
            wheelchair=ride.wheelchair,
            distance_km=ride.distance_km,
            quote=ride.quote.amount,
            currency=ride.currency,
            fare=None if ride.fare is None else ride.fare.amount,
            split=_shares(ride.split),
            offer_reason=ride.offer_reason,
            offer_expires_at=getattr(ride, "offer_expires_at", None),
            fare_breakdown=_shares(getattr(ride, "fare_breakdown", {})),
            fare_rule=getattr(ride, "fare_rule", None),
            rules_version=getattr(ride, "rules_version", None),
            policy_version=getattr(ride, "policy_version", None),
            common_fund_pays=None if fund is None else fund.amount,
            rider_pays=None if ride.fare is None or fund is None else (ride.fare - fund).amount,
            charge=None
            if charge is None or rule is None
            else RideCharge(
                kind=getattr(ride, "charge_kind", "") or "",
                amount=charge.amount,
                currency=charge.currency,
                rule=rule,
            ),
            unservable_reason=getattr(ride, "unservable_reason", None),
            requested_at=ride.requested_at,
            accepted_at=ride.accepted_at,
            arrived_at=getattr(ride, "arrived_at", None),
            picked_up_at=ride.picked_up_at,
            completed_at=ride.completed_at,
            cancelled_at=ride.cancelled_at,
        )


@strawberry.type(name="Driver")
class DriverView:
    member_id: str
    status: DriverStatus
    vehicle_id: str | None = strawberry.field(
        description="The vehicle named when going on duty (null: the one registered with)."
    )
    seats: int
    wheelchair_accessible: bool
    vehicle: str
    position: Location | None
    current_ride_id: strawberry.ID | None
    completed_rides: int

    @classmethod
    def of(cls, driver: Driver | DriverRecord) -> DriverView:
        at, ride = driver.position, driver.current_ride
        return cls(
            member_id=driver.member_id,
            status=driver.status,
            vehicle_id=getattr(driver, "vehicle_id", None),
            seats=driver.seats,
            wheelchair_accessible=driver.wheelchair_accessible,
            vehicle=driver.vehicle,
            position=None if at is None else Location(lat=at.lat, lon=at.lon),
            current_ride_id=None if ride is None else strawberry.ID(str(ride)),
            completed_rides=driver.completed_rides,
        )


POSITION = (
    "The position of the service's log after this write: pass it as `seen` to a list to read "
    "your own write."
)


@strawberry.type(description="A ride command's answer: the ride as it now is.")
class RideChanged:
    ride: RideView
    position: str = strawberry.field(description=POSITION)


@strawberry.type(description="A duty change's answer: the driver as they now are.")
class DriverChanged:
    driver: DriverView
    position: str = strawberry.field(description=POSITION)


@strawberry.type
class DriverRegistered:
    driver: DriverView
    role_requested: bool = strawberry.field(
        description="True: the driver role is asked of the board; once a board member grants "
        "it, the next token (signIn or refreshToken) carries it. False: it is held already."
    )
    position: str = strawberry.field(description=POSITION)


@strawberry.type(description="Whether the co-op names the member for solidarity fares.")
class SolidarityFare:
    member_id: str
    named: bool
    position: str = strawberry.field(description=POSITION)


@strawberry.type
class Quote:
    distance_km: Decimal
    fare: Decimal
    currency: str
    split: list[FareShare]
    breakdown: list[FareShare] = strawberry.field(
        description="What the fare is made of; sums exactly to the fare."
    )
    rule: str = strawberry.field(description="The fare rule, in words, with its version.")


@strawberry.type(description="One part of every fare's split, in percent of the fare.")
class SplitShare:
    part: str = strawberry.field(description="driver, coop, common_fund or protocol.")
    percent: int


@strawberry.type(
    description="The co-op's rules for rides, as its members ratified them in the city's config: "
    "the fare formula (never surge) and the split of every fare. Public."
)
class CityRules:
    city: str
    name: str
    currency: str
    timezone: str
    languages: list[str] = strawberry.field(description="The first is the default.")
    fare_base: Decimal
    fare_per_km: Decimal
    fare_per_minute: Decimal
    split: list[SplitShare] = strawberry.field(description="Largest share first; sums to 100.")
    max_pickup_minutes: int = strawberry.field(
        description="A request is offered only to drivers on duty within this pickup time."
    )
    service_area: list[Location] | None = strawberry.field(
        default=None,
        description="The polygon rides run inside (vertices in order; the last joins the "
        "first), or null where the city sets none.",
    )
    centre: Location | None = strawberry.field(
        default=None, description="The city's centre (where its maps open)."
    )


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
