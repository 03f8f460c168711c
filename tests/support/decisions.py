"""Helpers for decisions tests: an application with members it has learned of, as its consumer
would teach it (the tolerant `MemberJoined` through the policy and the electorate read model)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from eventsourcing.persistence import Tracking

from contributions.decisions.application import Decisions
from contributions.decisions.inbound import MemberJoined
from contributions.decisions.projections import Electorate
from contributions.decisions.published import to_integration
from kernel.config import Settings

if TYPE_CHECKING:
    from kernel.cities import CityConfig
    from kernel.events import IntegrationEvent
    from kernel.time import FixedClock


def new_member() -> str:
    return f"demo:{uuid.uuid4()}"


def decisions_app(
    clock: FixedClock, city: CityConfig | None = None, settings: Settings | None = None
) -> Decisions:
    return Decisions(settings or Settings(persistence="popo"), clock=clock, city=city)


def learn_members(app: Decisions, count: int) -> list[str]:
    """`count` new members, applied as the consumer applies `members.MemberJoined`."""
    electorate = app.read_model(Electorate)
    found = []
    for _ in range(count):
        member = new_member()
        model = MemberJoined(
            event_id=uuid.uuid4(),
            city="demo",
            occurred_at=datetime.now(UTC),
            aggregate_id=uuid.uuid4(),
            member_id=member,
            joined_at=datetime.now(UTC),
        )
        tracking = Tracking(f"demo/members/{model.aggregate_id}", 1)
        app.process_event(model, tracking)  # type: ignore[arg-type]
        electorate.view.apply(electorate.rows(model), tracking)
        found.append(member)
    return found


def published(app: Decisions) -> list[IntegrationEvent]:
    """What the relay would publish from the app's store, in order."""
    found = []
    for notification in app.notification_log.select(1, 500):
        event = to_integration(app.mapper.to_domain_event(notification))
        if event is not None:
            found.append(event)
    return found
