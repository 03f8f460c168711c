"""The drivers read model: every registered driver, where they are and whether they are free.

Indexed by (status, lat, lon), so dispatch asks for the available drivers inside a bounding box
around a pickup (`available_in`) instead of loading every driver; a page of rides reads its
drivers in one go (`of_members`). The vehicle is the description the driver gave for riders to
recognise it; members appear by their pseudonymous ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import singledispatchmethod
from typing import TYPE_CHECKING, Any
from uuid import UUID

from kernel.readside import Add, Column, Op, ReadModel, Table, Update, Upsert
from services.rides.domain import Driver, DriverStatus, Place
from services.rides.projections.reading import rows_with

if TYPE_CHECKING:
    from collections.abc import Sequence

    from kernel.readside import Row
    from services.rides.dispatch import Box


@dataclass(frozen=True)
class DriverRecord:
    member_id: str
    status: DriverStatus
    position: Place | None
    seats: int
    wheelchair_accessible: bool
    vehicle: str
    current_ride: UUID | None
    completed_rides: int

    @classmethod
    def from_row(cls, row: Row) -> DriverRecord:
        return cls(
            member_id=row["member_id"],
            status=DriverStatus(row["status"]),
            position=None if row["lat"] is None else Place(row["lat"], row["lon"]),
            seats=row["seats"],
            wheelchair_accessible=row["wheelchair_accessible"],
            vehicle=row["vehicle"],
            current_ride=None if row["current_ride"] is None else UUID(row["current_ride"]),
            completed_rides=row["completed_rides"],
        )


class Drivers(ReadModel):
    """Every registered driver, where they are and whether they are free (dispatch's map)."""

    name = "drivers"
    tables = (
        Table(
            "drivers",
            # Nullable but for the key, though `Registered` writes them all: `Add` (the count of
            # completed rides) is an upsert, and its insert half must pass NOT NULL checks even
            # when the row exists.
            (
                Column("driver_id", nullable=False),
                Column("member_id"),
                Column("status"),
                Column("lat", "float"),
                Column("lon", "float"),
                Column("seats", "int"),
                Column("wheelchair_accessible", "bool"),
                Column("vehicle"),
                Column("current_ride"),
                Column("completed_rides", "int"),
            ),
            key=("driver_id",),
            # (status, driver_id): the desk's page of every driver on duty (projections/desk.py).
            indexes=(("status", "lat", "lon"), ("status", "driver_id")),
        ),
    )

    @singledispatchmethod
    def rows(self, event: Any) -> list[Op]:
        return []

    @rows.register
    def _(self, event: Driver.Registered) -> list[Op]:
        return [
            Upsert(
                "drivers",
                {
                    "driver_id": str(event.originator_id),
                    "member_id": event.member_id,
                    "status": DriverStatus.OFF_DUTY.value,
                    "lat": None,
                    "lon": None,
                    "seats": event.seats,
                    "wheelchair_accessible": event.wheelchair_accessible,
                    "vehicle": event.vehicle,
                    "current_ride": None,
                    "completed_rides": 0,
                },
            )
        ]

    @rows.register
    def _(self, event: Driver.WentOnDuty) -> list[Op]:
        # With a vehicle named, matching uses its seats and wheelchair access from now on.
        vehicle = {
            k: v
            for k, v in (
                ("seats", event.seats),
                ("wheelchair_accessible", event.wheelchair_accessible),
                ("vehicle", event.vehicle),
            )
            if v is not None
        }
        return [
            _driver(event, status=DriverStatus.AVAILABLE, lat=event.lat, lon=event.lon, **vehicle)
        ]

    @rows.register
    def _(self, event: Driver.Moved) -> list[Op]:
        return [_driver(event, lat=event.lat, lon=event.lon)]

    @rows.register
    def _(self, event: Driver.WentOffDuty) -> list[Op]:
        return [_driver(event, status=DriverStatus.OFF_DUTY)]

    @rows.register
    def _(self, event: Driver.OfferReceived) -> list[Op]:
        return [_driver(event, status=DriverStatus.OFFERED, current_ride=str(event.ride_id))]

    @rows.register
    def _(self, event: Driver.OfferWithdrawn) -> list[Op]:
        return [_driver(event, status=DriverStatus.AVAILABLE, current_ride=None)]

    @rows.register
    def _(self, event: Driver.RideStarted) -> list[Op]:
        return [_driver(event, status=DriverStatus.ON_RIDE)]

    @rows.register
    def _(self, event: Driver.RideFinished) -> list[Op]:
        return [
            _driver(
                event,
                status=DriverStatus.AVAILABLE,
                current_ride=None,
                lat=event.lat,
                lon=event.lon,
            ),
            Add("drivers", {"driver_id": str(event.originator_id)}, {"completed_rides": 1}),
        ]

    @rows.register
    def _(self, event: Driver.Suspended) -> list[Op]:
        if not event.off_duty:
            return []  # on a ride: off duty once it is finished (RideFinished, WentOffDuty)
        return [_driver(event, status=DriverStatus.OFF_DUTY, current_ride=None)]

    # -- queries ---------------------------------------------------------------------------------
    def available_in(
        self, boxes: Sequence[Box], *, seats: int, wheelchair: bool
    ) -> list[DriverRecord]:
        """Available drivers inside the boxes with at least `seats` (and wheelchair access)."""
        where: dict[str, Any] = {"status": DriverStatus.AVAILABLE.value}
        if wheelchair:
            where["wheelchair_accessible"] = True
        found = []
        for box in boxes:
            rows = self.view.select(
                "drivers",
                where=where,
                ranges={"lat": box.lat, "lon": box.lon, "seats": (seats, 2**31)},
            )
            found += [DriverRecord.from_row(r) for r in rows]
        return found

    def of_members(self, member_ids: Sequence[str]) -> dict[str, DriverRecord]:
        """The drivers with these member ids, in one read (unknown ids are left out)."""
        keys = [str(Driver.create_id(m)) for m in member_ids]
        rows = rows_with(self.view, "drivers", "driver_id", keys)
        return {r["member_id"]: DriverRecord.from_row(r) for r in rows}


def _driver(event: Any, **changes: Any) -> Update:
    if isinstance(changes.get("status"), DriverStatus):
        changes["status"] = changes["status"].value
    return Update("drivers", {"driver_id": str(event.originator_id)}, changes)
