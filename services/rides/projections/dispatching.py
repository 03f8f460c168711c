"""The dispatching read model: the offers standing and who passed on which ride.

    offers   one row per ride OFFERED, with its driver and when the offer lapses, indexed by
             that time: the batch runner reads the lapsed offers without loading any ride.
    passes   (ride, driver) for every decline and lapsed offer: the batch never offers a ride
             again to a driver who passed on it (no penalty: it is only that ride).

Its own read model (not columns of `ride_records`), so adding it needed no rebuild of a city's
existing tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import singledispatchmethod
from typing import TYPE_CHECKING, Any
from uuid import UUID

from kernel.readside import Column, Delete, Op, ReadModel, Table, Upsert
from services.rides.domain import Ride
from services.rides.projections.reading import rows_with

if TYPE_CHECKING:
    from collections.abc import Sequence

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class StandingOffer:
    ride_id: UUID
    driver_id: str
    expires_at: datetime


class Dispatching(ReadModel):
    """Offers standing (and when they lapse), and the drivers who passed on each ride."""

    name = "dispatching"
    tables = (
        Table(
            "offers",
            (
                Column("ride_id", nullable=False),
                Column("driver_id", nullable=False),
                Column("expires_at", "timestamp", nullable=False),
            ),
            key=("ride_id",),
            indexes=(("expires_at", "ride_id"),),
        ),
        Table(
            "passes",
            (Column("ride_id", nullable=False), Column("driver_id", nullable=False)),
            key=("ride_id", "driver_id"),
        ),
    )

    @singledispatchmethod
    def rows(self, event: Any) -> list[Op]:
        return []

    @rows.register
    def _(self, event: Ride.Offered) -> list[Op]:
        if event.expires_at is None:
            return []  # offered before offers lapsed (v1): nothing to expire
        return [
            Upsert(
                "offers",
                {
                    "ride_id": str(event.originator_id),
                    "driver_id": event.driver_id,
                    "expires_at": event.expires_at,
                },
            )
        ]

    @rows.register
    def _(self, event: Ride.Declined) -> list[Op]:
        return [_gone(event), _passed(event, event.driver_id)]

    @rows.register
    def _(self, event: Ride.OfferLapsed) -> list[Op]:
        return [_gone(event), _passed(event, event.driver_id)]

    @rows.register
    def _(self, event: Ride.OfferTakenBack) -> list[Op]:
        return [_gone(event)]  # not passed over: the desk chose another driver

    @rows.register
    def _(self, event: Ride.Accepted) -> list[Op]:
        return [_gone(event)]

    @rows.register
    def _(self, event: Ride.Cancelled) -> list[Op]:
        return [_gone(event)]

    # -- queries ---------------------------------------------------------------------------------
    def lapsed(self, now: datetime, *, limit: int) -> list[StandingOffer]:
        """Offers whose time is up at `now`, the longest lapsed first."""
        rows = self.view.select(
            "offers",
            ranges={"expires_at": (EPOCH, now)},
            order_by=("expires_at", "ride_id"),
            limit=limit,
        )
        return [StandingOffer(UUID(r["ride_id"]), r["driver_id"], r["expires_at"]) for r in rows]

    def passed(self, ride_ids: Sequence[UUID]) -> dict[UUID, set[str]]:
        """For each ride, the drivers who declined it or let its offer lapse."""
        found: dict[UUID, set[str]] = {}
        for row in rows_with(self.view, "passes", "ride_id", [str(r) for r in ride_ids]):
            found.setdefault(UUID(row["ride_id"]), set()).add(row["driver_id"])
        return found


def _gone(event: Any) -> Delete:
    return Delete("offers", {"ride_id": str(event.originator_id)})


def _passed(event: Any, driver_id: str) -> Upsert:
    return Upsert("passes", {"ride_id": str(event.originator_id), "driver_id": driver_id})
