"""The dispatcher's desk in GraphQL: every ride in progress and every driver on duty, for a
list and a map, and one member's rides (what they see in `myRides`, for the member who
phoned). Who may call them is the permission matrix (the dispatcher role); the rows are the
rides read models' (services/rides/desk.py)."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info  # noqa: TC002 (strawberry reads resolver hints at runtime)

from kernel.api import Context, InvalidInput
from kernel.connections import Connection, connection
from kernel.ids import InvalidId
from kernel.ids import member_id as parse_member_id
from services.rides import desk
from services.rides.api.problems import RidesProblem, call
from services.rides.api.queries import PAGING, RidesResult
from services.rides.api.types import DriverView, RideView
from services.rides.application import Rides
from services.rides.projections import DriverRecord, Listing

DRIVERS_FIRST = "How many drivers (default 20, at most 100)."
DriversResult = Annotated[Connection[DriverView] | RidesProblem, strawberry.union("DriversResult")]


@strawberry.input(description="The area a map shows, in degrees (not across the antimeridian).")
class AreaInput:
    south: float
    west: float
    north: float
    east: float


@strawberry.type
class RidesDeskQuery:
    @strawberry.field(
        description="Every ride not yet ended (waiting, offered, on its way), the longest "
        "waiting first: the desk's list and map (pickup, drop-off, the driver's position)."
    )
    async def rides_in_progress(
        self,
        info: Info[Context, None],
        first: Annotated[int | None, strawberry.argument(description=PAGING["first"])] = None,
        after: Annotated[str | None, strawberry.argument(description=PAGING["after"])] = None,
        seen: Annotated[str | None, strawberry.argument(description=PAGING["seen"])] = None,
    ) -> RidesResult:
        rides = info.context.app(Rides)
        result = await call(
            lambda: desk.rides_in_progress_page(rides, first=first, after=after, seen=seen)
        )
        if isinstance(result, Listing):
            return connection(result.page, RideView.of, as_of=result.as_of, after=after)
        return result

    @strawberry.field(
        description="Every driver on duty (free, offered a ride, or on one) with their "
        "position, by id; only those inside `within` (the map's area) if given."
    )
    async def drivers_on_duty(
        self,
        info: Info[Context, None],
        first: Annotated[int | None, strawberry.argument(description=DRIVERS_FIRST)] = None,
        after: Annotated[str | None, strawberry.argument(description=PAGING["after"])] = None,
        seen: Annotated[str | None, strawberry.argument(description=PAGING["seen"])] = None,
        within: AreaInput | None = None,
    ) -> DriversResult:
        rides = info.context.app(Rides)

        def read() -> Listing[DriverRecord]:
            box = None if within is None else desk.area(**vars(within))
            return desk.drivers_on_duty_page(rides, first=first, after=after, seen=seen, within=box)

        result = await call(read)
        if isinstance(result, Listing):
            return connection(result.page, DriverView.of, as_of=result.as_of, after=after)
        return result

    @strawberry.field(
        description="One member's rides as a rider, newest first, with fares and splits: what "
        "the member sees in `myRides`, for the desk answering the member who phoned. An id of "
        "nobody answers an empty page."
    )
    async def member_rides(
        self,
        info: Info[Context, None],
        member_id: str,
        first: Annotated[int | None, strawberry.argument(description=PAGING["first"])] = None,
        after: Annotated[str | None, strawberry.argument(description=PAGING["after"])] = None,
        seen: Annotated[str | None, strawberry.argument(description=PAGING["seen"])] = None,
    ) -> RidesResult:
        try:
            rider = parse_member_id(member_id)
        except InvalidId as exc:
            return InvalidInput(message=str(exc), field="memberId")
        rides = info.context.app(Rides)
        result = await call(lambda: rides.rides_of(rider, first=first, after=after, seen=seen))
        if isinstance(result, Listing):
            return connection(result.page, RideView.of, as_of=result.as_of, after=after)
        return result
