"""The rides read side: tables kept from the rides events, and the queries that read them.

    Drivers      every registered driver: status, position, seats, wheelchair access, vehicle,
                 current ride and rides completed. Indexed by (status, lat, lon), so dispatch
                 asks for the available drivers inside a bounding box around a pickup
                 (`available_in`) instead of loading every driver.
    RideRecords  one row per ride, changing state as the ride moves: rider, driver, state,
                 quote, fare and split, times. Indexed for a rider's rides and a driver's
                 drives (time-ordered keyset paging) and for the rides waiting for a driver,
                 oldest first.

No personal data: members appear by their pseudonymous ids; the vehicle is a description the
driver gave for riders to recognise it. Money columns are exact decimals beside the currency
and come back as `Money`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime  # noqa: TC003 (the records are read at runtime)
from decimal import Decimal
from functools import singledispatchmethod
from typing import TYPE_CHECKING, Any, Generic, TypeVar
from uuid import UUID

from kernel.money import Money
from kernel.paging import fetch_page
from kernel.readside import Add, Column, Op, ReadModel, Table, Update, Upsert
from kernel.readside.dialect import from_db, to_db
from services.rides.domain import Driver, DriverStatus, Place, Ride, RideState

if TYPE_CHECKING:
    from collections.abc import Sequence

    from kernel.paging import Page, PageRequest
    from kernel.readside import Row, TableView
    from services.rides.dispatch import Box

T = TypeVar("T")


@dataclass(frozen=True)
class Listing(Generic[T]):
    """One page of a list and the position of the log its read model had applied (`asOf`)."""

    page: Page[T]
    as_of: str


# -- drivers --------------------------------------------------------------------------------------
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
            indexes=(("status", "lat", "lon"),),
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
        return [_driver(event, status=DriverStatus.AVAILABLE, lat=event.lat, lon=event.lon)]

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


# -- rides ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RideRecord:
    """A ride as the read model keeps it (the attributes are named as on the `Ride`)."""

    id: UUID
    rider_id: str
    booked_by: str | None
    driver_id: str | None
    state: RideState
    pickup: Place
    dropoff: Place
    seats: int
    wheelchair: bool
    distance_km: Decimal
    quote: Money
    fare: Money | None
    split: dict[str, Money]
    offer_reason: str | None
    requested_at: datetime
    accepted_at: datetime | None
    picked_up_at: datetime | None
    completed_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str | None

    @property
    def currency(self) -> str:
        return self.quote.currency

    @classmethod
    def from_row(cls, row: Row) -> RideRecord:
        currency = row["currency"]
        return cls(
            id=UUID(row["ride_id"]),
            rider_id=row["rider_id"],
            booked_by=row["booked_by"],
            driver_id=row["driver_id"],
            state=RideState(row["state"]),
            pickup=Place(row["pickup_lat"], row["pickup_lon"]),
            dropoff=Place(row["dropoff_lat"], row["dropoff_lon"]),
            seats=row["seats"],
            wheelchair=row["wheelchair"],
            distance_km=row["distance_km"],
            quote=Money.of(row["quote"], currency),
            fare=None if row["fare"] is None else Money.of(row["fare"], currency),
            split={k: Money.of(Decimal(v), currency) for k, v in (row["split"] or {}).items()},
            offer_reason=row["offer_reason"],
            requested_at=row["requested_at"],
            accepted_at=row["accepted_at"],
            picked_up_at=row["picked_up_at"],
            completed_at=row["completed_at"],
            cancelled_at=row["cancelled_at"],
            cancel_reason=row["cancel_reason"],
        )


# Keyset orders: each ends in the unique ride id, so a cursor names exactly one position.
BY_REQUEST = ("requested_at", "ride_id")
BY_COMPLETION = ("completed_at", "ride_id")
MONEY_SCALE = 3  # the finest minor unit of any ISO currency (BHD, KWD, TND)


class RideRecords(ReadModel):
    """Every ride's current row: a rider's rides, a driver's drives, the rides waiting."""

    name = "ride_records"
    tables = (
        Table(
            "rides",
            (
                Column("ride_id", nullable=False),
                Column("rider_id", nullable=False),
                Column("booked_by"),
                Column("driver_id"),
                Column("state", nullable=False),
                Column("pickup_lat", "float", nullable=False),
                Column("pickup_lon", "float", nullable=False),
                Column("dropoff_lat", "float", nullable=False),
                Column("dropoff_lon", "float", nullable=False),
                Column("seats", "int", nullable=False),
                Column("wheelchair", "bool", nullable=False),
                Column("distance_km", "decimal", nullable=False, scale=2),
                Column("currency", nullable=False),
                Column("quote", "decimal", nullable=False, scale=MONEY_SCALE),
                Column("fare", "decimal", scale=MONEY_SCALE),
                Column("split", "json"),
                Column("offer_reason"),
                Column("requested_at", "timestamp", nullable=False),
                Column("accepted_at", "timestamp"),
                Column("picked_up_at", "timestamp"),
                Column("completed_at", "timestamp"),
                Column("cancelled_at", "timestamp"),
                Column("cancel_reason"),
            ),
            key=("ride_id",),
            indexes=(
                ("rider_id", *BY_REQUEST),
                ("driver_id", "state", *BY_COMPLETION),
                ("state", *BY_REQUEST),
            ),
        ),
    )

    @singledispatchmethod
    def rows(self, event: Any) -> list[Op]:
        return []

    @rows.register
    def _(self, event: Ride.Requested) -> list[Op]:
        return [
            Upsert(
                "rides",
                {
                    "ride_id": str(event.originator_id),
                    "rider_id": event.rider_id,
                    "booked_by": event.booked_by,
                    "driver_id": None,
                    "state": RideState.WAITING.value,
                    "pickup_lat": event.pickup.lat,
                    "pickup_lon": event.pickup.lon,
                    "dropoff_lat": event.dropoff.lat,
                    "dropoff_lon": event.dropoff.lon,
                    "seats": event.seats,
                    "wheelchair": event.wheelchair,
                    "distance_km": event.distance_km,
                    "currency": event.quote.currency,
                    "quote": event.quote.amount,
                    "fare": None,
                    "split": None,
                    "offer_reason": None,
                    "requested_at": event.requested_at,
                    "accepted_at": None,
                    "picked_up_at": None,
                    "completed_at": None,
                    "cancelled_at": None,
                    "cancel_reason": None,
                },
            )
        ]

    @rows.register
    def _(self, event: Ride.Offered) -> list[Op]:
        return [
            _ride(event, RideState.OFFERED, driver_id=event.driver_id, offer_reason=event.reason)
        ]

    @rows.register
    def _(self, event: Ride.Accepted) -> list[Op]:
        return [_ride(event, RideState.ACCEPTED, accepted_at=event.at)]

    @rows.register
    def _(self, event: Ride.Declined) -> list[Op]:
        return [_ride(event, RideState.WAITING, driver_id=None, offer_reason=None)]

    @rows.register
    def _(self, event: Ride.PickedUp) -> list[Op]:
        return [_ride(event, RideState.PICKED_UP, picked_up_at=event.at)]

    @rows.register
    def _(self, event: Ride.Completed) -> list[Op]:
        split = {part: str(money.amount) for part, money in event.split.items()}
        return [
            _ride(
                event,
                RideState.COMPLETED,
                completed_at=event.at,
                fare=event.fare.amount,
                split=split,
            )
        ]

    @rows.register
    def _(self, event: Ride.Cancelled) -> list[Op]:
        return [
            _ride(event, RideState.CANCELLED, cancelled_at=event.at, cancel_reason=event.reason)
        ]

    # -- queries ---------------------------------------------------------------------------------
    def of_rider(self, member_id: str, request: PageRequest) -> Page[RideRecord]:
        """A rider's rides, newest request first."""
        return fetch_page(
            self.view,
            "rides",
            request,
            where={"rider_id": member_id},
            order_by=BY_REQUEST,
            descending=True,
            to_item=RideRecord.from_row,
        )

    def driven_by(self, member_id: str, request: PageRequest) -> Page[RideRecord]:
        """A driver's completed rides, newest drop-off first."""
        return fetch_page(
            self.view,
            "rides",
            request,
            where={"driver_id": member_id, "state": RideState.COMPLETED.value},
            order_by=BY_COMPLETION,
            descending=True,
            to_item=RideRecord.from_row,
        )

    def waiting(self, *, within: Sequence[Box] | None = None, limit: int) -> list[RideRecord]:
        """Rides waiting for a driver, oldest first; only pickups inside `within` if given."""
        found: list[Row] = []
        for box in within if within is not None else [None]:
            ranges = None if box is None else {"pickup_lat": box.lat, "pickup_lon": box.lon}
            found += self.view.select(
                "rides",
                where={"state": RideState.WAITING.value},
                ranges=ranges,
                order_by=BY_REQUEST,
                limit=limit,
            )
        found.sort(key=lambda r: (r["requested_at"], r["ride_id"]))
        return [RideRecord.from_row(r) for r in found[:limit]]


def _ride(event: Any, state: RideState, **changes: Any) -> Update:
    return Update("rides", {"ride_id": str(event.originator_id)}, {"state": state.value, **changes})


def rows_with(view: TableView, table: str, column: str, values: Sequence[Any]) -> list[Row]:
    """The rows whose `column` is one of `values`, in one read (a DataLoader's batch).

    `TableView.select` filters by equality and ranges only; this is the one `IN` query the
    rides read side needs, written against the view's public pieces (its dialect, schema,
    table name and datastore) until the kernel's view grows one.
    """
    if not values:
        return []
    spec = view.tables[table]
    q, p = view.dialect.quote, view.dialect.param
    name = q(view.table_name(table))
    if view.schema:
        name = f"{q(view.schema)}.{name}"
    marks = ", ".join([p] * len(values))
    params = [to_db(spec.column(column), v) for v in values]
    with view.datastore.transaction(commit=False) as c:
        c.execute(f"SELECT * FROM {name} WHERE {q(column)} IN ({marks})", params)  # noqa: S608
        fetched = c.fetchall()
    return [{col.name: from_db(col, r[col.name]) for col in spec.columns} for r in fetched]
