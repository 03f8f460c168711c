"""Shared fixtures. Server fixtures (Kafka-protocol broker, PostgreSQL) live in
tests/support/servers.py and are registered here as a plugin."""

from __future__ import annotations

import pytest

from kernel.time import FixedClock

pytest_plugins = ["tests.support.servers"]


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()
