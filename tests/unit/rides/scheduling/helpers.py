"""What the scheduled-rides unit tests share: a rides application at a fixed clock, a week
before a Tuesday service day, and the demo city's van."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from kernel.config import Settings
from kernel.time import FixedClock
from services.rides.application import Rides

TZ = ZoneInfo("Europe/Brussels")
# Tuesday 1 December 2026, 09:00 local; bookings are for the Tuesday after.
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
TUESDAY = datetime(2026, 12, 8, tzinfo=TZ).date()
HOME = (51.09, 3.68)
CLINIC = (51.04, 3.73)


def at(hour: int, minute: int = 0, *, days: int = 0) -> datetime:
    return datetime(2026, 12, 8, hour, minute, tzinfo=TZ) + timedelta(days=days)


def app(clock: FixedClock | None = None) -> Rides:
    return Rides(Settings(persistence="popo"), clock=clock or FixedClock(NOW))
