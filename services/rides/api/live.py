"""What a live subscription shows, read from the rides read models (never from an aggregate).

A snapshot is the part of the read side one subscriber watches: a ride's row (with its
driver's position and the pickup estimate while the driver is on the way), or a driver's row
(with the ride offered to them or the one they hold). Snapshots compare by value, so a
subscription passes one on only when what its subscriber sees has changed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from services.rides.domain import DriverStatus, Place, RideState
from services.rides.projections import DriverRecord, Drivers, RideRecord, RideRecords

if TYPE_CHECKING:
    from uuid import UUID

    from services.rides.application import Rides

# The states after which nothing changes (a no-show, when the rides service has it, too).
FINAL = frozenset(s for s in RideState if s.value in ("completed", "cancelled", "no_show"))
# The states in which a driver is on the way to the pickup, or it is offered to them.
TOWARDS_PICKUP = frozenset(
    s for s in RideState if s.value in ("offered", "matched", "accepted", "arriving")
)
ON_THE_WAY = frozenset(s for s in RideState if s.value in ("accepted", "arriving"))
WATCHED = (RideRecords, Drivers)  # the read models a subscription follows


@dataclass(frozen=True)
class RideSnapshot:
    record: RideRecord
    driver_position: Place | None
    pickup_minutes: Decimal | None

    @property
    def final(self) -> bool:
        return self.record.state in FINAL


@dataclass(frozen=True)
class DriverSnapshot:
    driver: DriverRecord
    ride: RideRecord | None
    pickup_minutes: Decimal | None

    @property
    def offer(self) -> RideRecord | None:
        """The ride offered to the driver now (None once it is accepted, lapsed or declined)."""
        offered = self.driver.status is DriverStatus.OFFERED
        if offered and self.ride is not None and self.ride.state is RideState.OFFERED:
            return self.ride
        return None


def ride_record(rides: Rides, ride_id: UUID) -> RideRecord | None:
    view = rides.read_model(RideRecords).view
    rows = view.select("rides", where={"ride_id": str(ride_id)}, limit=1)
    return RideRecord.from_row(rows[0]) if rows else None


def pickup_minutes(rides: Rides, at: Place, pickup: Place) -> Decimal | None:
    """Minutes from `at` to `pickup` by the city's travel-time provider, to a tenth (None
    when the provider knows no route)."""
    matrix = rides.travel.matrix([(at.lat, at.lon)], [(pickup.lat, pickup.lon)])
    seconds = float(matrix.seconds[0, 0])
    return None if math.isinf(seconds) else Decimal(str(round(seconds / 60, 1)))


def ride_snapshot(rides: Rides, ride_id: UUID) -> RideSnapshot | None:
    """The ride as its read model has it now (None before the model has the ride at all)."""
    record = ride_record(rides, ride_id)
    if record is None:
        return None
    position: Place | None = None
    minutes: Decimal | None = None
    if record.driver_id is not None and record.state in TOWARDS_PICKUP:
        driver = rides.drivers_of([record.driver_id]).get(record.driver_id)
        if driver is not None and driver.position is not None:
            minutes = pickup_minutes(rides, driver.position, record.pickup)
            # Where the driver is, only once they have taken the ride and until the pickup.
            if record.state in ON_THE_WAY:
                position = driver.position
    return RideSnapshot(record, position, minutes)


def driver_snapshot(rides: Rides, member_id: str) -> DriverSnapshot | None:
    """The driver's row now, with the ride offered to them or held (None if not registered)."""
    driver = rides.drivers_of([member_id]).get(member_id)
    if driver is None:
        return None
    ride = None if driver.current_ride is None else ride_record(rides, driver.current_ride)
    minutes = None
    if ride is not None and driver.position is not None and ride.state in TOWARDS_PICKUP:
        minutes = pickup_minutes(rides, driver.position, ride.pickup)
    return DriverSnapshot(driver, ride, minutes)
