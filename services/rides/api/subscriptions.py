"""Rides' live subscriptions (GraphQL over WebSocket, graphql-transport-ws on /graphql).

    rideUpdates(rideId)  the ride as it moves: state, driver, the pickup estimate, the driver's
                         position while on the way; for its rider, its booker, its driver,
                         dispatchers and the board (as `ride`). Ends after the final state.
    driverUpdates        the caller's driver record as it moves: the ride offered to them (with
                         why it came to them) as it arrives and lapses, the ride they hold.

No polling of aggregates: each subscription follows the rides read models' positions
(kernel/readside/follow.py: a save in this process wakes it at once; writes by other processes
are seen within MUNI_FOLLOW_POLL_S), re-reads its one row, and sends it only if it changed.
The first event is the state now. Refusals are typed events, after which the stream ends: the
guard's (kernel.permissions), the cap (`TooManySubscriptions`, kernel/streams.py), a ride the
caller may not see (`RideNotFound`, as for another member's ride or none at all), and an access
token that expired while the stream ran (`NotAuthenticated`: subscribe again with a fresh one).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator  # noqa: TC003 (strawberry reads the hint at runtime)
from decimal import Decimal  # noqa: TC003
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from starlette.concurrency import run_in_threadpool
from strawberry.types import Info  # noqa: TC002

from kernel.api import Context, NotAuthenticated
from kernel.auth import InvalidToken, verify
from kernel.ids import InvalidId, parse_uuid
from kernel.readside.freshness import position_token
from kernel.streams import CONNECTION, FOLLOWERS, SLOTS, TOKEN, Slot, Slots, TooManySubscriptions
from services.rides.api.live import WATCHED, driver_snapshot, ride_snapshot
from services.rides.api.location import Location
from services.rides.api.problems import RideNotFound, RidesProblem, call
from services.rides.api.types import DriverView, RideView
from services.rides.application import Rides
from services.rides.domain import Driver, Ride
from services.rides.projections import RideRecords

if TYPE_CHECKING:
    from kernel.auth import Identity
    from kernel.readside.follow import Follower, Followers
    from services.rides.api.live import DriverSnapshot, RideSnapshot
    from services.rides.projections import RideRecord


@strawberry.type(description="A ride as it is now, sent each time what its watcher sees changes.")
class RideUpdate:
    ride: RideView
    pickup_minutes: Decimal | None = strawberry.field(
        description="Minutes until the driver reaches the pickup, from where they are now, "
        "while the ride is offered or the driver is on the way (null otherwise)."
    )
    driver_position: Location | None = strawberry.field(
        description="Where the driver is, from accepting the ride until the pickup."
    )
    final: bool = strawberry.field(description="True on the last update: the ride is over.")
    as_of: str = strawberry.field(description="The rides read model's position this shows.")

    @classmethod
    def of(cls, snap: RideSnapshot, as_of: str) -> RideUpdate:
        at = snap.driver_position
        return cls(
            ride=RideView.of(snap.record),
            pickup_minutes=snap.pickup_minutes,
            driver_position=None if at is None else Location(lat=at.lat, lon=at.lon),
            final=snap.final,
            as_of=as_of,
        )


@strawberry.type(description="A driver's record as it is now, with the ride offered or held.")
class DriverUpdate:
    driver: DriverView
    offer: RideView | None = strawberry.field(
        description="The ride offered to the driver now (its offerReason says why it came to "
        "them); null again once it is accepted, declined or has lapsed."
    )
    ride: RideView | None = strawberry.field(
        description="The ride the driver holds now (offered, accepted or picked up)."
    )
    pickup_minutes: Decimal | None = strawberry.field(
        description="Minutes from the driver to the pickup of that ride, until the pickup."
    )
    as_of: str = strawberry.field(description="The rides read model's position this shows.")

    @classmethod
    def of(cls, snap: DriverSnapshot, as_of: str) -> DriverUpdate:
        offer = snap.offer
        return cls(
            driver=DriverView.of(snap.driver),
            offer=None if offer is None else RideView.of(offer),
            ride=None if snap.ride is None else RideView.of(snap.ride),
            pickup_minutes=snap.pickup_minutes,
            as_of=as_of,
        )


RideUpdateResult = Annotated[
    RideUpdate | RidesProblem | TooManySubscriptions, strawberry.union("RideUpdateResult")
]
DriverUpdateResult = Annotated[
    DriverUpdate | RidesProblem | TooManySubscriptions, strawberry.union("DriverUpdateResult")
]


@strawberry.type
class RidesSubscription:
    @strawberry.subscription(
        description="A ride's live updates: first as it is now, then each change, until it is "
        "completed or cancelled. Its rider, booker and driver; dispatchers and the board."
    )
    async def ride_updates(
        self, info: Info[Context, None], ride_id: strawberry.ID
    ) -> AsyncGenerator[RideUpdateResult, None]:
        context = info.context
        rides, who = context.app(Rides), context.caller
        held = _slot(context)
        if isinstance(held, TooManySubscriptions):
            yield held
            return
        with held:
            try:
                wanted = parse_uuid(str(ride_id), what="ride")
            except InvalidId:
                yield RideNotFound(message=f"no ride {ride_id}", ride_id=ride_id)
                return
            # Once, at the start, from the aggregate: a ride requested a moment ago may not be
            # in the read model yet, and who may watch it must not wait for the model.
            found = await call(lambda: rides.ride(wanted))
            if not isinstance(found, Ride):
                yield found
                return
            if not _may_see(who, found):
                yield RideNotFound(message=f"no ride {ride_id}", ride_id=ride_id)
                return
            follower = _follower(context, rides)
            last: RideSnapshot | None = None
            with follower.listen() as listener:
                while True:
                    snap = await run_in_threadpool(ride_snapshot, rides, wanted)
                    if snap is not None and snap != last:
                        refused = _expired(context)
                        if refused is not None:
                            yield refused
                            return
                        if not _may_see(who, snap.record):
                            yield RideNotFound(message=f"no ride {ride_id}", ride_id=ride_id)
                            return
                        last = snap
                        yield RideUpdate.of(snap, await _as_of(rides))
                        if snap.final:
                            return
                    if not await listener.wait():
                        return

    @strawberry.subscription(
        description="The caller's driver record, live: offers as they arrive (with why they "
        "came to them) and lapse, the ride they hold. First as it is now, then each change."
    )
    async def driver_updates(
        self, info: Info[Context, None]
    ) -> AsyncGenerator[DriverUpdateResult, None]:
        context = info.context
        rides, who = context.app(Rides), context.caller.member_id
        held = _slot(context)
        if isinstance(held, TooManySubscriptions):
            yield held
            return
        with held:
            # Registered drivers only: asked of the aggregate once, as the read model may lag
            # a registration by a moment.
            found = await call(lambda: rides.driver(who))
            if not isinstance(found, Driver):
                yield found
                return
            follower = _follower(context, rides)
            last: DriverSnapshot | None = None
            with follower.listen() as listener:
                while True:
                    snap = await run_in_threadpool(driver_snapshot, rides, who)
                    if snap is not None and snap != last:
                        refused = _expired(context)
                        if refused is not None:
                            yield refused
                            return
                        last = snap
                        yield DriverUpdate.of(snap, await _as_of(rides))
                    if not await listener.wait():
                        return


def _slot(context: Context) -> Slot | TooManySubscriptions:
    slots: Slots = _extra(context, SLOTS)
    connection = str(context.extras.setdefault(CONNECTION, id(context)))
    return slots.take(context.caller.member_id, connection)


def _follower(context: Context, rides: Rides) -> Follower:
    followers: Followers = _extra(context, FOLLOWERS)
    return followers.of(rides, *WATCHED)


def _extra(context: Context, key: str) -> Any:
    try:
        return context.extras[key]
    except KeyError:
        # The gateway fills these for every connection (gateway/app.py, `live_extras`).
        raise LookupError(
            f"{key} missing: subscriptions need a context made by the gateway"
        ) from None


def _may_see(who: Identity, ride: Ride | RideRecord) -> bool:
    if who.member_id in (ride.rider_id, ride.driver_id, ride.booked_by):
        return True
    return who.has("dispatcher") or who.has("board")


def _expired(context: Context) -> NotAuthenticated | None:
    """A refusal if the token the connection signed in with has expired since."""
    token: str | None = context.extras.get(TOKEN)
    if token is None:
        return None
    try:
        verify(token, context.settings.signing_key, city=context.settings.city)
    except InvalidToken as exc:
        return NotAuthenticated(message=f"{exc}; subscribe again with a fresh token")
    return None


async def _as_of(rides: Rides) -> str:
    position = await run_in_threadpool(rides.runners[RideRecords].position)
    return position_token(rides.service, position)


__all__ = ["DriverUpdate", "RideUpdate", "RidesSubscription"]
