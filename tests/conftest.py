"""Shared fixtures. Server fixtures (Kafka-protocol broker, PostgreSQL) live in
tests/support/servers.py and are registered here as a plugin."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings

from kernel.time import FixedClock

pytest_plugins = ["tests.support.servers"]

# No time limit per generated example: a test must not pass or fail by how busy the machine is
# (speed is measured in bench/, never asserted in a test).
settings.register_profile("muni", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("muni")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()
