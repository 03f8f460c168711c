"""The vehicles read model: every vehicle drivers registered, by owner, for `myVehicles`.

The co-op's fleet is the city config's, not a table. No personal data: the owner is a member
id; the description is what the driver gave for riders to recognise the vehicle.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime  # noqa: TC003 (the records are read at runtime)
from functools import singledispatchmethod
from typing import TYPE_CHECKING, Any

from kernel.paging import fetch_page
from kernel.readside import Column, Op, ReadModel, Table, Upsert
from services.rides.vehicles import Vehicle, VehicleSpec

if TYPE_CHECKING:
    from kernel.paging import Page, PageRequest
    from kernel.readside import Row

BY_REGISTRATION = ("registered_at", "vehicle_id")


@dataclass(frozen=True)
class VehicleRecord:
    spec: VehicleSpec
    registered_at: datetime

    @classmethod
    def from_row(cls, row: Row) -> VehicleRecord:
        spec = VehicleSpec(
            row["vehicle_id"],
            row["owner"],
            row["seats"],
            row["wheelchair_places"],
            row["description"],
        )
        return cls(spec, row["registered_at"])


class Vehicles(ReadModel):
    """Every registered vehicle, by owner, oldest registration first."""

    name = "vehicles"
    tables = (
        Table(
            "vehicles",
            (
                Column("vehicle_id", nullable=False),
                Column("owner", nullable=False),
                Column("seats", "int", nullable=False),
                Column("wheelchair_places", "int", nullable=False),
                Column("description", nullable=False),
                Column("registered_at", "timestamp", nullable=False),
            ),
            key=("vehicle_id",),
            indexes=(("owner", *BY_REGISTRATION),),
        ),
    )

    @singledispatchmethod
    def rows(self, event: Any) -> list[Op]:
        return []

    @rows.register
    def _(self, event: Vehicle.Registered) -> list[Op]:
        return [
            Upsert(
                "vehicles",
                {
                    "vehicle_id": str(event.originator_id),
                    "owner": event.owner,
                    "seats": event.seats,
                    "wheelchair_places": event.wheelchair_places,
                    "description": event.description,
                    "registered_at": event.at,
                },
            )
        ]

    def of_owner(self, owner: str, request: PageRequest) -> Page[VehicleRecord]:
        return fetch_page(
            self.view,
            "vehicles",
            request,
            where={"owner": owner},
            order_by=BY_REGISTRATION,
            to_item=VehicleRecord.from_row,
        )
