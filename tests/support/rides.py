"""Helpers for rides tests: the demo city with some rides rules changed, and a batch run."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from kernel.cities import load_city

if TYPE_CHECKING:
    from kernel.cities import CityConfig
    from kernel.time import FixedClock
    from services.rides.application import Rides
    from services.rides.batching import Batch

DEMO = load_city("demo")


def city_with(*, matching: dict[str, Any] | None = None, **rides: Any) -> CityConfig:
    """The demo city with `[rides]` keys (and `[rides.matching]` keys) replaced, validated."""
    policy = DEMO.rides.model_dump()
    policy.update(rides)
    if matching:
        policy["matching"] = {**policy["matching"], **matching}
    return type(DEMO).model_validate({**DEMO.model_dump(), "rides": policy})


NEAREST = city_with(matching={"policy": "nearest"})


def next_batch(rides: Rides, clock: FixedClock) -> Batch | None:
    """Advance the clock through one batch window and run the batch, as the matcher would."""
    clock.advance(timedelta(seconds=rides.city.rides.matching.batch_window_seconds))
    return rides.run_batch()
