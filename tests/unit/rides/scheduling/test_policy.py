"""`[rides.scheduled]` in the city config: the demo's van as data, and what is refused at load."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from kernel.cities import ScheduledRidesPolicy, load_city

VAN = {"id": "van", "name": "Van", "seats": 7, "depot": {"lat": 51.0, "lon": 3.7}}


def test_the_demo_city_runs_the_coops_7_seat_van() -> None:
    scheduled = load_city("demo").rides.scheduled
    (van,) = scheduled.vehicles
    assert (van.id, van.seats, van.wheelchair_places, van.owner) == ("van", 7, 1, "coop")
    assert (scheduled.service_starts, scheduled.service_ends) == ("07:00", "19:00")


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"service_starts": "19:00", "service_ends": "07:00"}, "service_ends"),
        ({"min_window_minutes": 60, "max_window_minutes": 30}, "max_window_minutes"),
        ({"vehicles": [VAN, VAN]}, "unique"),
        ({"vehicles": [{**VAN, "seats": 0}]}, "seats"),
        ({"replan_seconds": "0"}, "replan_seconds"),
    ],
)
def test_a_config_that_cannot_run_is_refused_at_load(change: dict[str, object], words: str) -> None:
    with pytest.raises(ValidationError, match=words):
        ScheduledRidesPolicy.model_validate(change)
