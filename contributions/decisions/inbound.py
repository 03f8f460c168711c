"""What decisions reads from other services: its own tolerant models, never their classes.

It learns who the members are from `members.MemberJoined` (the electorate: backing and quorum
are shares of it). Nothing else is read.
"""

from __future__ import annotations

from datetime import datetime  # noqa: TC003 (pydantic needs it at runtime)
from typing import ClassVar

from kernel.bus.consumer import Inbound
from kernel.events import TolerantModel


class MemberJoined(TolerantModel):
    reads: ClassVar[tuple[str, int]] = ("members.MemberJoined", 1)

    member_id: str
    joined_at: datetime


INBOUND = Inbound.of([MemberJoined])
