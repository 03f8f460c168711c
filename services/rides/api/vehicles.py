"""GraphQL for drivers' vehicles: `registerVehicle`, `myVehicles` (paged) and `fleetVehicles`
(the co-op's own, from the city config). A driver names one in `goOnDuty(vehicleId:)`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info  # noqa: TC002 (strawberry reads resolver hints at runtime)

from kernel.api import Context  # noqa: TC001
from kernel.connections import Connection, connection
from kernel.readside.freshness import written
from services.rides.api.problems import RidesProblem, call
from services.rides.application import Rides
from services.rides.projections import Listing, VehicleRecord
from services.rides.vehicles import COOP

if TYPE_CHECKING:
    from services.rides.vehicles import Vehicle, VehicleSpec


@strawberry.type(name="Vehicle")
class VehicleView:
    id: strawberry.ID
    owner: str = strawberry.field(description="A driver's member id, or `coop` for the fleet.")
    seats: int
    wheelchair_places: int
    description: str = strawberry.field(description="What riders recognise it by.")
    fleet: bool = strawberry.field(description="True: the co-op's own, for any driver.")

    @classmethod
    def of(cls, spec: VehicleSpec) -> VehicleView:
        return cls(
            id=strawberry.ID(spec.id),
            owner=spec.owner,
            seats=spec.seats,
            wheelchair_places=spec.wheelchair_places,
            description=spec.description,
            fleet=spec.owner == COOP,
        )


@strawberry.type(description="A registered vehicle, and the log position after the write.")
class VehicleRegistered:
    vehicle: VehicleView
    position: str


@strawberry.input
class RegisterVehicleInput:
    seats: int
    wheelchair_places: int = 0
    description: str


RegisterVehicleResult = Annotated[
    VehicleRegistered | RidesProblem, strawberry.union("RegisterVehicleResult")
]
VehiclesResult = Annotated[
    Connection[VehicleView] | RidesProblem, strawberry.union("VehiclesResult")
]


@strawberry.type
class FleetList:
    vehicles: list[VehicleView]


FleetListResult = Annotated[FleetList | RidesProblem, strawberry.union("FleetListResult")]


@strawberry.type
class VehiclesQuery:
    @strawberry.field(description="The caller's own vehicles, oldest first.")
    async def my_vehicles(
        self,
        info: Info[Context, None],
        first: int | None = None,
        after: str | None = None,
        seen: str | None = None,
    ) -> VehiclesResult:
        rides, who = info.context.app(Rides), info.context.caller.member_id
        result = await call(lambda: rides.vehicles_of(who, first=first, after=after, seen=seen))
        if not isinstance(result, Listing):
            return result
        listing: Listing[VehicleRecord] = result
        return connection(
            listing.page, lambda r: VehicleView.of(r.spec), as_of=listing.as_of, after=after
        )

    @strawberry.field(
        description="The co-op's own vehicles (the city config's fleet), which any driver may "
        "take on duty."
    )
    async def fleet_vehicles(self, info: Info[Context, None]) -> FleetListResult:
        rides = info.context.app(Rides)
        return FleetList(vehicles=[VehicleView.of(v) for v in rides.fleet_vehicles()])


@strawberry.type
class VehiclesMutation:
    @strawberry.mutation(description="A driver registers a vehicle of their own.")
    async def register_vehicle(
        self, info: Info[Context, None], input: RegisterVehicleInput
    ) -> RegisterVehicleResult:
        rides, who = info.context.app(Rides), info.context.caller.member_id

        def register() -> tuple[Vehicle, str]:
            vehicle = rides.register_vehicle(
                who,
                seats=input.seats,
                wheelchair_places=input.wheelchair_places,
                description=input.description,
            )
            return vehicle, written(rides)

        result = await call(register)
        if not isinstance(result, tuple):
            return result
        vehicle, position = result
        return VehicleRegistered(vehicle=VehicleView.of(vehicle.spec()), position=position)
