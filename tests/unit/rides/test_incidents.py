"""Incidents on a ride: the rider or the driver reports one, typed by kind, with what they said
kept in their vault (never in an event); the safety team resolves it once. Bad input and
strangers are refused by name, changing nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING
from uuid import uuid4

import pytest

from kernel.config import Settings
from kernel.ids import new_member_id
from services.rides.application import Rides
from services.rides.domain import InvalidRideRequest, NotYourRide, Place, RideNotFound
from services.rides.incidents import (
    Incident,
    IncidentAlreadyResolved,
    IncidentKind,
    IncidentNotFound,
    IncidentOutcome,
    IncidentState,
    ReporterRole,
)
from services.rides.projections import Incidents
from services.rides.published import IncidentReportedV1, IncidentResolvedV1, to_integration
from tests.support.rides import NEAREST

if TYPE_CHECKING:
    from uuid import UUID

    from kernel.time import FixedClock

PICKUP, DROPOFF = Place(51.05, 3.72), Place(51.03, 3.75)
SAID = 'The driver left my <b>umbrella</b> & "bag" in the boot\nwhite, with a tag'


@pytest.fixture
def rides(clock: FixedClock) -> Rides:
    return Rides(Settings(persistence="popo"), clock=clock, city=NEAREST)


def member() -> str:
    return new_member_id("demo")  # type: ignore[arg-type]


def a_ride(rides: Rides) -> tuple[UUID, str, str]:
    """A ride offered to a driver: (ride id, rider, driver)."""
    driver, rider = member(), member()
    rides.register_driver(driver, seats=4, wheelchair_accessible=False, vehicle="car")
    rides.go_on_duty(driver, lat=PICKUP.lat, lon=PICKUP.lon)
    ride_id = rides.request_ride(rider, pickup=PICKUP, dropoff=DROPOFF, seats=1, wheelchair=False)
    return ride_id, rider, driver


def stored_text(rides: Rides) -> str:
    """Every stored event of the log, as stored (to show what is not in it)."""
    return "".join(
        n.state.decode("utf-8", "replace") for n in rides.recorder.select_notifications(1, 10_000)
    )


def test_the_rider_reports_lost_property_kept_verbatim_in_their_vault_not_in_events(
    rides: Rides,
) -> None:
    ride_id, rider, _ = a_ride(rides)

    incident = rides.report_incident(rider, ride_id, kind=IncidentKind.LOST_PROPERTY, text=SAID)

    assert (incident.kind, incident.reporter_role, incident.state) == (
        IncidentKind.LOST_PROPERTY,
        ReporterRole.RIDER,
        IncidentState.OPEN,
    )
    said, note = rides.incident_texts(incident.id, reported_by=rider, resolved_by=None)
    assert (said, note) == (SAID, None)  # plain text, as written: whoever shows it escapes it
    stored = stored_text(rides)
    assert "lost_property" in stored  # the events are readable here, and hold the kind
    assert "umbrella" not in stored
    [published] = [to_integration(e) for e in rides.events.get(incident.id)]
    assert isinstance(published, IncidentReportedV1)
    assert (published.ride_id, published.kind, published.reporter_role) == (
        ride_id,
        "lost_property",
        "rider",
    )
    assert "umbrella" not in published.model_dump_json()


def test_the_driver_reports_a_breakdown(rides: Rides) -> None:
    ride_id, _, driver = a_ride(rides)

    incident = rides.report_incident(driver, ride_id, kind=IncidentKind.BREAKDOWN, text="flat")

    assert incident.reporter_role is ReporterRole.DRIVER


def test_the_desk_records_one_for_the_rider(rides: Rides) -> None:
    ride_id, rider, _ = a_ride(rides)
    desk = member()

    incident = rides.report_incident(
        desk, ride_id, kind=IncidentKind.COMPLAINT, text="rude", for_member=rider
    )

    assert (incident.reported_by, incident.recorded_by) == (rider, desk)
    said, _ = rides.incident_texts(incident.id, reported_by=rider, resolved_by=None)
    assert said == "rude"  # in the rider's vault: erasing the rider erases it


@pytest.mark.parametrize(
    ("text", "why"),
    [("   ", "say what happened"), ("x" * 2001, "at most 2000"), ("bell\x07", "control")],
)
def test_bad_text_is_refused_by_field_and_nothing_is_kept(
    rides: Rides, text: str, why: str
) -> None:
    ride_id, rider, _ = a_ride(rides)
    head = rides.head()

    with pytest.raises(InvalidRideRequest) as refused:
        rides.report_incident(rider, ride_id, kind=IncidentKind.COMPLAINT, text=text)

    assert refused.value.field == "text"
    assert why in str(refused.value)
    assert rides.head() == head
    assert rides.personal.all_of(rider) == {}


def test_a_stranger_cannot_report_on_someone_elses_ride(rides: Rides) -> None:
    ride_id, _, _ = a_ride(rides)
    stranger = member()
    head = rides.head()

    with pytest.raises(NotYourRide):
        rides.report_incident(stranger, ride_id, kind=IncidentKind.COMPLAINT, text="hm")
    with pytest.raises(RideNotFound):
        rides.report_incident(stranger, uuid4(), kind=IncidentKind.COMPLAINT, text="hm")

    assert rides.head() == head
    assert rides.personal.all_of(stranger) == {}


def test_the_safety_team_resolves_once_with_an_outcome_and_a_note(rides: Rides) -> None:
    ride_id, rider, _ = a_ride(rides)
    incident = rides.report_incident(rider, ride_id, kind=IncidentKind.LOST_PROPERTY, text="bag")
    safety = member()

    done = rides.resolve_incident(safety, incident.id, outcome=IncidentOutcome.RETURNED, note="ok")

    assert (done.state, done.outcome, done.resolved_by) == (
        IncidentState.RESOLVED,
        IncidentOutcome.RETURNED,
        safety,
    )
    assert rides.incident_texts(incident.id, reported_by=rider, resolved_by=safety) == (
        "bag",
        "ok",
    )
    resolved = to_integration(list(rides.events.get(incident.id))[-1])
    assert isinstance(resolved, IncidentResolvedV1)
    assert resolved.outcome == "returned"
    version = rides.incident(incident.id).version
    with pytest.raises(IncidentAlreadyResolved):
        rides.resolve_incident(safety, incident.id, outcome=IncidentOutcome.NO_ACTION)
    assert rides.incident(incident.id).version == version
    with pytest.raises(IncidentNotFound):
        rides.resolve_incident(safety, uuid4(), outcome=IncidentOutcome.NO_ACTION)
    with pytest.raises(IncidentNotFound):
        rides.incident(ride_id)  # a ride is not an incident


def test_the_safety_teams_list_pages_by_state_first_reported_first(
    rides: Rides, clock: FixedClock
) -> None:
    ride_id, rider, _ = a_ride(rides)
    made: list[Incident] = []
    for kind in IncidentKind:
        clock.advance(timedelta(minutes=1))
        made.append(rides.report_incident(rider, ride_id, kind=kind, text=kind.value))
    rides.resolve_incident(member(), made[1].id, outcome=IncidentOutcome.NO_ACTION)
    rides.catch_up(Incidents)

    first = rides.incidents(state=IncidentState.OPEN, first=2)
    rest = rides.incidents(state=IncidentState.OPEN, first=2, after=first.page.end_cursor)
    every = rides.incidents()

    assert [i.id for i in (*first.page.items, *rest.page.items)] == [
        made[0].id,
        made[2].id,
        made[3].id,
    ]
    assert [i.id for i in every.page.items] == [i.id for i in made]
    assert every.page.items[1].outcome is IncidentOutcome.NO_ACTION


def test_erasing_the_reporter_erases_what_they_said_and_keeps_the_incident(
    rides: Rides,
) -> None:
    ride_id, rider, _ = a_ride(rides)
    incident = rides.report_incident(rider, ride_id, kind=IncidentKind.COMPLAINT, text="late")

    rides.personal.erase(rider)

    assert rides.incident_texts(incident.id, reported_by=rider, resolved_by=None) == (None, None)
    assert rides.incident(incident.id).kind is IncidentKind.COMPLAINT
