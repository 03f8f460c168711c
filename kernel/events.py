"""Integration events: the published, versioned contract between services.

Domain events are private and free to change. What leaves a service is a subclass of
`IntegrationEvent` with a stable `type` ("<service>.<Fact>") and an explicit major `version`.
Producers are strict: unknown fields are an error. Consumers read with their own tolerant models
(`TolerantModel`), which ignore fields they do not know.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict


class IntegrationEvent(BaseModel):
    """Base of every published event. Subclasses set `type` and `version` as Literals."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: str
    version: int

    def payload(self) -> dict[str, Any]:
        """The JSON payload of the envelope: every field but type and version."""
        return self.model_dump(mode="json", exclude={"type", "version"})


class TolerantModel(BaseModel):
    """Base of a consumer's model of somebody else's event: ignores what it does not know.

    The consumer fills `event_id`, `city`, `occurred_at` and `aggregate_id` from the envelope.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    # The envelope type and major version this model reads, e.g. ("rides.RideCompleted", 1).
    reads: ClassVar[tuple[str, int]]

    event_id: uuid.UUID
    city: str
    occurred_at: datetime
    aggregate_id: uuid.UUID
