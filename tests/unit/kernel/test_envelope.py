"""The envelope: JSON in and out; anything else is a MalformedEnvelope."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest

from kernel.bus.envelope import Envelope, MalformedEnvelope
from kernel.config import Settings


def _envelope(**changes: object) -> Envelope:
    fields: dict[str, object] = {
        "id": uuid.uuid4(),
        "type": "rides.RideCompleted",
        "version": 1,
        "source": "rides",
        "city": "demo",
        "position": 7,
        "occurred_at": datetime(2026, 11, 28, 9, 30, tzinfo=UTC),
        "aggregate_id": uuid.uuid4(),
        "correlation_id": uuid.uuid4(),
        "payload": {"fare": "12.34", "split": {"driver": "10.49"}},
    }
    return Envelope(**{**fields, **changes})


def test_round_trip_through_bytes() -> None:
    envelope = _envelope()
    assert Envelope.from_bytes(envelope.to_bytes()) == envelope
    assert envelope.key == str(envelope.aggregate_id).encode()
    assert envelope.source_log == "demo/rides"


def test_topic_names_carry_city_service_and_major_version() -> None:
    assert Settings(persistence="popo").topic("rides") == "demo.rides.events.v1"
    shared = Settings(persistence="popo", city="ghent", topic_prefix="staging.")
    assert shared.topic("stays", 2) == "staging.ghent.stays.events.v2"
    assert shared.group("contributions") == "staging.ghent.contributions"


@pytest.mark.parametrize(
    "value",
    [
        b"",
        b"not json",
        b"\xff\xfe\x00",
        b"[]",
        b'{"type": "rides.RideCompleted"}',
    ],
)
def test_bytes_that_are_not_an_envelope_are_malformed(value: bytes) -> None:
    with pytest.raises(MalformedEnvelope):
        Envelope.from_bytes(value)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("type", "RideCompleted"),  # not namespaced
        ("version", 0),
        ("position", 0),
        ("occurred_at", "2026-11-28T09:30:00"),  # naive
        ("unexpected", 1),  # producers are strict
    ],
)
def test_envelopes_with_bad_fields_are_malformed(field: str, value: object) -> None:
    raw = json.loads(_envelope().to_bytes())
    raw[field] = value
    with pytest.raises(MalformedEnvelope):
        Envelope.from_bytes(json.dumps(raw).encode())
