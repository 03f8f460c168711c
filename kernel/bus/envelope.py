"""The envelope every integration event travels in: JSON in and out.

Producers are strict (the model forbids unknown fields); consumers read envelopes with the same
model but read payloads with their own tolerant models (see each service's `inbound.py`).
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

if TYPE_CHECKING:
    from datetime import datetime


class MalformedEnvelope(ValueError):
    """Bytes on a topic that are not a Muni envelope."""


class Envelope(BaseModel):
    """Metadata plus payload of one integration event.

    `position` is the event's notification id in the source service's store: together with
    `source` and `city` it identifies the event durably, unlike a broker offset.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: uuid.UUID
    type: str = Field(pattern=r"^[a-z]+\.[A-Za-z]+$")
    version: int = Field(ge=1)
    source: str
    city: str
    position: int = Field(ge=1)
    occurred_at: AwareDatetime
    aggregate_id: uuid.UUID
    correlation_id: uuid.UUID | None = None
    causation_id: uuid.UUID | None = None
    payload: dict[str, Any]

    @property
    def key(self) -> bytes:
        """The partition key: the aggregate id, so one aggregate's events keep their order."""
        return str(self.aggregate_id).encode()

    @property
    def source_log(self) -> str:
        """The durable name of the stream this event came from, e.g. 'demo/rides'."""
        return f"{self.city}/{self.source}"

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, value: bytes) -> Envelope:
        try:
            return cls.model_validate_json(value)
        except (ValidationError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise MalformedEnvelope(str(exc).splitlines()[0]) from None


def occurred(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("occurred_at must be timezone-aware")
    return value
