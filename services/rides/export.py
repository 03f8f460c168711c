"""A member's rides export (their part of `myData`): every ride as rider, every drive with the
vehicles, every scheduled or recurring booking, the incidents they reported, and what they
wrote (from the rides vault).

Read from the read models, page by page (an export holds all of it), never by loading rides.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from kernel.paging import MAX_PAGE_SIZE
from services.rides.domain import DriverNotRegistered

if TYPE_CHECKING:
    from collections.abc import Callable

    from kernel.money import Money
    from services.rides.application import Rides
    from services.rides.projections.incidents import IncidentRecord
    from services.rides.projections.reading import Listing
    from services.rides.projections.rides import RideRecord
    from services.rides.projections.vehicles import VehicleRecord
    from services.rides.scheduling.projections import ScheduledRecord

R = TypeVar("R")


def _amounts(parts: dict[str, Money]) -> dict[str, str]:
    return {part: str(money.amount) for part, money in parts.items()}


def _ride(ride: RideRecord) -> dict[str, Any]:
    """One ride as its rider or driver sees it (not who else declined it)."""
    return {
        "id": str(ride.id),
        "state": ride.state.value,
        "riderId": ride.rider_id,
        "bookedBy": ride.booked_by,
        "driverId": ride.driver_id,
        "pickup": {"lat": ride.pickup.lat, "lon": ride.pickup.lon},
        "dropoff": {"lat": ride.dropoff.lat, "lon": ride.dropoff.lon},
        "seats": ride.seats,
        "wheelchair": ride.wheelchair,
        "distanceKm": str(ride.distance_km),
        "quote": str(ride.quote.amount),
        "fare": None if ride.fare is None else str(ride.fare.amount),
        "currency": ride.currency,
        "split": _amounts(ride.split),
        "fareBreakdown": _amounts(ride.fare_breakdown),
        "fareRule": ride.fare_rule,
        "policyVersion": ride.policy_version,
        "commonFundPays": None if ride.common_fund_pays is None else str(ride.common_fund_pays),
        "charge": None
        if ride.charge is None
        else {
            "kind": ride.charge_kind,
            "amount": str(ride.charge.amount),
            "rule": ride.charge_rule,
        },
        "requestedAt": ride.requested_at.isoformat(),
        "acceptedAt": ride.accepted_at.isoformat() if ride.accepted_at else None,
        "pickedUpAt": ride.picked_up_at.isoformat() if ride.picked_up_at else None,
        "completedAt": ride.completed_at.isoformat() if ride.completed_at else None,
        "cancelReason": ride.cancel_reason,
    }


def _booking(booking: ScheduledRecord) -> dict[str, Any]:
    """One scheduled booking (a week of a recurring series names its series)."""
    return {
        "id": booking.ride_id,
        "state": booking.state.value,
        "riderId": booking.rider_id,
        "bookedBy": booking.booked_by,
        "day": booking.day.isoformat(),
        "seriesId": booking.series_id,
        "window": {
            "start": booking.window_start.isoformat(),
            "end": booking.window_end.isoformat(),
        },
        "seats": booking.seats,
        "wheelchair": booking.wheelchair,
        "pickup": {"lat": booking.pickup[0], "lon": booking.pickup[1]},
        "dropoff": {"lat": booking.dropoff[0], "lon": booking.dropoff[1]},
    }


def _incident(rides: Rides, incident: IncidentRecord) -> dict[str, Any]:
    """One incident the member reported (or the desk recorded for them), with what they said."""
    said, _ = rides.incident_texts(incident.id, reported_by=incident.reported_by, resolved_by=None)
    return {
        "id": str(incident.id),
        "rideId": str(incident.ride_id),
        "kind": incident.kind.value,
        "reporterRole": incident.reporter_role.value,
        "recordedBy": incident.recorded_by,
        "reportedAt": incident.reported_at.isoformat(),
        "state": incident.state.value,
        "outcome": None if incident.outcome is None else incident.outcome.value,
        "resolvedAt": incident.resolved_at.isoformat() if incident.resolved_at else None,
        "text": said,
    }


def _vehicle(vehicle: VehicleRecord) -> dict[str, Any]:
    spec = vehicle.spec
    return {
        "id": spec.id,
        "seats": spec.seats,
        "wheelchairPlaces": spec.wheelchair_places,
        "description": spec.description,
        "registeredAt": vehicle.registered_at.isoformat(),
    }


def _every_page(
    read: Callable[[str | None], Listing[R]], row: Callable[[R], dict[str, Any]]
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        listing = read(after)
        out += [row(r) for r in listing.page.items]
        if not listing.page.has_next or listing.page.end_cursor is None:
            return out
        after = listing.page.end_cursor


def export_member(rides: Rides, member_id: str) -> dict[str, Any]:
    """The member's rides section of their export."""
    as_driver: dict[str, Any] | None
    try:
        driver = rides.driver(member_id)
    except DriverNotRegistered:
        as_driver = None
    else:
        as_driver = {
            "seats": driver.seats,
            "wheelchairAccessible": driver.wheelchair_accessible,
            "vehicle": driver.vehicle,
            "status": driver.status.value,
            "suspended": driver.suspended,
            "vehicles": _every_page(
                lambda after: rides.vehicles_of(member_id, first=MAX_PAGE_SIZE, after=after),
                _vehicle,
            ),
            "rides": _every_page(
                lambda after: rides.drives_of(member_id, first=MAX_PAGE_SIZE, after=after), _ride
            ),
        }
    return {
        "asRider": _every_page(
            lambda after: rides.rides_of(member_id, first=MAX_PAGE_SIZE, after=after), _ride
        ),
        "asDriver": as_driver,
        "scheduled": _every_page(
            lambda after: rides.scheduled_rides_of(member_id, first=MAX_PAGE_SIZE, after=after),
            _booking,
        ),
        "incidents": _every_page(
            lambda after: rides.incidents_reported_by(member_id, first=MAX_PAGE_SIZE, after=after),
            lambda incident: _incident(rides, incident),
        ),
        # What they wrote about rides (reasons for declining or cancelling), from the vault.
        "written": rides.personal.all_of(member_id),
    }
