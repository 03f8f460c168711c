"""What the dispatcher's desk reads: every ride in progress and every driver on duty, paged.

Both read the existing tables (`ride_records`, `drivers`) on their indexes, one equality read
per state merged into one keyset page (`merged_page`), so no new read model and no rebuild.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.rides.domain import DriverStatus, RideState
from services.rides.projections.drivers import DriverRecord
from services.rides.projections.reading import merged_page
from services.rides.projections.rides import BY_REQUEST, RideRecord

if TYPE_CHECKING:
    from kernel.paging import Page, PageRequest
    from services.rides.dispatch import Box
    from services.rides.projections.drivers import Drivers
    from services.rides.projections.rides import RideRecords

# A ride is in progress until it ends. Named by value so the set stays right as the domain
# gains states (the batch-matching work adds arriving, dropped off, no-show, unservable): every
# state that is not an end is one the desk must see.
ENDED = frozenset({"completed", "cancelled", "no_show", "unservable"})
IN_PROGRESS = tuple(s for s in RideState if s.value not in ENDED)
ON_DUTY = tuple(s for s in DriverStatus if s is not DriverStatus.OFF_DUTY)
BY_DRIVER = ("driver_id",)


def rides_in_progress(records: RideRecords, request: PageRequest) -> Page[RideRecord]:
    """Every ride not yet ended, the longest waiting (oldest request) first."""
    return merged_page(
        records.view,
        "rides",
        request,
        wheres=[{"state": s.value} for s in IN_PROGRESS],
        order_by=BY_REQUEST,
        to_item=RideRecord.from_row,
    )


def drivers_on_duty(
    drivers: Drivers, request: PageRequest, *, within: Box | None = None
) -> Page[DriverRecord]:
    """Every driver on duty (free, offered a ride or on one), inside `within` if given."""
    ranges = None if within is None else {"lat": within.lat, "lon": within.lon}
    return merged_page(
        drivers.view,
        "drivers",
        request,
        wheres=[{"status": s.value} for s in ON_DUTY],
        order_by=BY_DRIVER,
        to_item=DriverRecord.from_row,
        ranges=ranges,
    )
