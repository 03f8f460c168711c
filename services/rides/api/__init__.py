"""GraphQL for rides: `RidesQuery` and `RidesMutation`, which the gateway merges.

    types.py      the views (Ride, Driver, Quote), inputs, enums and command answers
    problems.py   one type per refusal, with its data, and the one mapping from exceptions
    loaders.py    per-request DataLoaders (a page of rides reads its drivers in one go)
    queries.py    quoteRide, ride, myRides, myDrives (Relay connections), myDriver
    vehicles.py   registerVehicle, myVehicles, fleetVehicles
    incidents.py  reportIncident; for the safety team, incidents and resolveIncident
    desk.py       the dispatcher's ridesInProgress and driversOnDuty (lists and the map)
    mutations.py  the commands; each answers the log position after its write
    subscriptions.py  rideUpdates, driverUpdates: live, over WebSocket, from the read models
    live.py       what those subscriptions read (snapshots of a ride's or a driver's rows)
    geocoding.py  geocode: an address to places inside the service area (the city's geocoder)

Resolvers call the application in a thread (it is synchronous) and do nothing else; roles are
checked once, by the kernel's guard, from the permission matrix (kernel.permissions).
"""

from strawberry.tools import merge_types

from services.rides.api.desk import RidesDeskQuery
from services.rides.api.geocoding import GeocodingQuery
from services.rides.api.incidents import IncidentsMutation, IncidentsQuery
from services.rides.api.mutations import RidesMutation as _RidesMutation
from services.rides.api.queries import RidesQuery as _RidesQuery
from services.rides.api.subscriptions import RidesSubscription
from services.rides.api.vehicles import VehiclesMutation, VehiclesQuery

RidesQuery = merge_types(
    "RidesQueries", (_RidesQuery, RidesDeskQuery, VehiclesQuery, IncidentsQuery, GeocodingQuery)
)
RidesMutation = merge_types("RidesMutations", (_RidesMutation, VehiclesMutation, IncidentsMutation))

__all__ = ["RidesMutation", "RidesQuery", "RidesSubscription"]
