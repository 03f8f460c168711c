"""Per-request DataLoaders of rides: rows a response asks for by key, fetched in one read."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool

from services.rides.application import Rides

if TYPE_CHECKING:
    from strawberry.dataloader import DataLoader

    from kernel.api import Context
    from services.rides.projections import DriverRecord


def driver_records(context: Context) -> DataLoader[str, DriverRecord | None]:
    """Drivers' rows by member id (None for an id with no row yet)."""
    rides = context.app(Rides)

    async def load(member_ids: list[str]) -> list[DriverRecord | None]:
        found = await run_in_threadpool(rides.drivers_of, member_ids)
        return [found.get(m) for m in member_ids]

    return context.loader("rides.drivers", load)
