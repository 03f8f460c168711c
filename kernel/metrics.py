"""Process-wide timings the kernel and the services record, for the gateway's `/metrics`.

They live in prometheus_client's default registry, which `/metrics` serves beside the gateway's
own metrics, so a service records one without knowing the gateway:

    with solver_timer("rides.dispatch"):
        plan = matching.assign(...)
"""

from __future__ import annotations

import contextlib
import time
from typing import TYPE_CHECKING

from prometheus_client import Histogram

if TYPE_CHECKING:
    from collections.abc import Iterator

SOLVER_SECONDS = Histogram(
    "muni_solver_seconds",
    "Time spent in an OR-Tools solver call, by solver.",
    ["solver"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0),
)


@contextlib.contextmanager
def solver_timer(solver: str) -> Iterator[None]:
    """Record how long the body takes as one call of `solver`."""
    start = time.perf_counter()
    try:
        yield
    finally:
        SOLVER_SECONDS.labels(solver).observe(time.perf_counter() - start)
