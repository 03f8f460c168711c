"""Identifiers. A member id is scoped to its home city co-op: `<city>:<uuid>`."""

from __future__ import annotations

import re
import uuid
from typing import NewType

CityId = NewType("CityId", str)
MemberId = NewType("MemberId", str)

_CITY = re.compile(r"^[a-z][a-z0-9-]{1,39}$")
_MEMBER = re.compile(r"^(?P<city>[a-z][a-z0-9-]{1,39}):(?P<uuid>[0-9a-f-]{36})$")

MUNI_NAMESPACE = uuid.UUID("6f1f5a8e-3b1e-5a52-9c1e-4d756e690000")


class InvalidId(ValueError):
    """An identifier does not have the documented shape."""


def city_id(value: str) -> CityId:
    """Validate a city slug: lower-case letters, digits and dashes, 2-40 characters."""
    if not _CITY.match(value):
        raise InvalidId(f"city id {value!r} must be 2-40 lower-case letters, digits or dashes")
    return CityId(value)


def member_id(value: str) -> MemberId:
    """Validate `<city>:<uuid>`."""
    match = _MEMBER.match(value)
    if match is None:
        raise InvalidId(f"member id {value!r} must look like '<city>:<uuid>'")
    try:
        uuid.UUID(match["uuid"])
    except ValueError:
        raise InvalidId(f"member id {value!r} has a malformed uuid part") from None
    return MemberId(value)


def new_member_id(city: CityId) -> MemberId:
    return MemberId(f"{city}:{uuid.uuid4()}")


def home_city(member: MemberId) -> CityId:
    return CityId(member.split(":", 1)[0])


def stable_uuid(*parts: str) -> uuid.UUID:
    """A deterministic id from parts (uuid5), for idempotent re-submission and index aggregates."""
    return uuid.uuid5(MUNI_NAMESPACE, "/".join(parts))


def parse_uuid(value: str, *, what: str) -> uuid.UUID:
    """Parse a uuid from user input, naming what it should identify when it is malformed."""
    try:
        return uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        raise InvalidId(f"{what} id {value!r} is not a valid uuid") from None
