"""The rides read side: tables kept from the rides events, and the queries that read them.

    drivers.py  Drivers: every registered driver (status, position, seats, wheelchair access,
                vehicle, current ride, rides completed), indexed by (status, lat, lon), so
                dispatch asks for the available drivers inside a bounding box around a pickup
                (`available_in`) instead of loading every driver.
    rides.py    RideRecords: one row per ride, changing state as the ride moves (rider, driver,
                state, quote, fare and split, times), indexed for a rider's rides and a
                driver's drives (time-ordered keyset paging) and for the rides waiting for a
                driver, oldest first.
    dispatching.py  Dispatching: the offers standing (when each lapses) and who passed on which
                ride, for the batch runner.
    incidents.py Incidents: every incident on a ride, by state (the safety team's list) and by
                reporter (an export).
    vehicles.py Vehicles: the vehicles drivers registered, by owner (`myVehicles`).
    reading.py  what their queries share (`Listing`, `rows_with`).

No personal data: members appear by their pseudonymous ids; the vehicle is a description the
driver gave for riders to recognise it. Money columns are exact decimals beside the currency
and come back as `Money`.
"""

from services.rides.projections.dispatching import Dispatching, StandingOffer
from services.rides.projections.drivers import DriverRecord, Drivers
from services.rides.projections.incidents import IncidentRecord, Incidents
from services.rides.projections.reading import Listing, rows_with
from services.rides.projections.rides import RideRecord, RideRecords
from services.rides.projections.vehicles import VehicleRecord, Vehicles

__all__ = [
    "Dispatching",
    "DriverRecord",
    "Drivers",
    "IncidentRecord",
    "Incidents",
    "Listing",
    "RideRecord",
    "RideRecords",
    "StandingOffer",
    "VehicleRecord",
    "Vehicles",
    "rows_with",
]
