"""Scheduled rides' read models: the bookings (a member's list), every vehicle's stops per day.

`VehicleStops` rewrites a vehicle's day on every `ServiceDay.Replanned`; times are minutes after
local midnight of the day, turned into instants by the API.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import singledispatchmethod
from typing import TYPE_CHECKING, Any

from kernel.paging import fetch_page
from kernel.readside import Column, Op, ReadModel, Table, Update, Upsert
from services.rides.scheduling.domain import BookingState, ScheduledRide, ServiceDay

if TYPE_CHECKING:
    from kernel.paging import Page, PageRequest
    from kernel.readside import Row

BY_WINDOW = ("window_start", "ride_id")


@dataclass(frozen=True)
class ScheduledRecord:
    ride_id: str
    rider_id: str
    booked_by: str | None
    day: date
    series_id: str | None
    state: BookingState
    window_start: datetime
    window_end: datetime
    seats: int
    wheelchair: bool
    pickup: tuple[float, float]
    dropoff: tuple[float, float]

    @classmethod
    def from_row(cls, row: Row) -> ScheduledRecord:
        return cls(
            ride_id=row["ride_id"],
            rider_id=row["rider_id"],
            booked_by=row["booked_by"],
            day=date.fromisoformat(row["day"]),
            series_id=row["series_id"],
            state=BookingState(row["state"]),
            window_start=row["window_start"],
            window_end=row["window_end"],
            seats=row["seats"],
            wheelchair=row["wheelchair"],
            pickup=(row["pickup_lat"], row["pickup_lon"]),
            dropoff=(row["dropoff_lat"], row["dropoff_lon"]),
        )


class ScheduledRideRecords(ReadModel):
    """Every scheduled booking, for a member's list (soonest window first)."""

    name = "scheduled_rides"
    tables = (
        Table(
            "scheduled_rides",
            (
                Column("ride_id", nullable=False),
                Column("rider_id"),
                Column("booked_by"),
                Column("day"),
                Column("series_id"),
                Column("state"),
                Column("window_start", "timestamp"),
                Column("window_end", "timestamp"),
                Column("seats", "int"),
                Column("wheelchair", "bool"),
                Column("pickup_lat", "float"),
                Column("pickup_lon", "float"),
                Column("dropoff_lat", "float"),
                Column("dropoff_lon", "float"),
            ),
            key=("ride_id",),
            indexes=(("rider_id", "window_start", "ride_id"),),
        ),
    )

    @singledispatchmethod
    def rows(self, event: Any) -> list[Op]:
        return []

    @rows.register
    def _(self, event: ScheduledRide.Booked) -> list[Op]:
        return [
            Upsert(
                "scheduled_rides",
                {
                    "ride_id": str(event.originator_id),
                    "rider_id": event.rider_id,
                    "booked_by": event.booked_by,
                    "day": event.day.isoformat(),
                    "series_id": None if event.series_id is None else str(event.series_id),
                    "state": BookingState.BOOKED.value,
                    "window_start": event.window_start,
                    "window_end": event.window_end,
                    "seats": event.seats,
                    "wheelchair": event.wheelchair,
                    "pickup_lat": event.pickup["lat"],
                    "pickup_lon": event.pickup["lon"],
                    "dropoff_lat": event.dropoff["lat"],
                    "dropoff_lon": event.dropoff["lon"],
                },
            )
        ]

    @rows.register
    def _(self, event: ScheduledRide.Changed) -> list[Op]:
        return [
            Update(
                "scheduled_rides",
                {"ride_id": str(event.originator_id)},
                {"window_start": event.window_start, "window_end": event.window_end},
            )
        ]

    @rows.register
    def _(self, event: ScheduledRide.Cancelled) -> list[Op]:
        return [
            Update(
                "scheduled_rides",
                {"ride_id": str(event.originator_id)},
                {"state": BookingState.CANCELLED.value},
            )
        ]

    def of_rider(self, member_id: str, request: PageRequest) -> Page[ScheduledRecord]:
        return fetch_page(
            self.view,
            "scheduled_rides",
            request,
            where={"rider_id": member_id},
            order_by=BY_WINDOW,
            descending=False,
            to_item=ScheduledRecord.from_row,
        )


@dataclass(frozen=True)
class StopRecord:
    vehicle: str
    seq: int
    kind: str
    ride_id: str | None
    arrival: float
    at: float
    lat: float
    lon: float


class VehicleStops(ReadModel):
    """Every scheduled vehicle's ordered stops per day, as the latest plan has them: one row per
    vehicle and day (a day's stops are a few dozen), rewritten by each `ServiceDay.Replanned`."""

    name = "vehicle_stops"
    tables = (
        Table(
            "vehicle_days",
            (
                Column("day", nullable=False),
                Column("vehicle", nullable=False),
                Column("stops", "json"),
            ),
            key=("day", "vehicle"),
        ),
    )

    @singledispatchmethod
    def rows(self, event: Any) -> list[Op]:
        return []

    @rows.register
    def _(self, event: ServiceDay.Replanned) -> list[Op]:
        day = event.day.isoformat()
        return [
            Upsert("vehicle_days", {"day": day, "vehicle": vehicle, "stops": stops})
            for vehicle, stops in event.routes.items()
        ]

    def of_vehicle(self, day: date, vehicle: str, *, limit: int) -> list[StopRecord]:
        row = self.view.get("vehicle_days", {"day": day.isoformat(), "vehicle": vehicle})
        if row is None:
            return []
        return [
            StopRecord(
                vehicle=vehicle,
                seq=seq,
                kind=s["kind"],
                ride_id=s["ride_id"],
                arrival=float(s["arrival"]),
                at=float(s["at"]),
                lat=float(s["lat"]),
                lon=float(s["lon"]),
            )
            for seq, s in enumerate(row["stops"][:limit])
        ]
