"""Rides' GraphQL queries. Who may call each is kernel.permissions' matrix; what is left here is
the row-level rule (a member sees their own rides) and reading the application."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info  # noqa: TC002 (strawberry reads resolver hints at runtime)

from kernel.api import Context, InvalidInput
from kernel.connections import Connection, connection
from kernel.ids import parse_uuid
from services.rides.api.location import Location, LocationInput
from services.rides.api.problems import (
    OutsideServiceArea,
    RideNotFound,
    RidesProblem,
    call,
    problem,
)
from services.rides.api.types import (
    CityRules,
    DriverView,
    FareShare,
    Quote,
    RideView,
    SplitShare,
)
from services.rides.application import Rides, place
from services.rides.domain import Driver, InvalidRideRequest, Ride
from services.rides.domain import OutsideServiceArea as DomainOutside
from services.rides.projections import Listing, RideRecord

RideResult = Annotated[RideView | RidesProblem, strawberry.union("RideResult")]
DriverResult = Annotated[DriverView | RidesProblem, strawberry.union("DriverResult")]
QuoteResult = Annotated[Quote | InvalidInput | OutsideServiceArea, strawberry.union("QuoteResult")]
RidesResult = Annotated[Connection[RideView] | RidesProblem, strawberry.union("RidesResult")]

PAGING = {
    "first": "How many rides (default 20, at most 100).",
    "after": "The `endCursor` of the page before.",
    "seen": "A mutation's `position`: answer only once the list shows that write.",
}


def _rides_page(listing: Listing[RideRecord], after: str | None) -> Connection[RideView]:
    return connection(listing.page, RideView.of, as_of=listing.as_of, after=after)


@strawberry.type
class RidesQuery:
    @strawberry.field(description="What a ride would cost, before booking. No sign-in needed.")
    async def quote_ride(
        self, info: Info[Context, None], pickup: LocationInput, dropoff: LocationInput
    ) -> QuoteResult:
        try:
            a = place(pickup.lat, pickup.lon, field="pickup")
            b = place(dropoff.lat, dropoff.lon, field="dropoff")
            km, fare = info.context.app(Rides).quote(pickup=a, dropoff=b)
        except InvalidRideRequest as exc:
            return InvalidInput(message=str(exc), field=exc.field)
        except DomainOutside as exc:
            refused = problem(exc)
            assert isinstance(refused, OutsideServiceArea)  # noqa: S101 (the one mapping)
            return refused
        return Quote(
            distance_km=km,
            fare=fare.total.amount,
            currency=fare.currency,
            split=[FareShare(part=k, amount=m.amount) for k, m in fare.split.items()],
            breakdown=[FareShare(part=k, amount=m.amount) for k, m in fare.breakdown.items()],
            rule=fare.rule,
        )

    @strawberry.field(description="The co-op's fare formula and split. No sign-in needed.")
    async def city_rules(self, info: Info[Context, None]) -> CityRules:
        city = info.context.app(Rides).city
        policy = city.rides
        return CityRules(
            city=city.id,
            name=city.name,
            currency=city.currency,
            timezone=city.timezone,
            languages=list(city.languages),
            fare_base=policy.fare_base,
            fare_per_km=policy.fare_per_km,
            fare_per_minute=policy.fare_per_minute,
            split=[
                SplitShare(part=part, percent=percent)
                for part, percent in sorted(policy.split.items(), key=lambda kv: (-kv[1], kv[0]))
            ],
            max_pickup_minutes=policy.max_pickup_minutes,
            service_area=None
            if policy.service_area is None
            else [Location(lat=lat, lon=lon) for lat, lon in policy.service_area.polygon],
            centre=Location(lat=city.centre.lat, lon=city.centre.lon),
        )

    @strawberry.field(description="One ride: its rider, its driver, dispatchers and the board.")
    async def ride(self, info: Info[Context, None], id: strawberry.ID) -> RideResult:
        who = info.context.caller
        rides = info.context.app(Rides)
        result = await call(lambda: rides.ride(parse_uuid(str(id), what="ride")))
        if not isinstance(result, Ride):
            return result
        allowed = who.member_id in (result.rider_id, result.driver_id, result.booked_by)
        if not (allowed or who.has("dispatcher") or who.has("board")):
            # The same answer as for no ride at all: others' rides are not revealed to exist.
            return RideNotFound(message=f"no ride {id}", ride_id=id)
        return RideView.of(result)

    @strawberry.field(description="The caller's rides as a rider, newest first.")
    async def my_rides(
        self,
        info: Info[Context, None],
        first: Annotated[int | None, strawberry.argument(description=PAGING["first"])] = None,
        after: Annotated[str | None, strawberry.argument(description=PAGING["after"])] = None,
        seen: Annotated[str | None, strawberry.argument(description=PAGING["seen"])] = None,
    ) -> RidesResult:
        rides, who = info.context.app(Rides), info.context.caller.member_id
        result = await call(lambda: rides.rides_of(who, first=first, after=after, seen=seen))
        return _rides_page(result, after) if isinstance(result, Listing) else result

    @strawberry.field(description="The caller's completed rides as a driver, newest first.")
    async def my_drives(
        self,
        info: Info[Context, None],
        first: Annotated[int | None, strawberry.argument(description=PAGING["first"])] = None,
        after: Annotated[str | None, strawberry.argument(description=PAGING["after"])] = None,
        seen: Annotated[str | None, strawberry.argument(description=PAGING["seen"])] = None,
    ) -> RidesResult:
        rides, who = info.context.app(Rides), info.context.caller.member_id
        result = await call(lambda: rides.drives_of(who, first=first, after=after, seen=seen))
        return _rides_page(result, after) if isinstance(result, Listing) else result

    @strawberry.field(description="The caller's driver record: status, position, current ride.")
    async def my_driver(self, info: Info[Context, None]) -> DriverResult:
        rides, who = info.context.app(Rides), info.context.caller.member_id
        result = await call(lambda: rides.driver(who))
        return DriverView.of(result) if isinstance(result, Driver) else result
