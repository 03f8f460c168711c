"""The rides read model: one row per ride, changing state as the ride moves.

Rider, driver, state, quote, fare and split, times. Indexed for a rider's rides and a driver's
drives (time-ordered keyset paging) and for the rides waiting for a driver, oldest first. Money
columns are exact decimals beside the currency and come back as `Money`; members appear by
their pseudonymous ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime  # noqa: TC003 (the records are read at runtime)
from decimal import Decimal
from functools import singledispatchmethod
from typing import TYPE_CHECKING, Any
from uuid import UUID

from kernel.money import Money
from kernel.paging import fetch_page
from kernel.readside import Column, Op, ReadModel, Table, Update, Upsert
from services.rides.domain import Place, Ride, RideState

if TYPE_CHECKING:
    from collections.abc import Sequence

    from kernel.paging import Page, PageRequest
    from kernel.readside import Row
    from services.rides.dispatch import Box


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
    # What the fare is made of and the rules that made it, and the charge of a cancellation or
    # no-show (named as on the `Ride`, so a list's row shows what the ride itself does).
    fare_breakdown: dict[str, Money]
    fare_rule: str | None
    rules_version: str | None
    policy_version: int | None
    common_fund_pays: Money | None
    charge: Money | None
    charge_kind: str | None
    charge_rule: str | None

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
            split=_money_map(row["split"], currency),
            offer_reason=row["offer_reason"],
            requested_at=row["requested_at"],
            accepted_at=row["accepted_at"],
            picked_up_at=row["picked_up_at"],
            completed_at=row["completed_at"],
            cancelled_at=row["cancelled_at"],
            cancel_reason=row["cancel_reason"],
            fare_breakdown=_money_map(row["fare_breakdown"], currency),
            fare_rule=row["fare_rule"],
            rules_version=row["rules_version"],
            policy_version=row["policy_version"],
            common_fund_pays=_money(row["common_fund_pays"], currency),
            charge=_money(row["charge"], currency),
            charge_kind=row["charge_kind"],
            charge_rule=row["charge_rule"],
        )


def _money(amount: Decimal | None, currency: str) -> Money | None:
    return None if amount is None else Money.of(amount, currency)


def _money_map(parts: dict[str, str] | None, currency: str) -> dict[str, Money]:
    return {k: Money.of(Decimal(v), currency) for k, v in (parts or {}).items()}


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
                Column("fare_breakdown", "json"),
                Column("fare_rule"),
                Column("rules_version"),
                Column("policy_version", "int"),
                Column("common_fund_pays", "decimal", scale=MONEY_SCALE),
                Column("charge", "decimal", scale=MONEY_SCALE),
                Column("charge_kind"),
                Column("charge_rule"),
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
                    "fare_breakdown": None,
                    "fare_rule": None,
                    "rules_version": None,
                    "policy_version": None,
                    "common_fund_pays": None,
                    "charge": None,
                    "charge_kind": None,
                    "charge_rule": None,
                },
            )
        ]

    @rows.register
    def _(self, event: Ride.Offered) -> list[Op]:
        return [
            _ride(event, RideState.OFFERED, driver_id=event.driver_id, offer_reason=event.reason)
        ]

    @rows.register
    def _(self, event: Ride.OfferLapsed) -> list[Op]:
        return [_ride(event, RideState.WAITING, driver_id=None, offer_reason=None)]

    @rows.register
    def _(self, event: Ride.OfferTakenBack) -> list[Op]:
        return [_ride(event, RideState.WAITING, driver_id=None, offer_reason=None)]

    @rows.register
    def _(self, event: Ride.DriverArriving) -> list[Op]:
        return [_ride(event, RideState.ARRIVING)]

    @rows.register
    def _(self, event: Ride.DroppedOff) -> list[Op]:
        return [_ride(event, RideState.DROPPED_OFF)]

    @rows.register
    def _(self, event: Ride.NoShow) -> list[Op]:
        return [_ride(event, RideState.NO_SHOW)]

    @rows.register
    def _(self, event: Ride.Unservable) -> list[Op]:
        return [_ride(event, RideState.UNSERVABLE)]

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
        return [
            _ride(
                event,
                RideState.COMPLETED,
                completed_at=event.at,
                fare=event.fare.amount,
                split=_amounts(event.split),
                fare_breakdown=_amounts(event.breakdown),
                fare_rule=event.rule,
                rules_version=event.rules_version,
                policy_version=event.policy_version,
                common_fund_pays=event.common_fund_pays.amount,
            )
        ]

    @rows.register
    def _(self, event: Ride.Charged) -> list[Op]:
        # No state change: the ride's cancellation or no-show (recorded just before) says it.
        return [
            Update(
                "rides",
                {"ride_id": str(event.originator_id)},
                {
                    "charge": event.amount.amount,
                    "charge_kind": event.kind,
                    "charge_rule": event.rule,
                },
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

    def open_of(self, member_id: str, *, states: Sequence[RideState], limit: int) -> int:
        """How many of the member's rides (as the rider) are in `states`, counting to `limit`."""
        count = 0
        for state in states:
            count += len(
                self.view.select(
                    "rides", where={"rider_id": member_id, "state": state.value}, limit=limit
                )
            )
            if count >= limit:
                break
        return count

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


def _amounts(parts: dict[str, Money]) -> dict[str, str]:
    return {part: str(money.amount) for part, money in parts.items()}


def _ride(event: Any, state: RideState, **changes: Any) -> Update:
    return Update("rides", {"ride_id": str(event.originator_id)}, {"state": state.value, **changes})
