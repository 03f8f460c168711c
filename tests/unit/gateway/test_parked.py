"""The board's parked messages: every service's, merged oldest first, each naming its service,
paged with one cursor; `service:` narrows it; bad arguments are typed and change nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from eventsourcing.persistence import Tracking

from contributions.application import Contributions
from gateway.schema import build_schema
from kernel.api import Context
from kernel.auth import Identity
from kernel.config import Settings
from kernel.parking import Parked
from kernel.time import FixedClock
from services.rides.application import Rides

if TYPE_CHECKING:
    from collections.abc import Iterator

PARKED = """query($first: Int, $after: String, $service: String, $seen: String) {
  parkedMessages(first: $first, after: $after, service: $service, seen: $seen) {
    __typename
    ... on InvalidInput { field message }
    ... on ParkedMessageConnection {
      asOf pageInfo { hasNextPage endCursor } nodes { service reason offset }
    }
  }
}"""
SCHEMA = build_schema()
START = datetime(2026, 12, 1, 8, tzinfo=UTC)


@pytest.fixture
def apps() -> Iterator[dict[type[Any], Any]]:
    clock = FixedClock(START)
    settings = Settings(persistence="popo")
    found: dict[type[Any], Any] = {
        Rides: Rides(settings, clock=clock),
        Contributions: Contributions(settings, clock=clock),
    }
    # Parked alternately, a minute apart: rides at 0, 2, 4; contributions at 1, 3.
    for n in range(5):
        app = found[Rides] if n % 2 == 0 else found[Contributions]
        parked = Parked(reason=f"bad {n}", topic="t", partition=0, offset=n, raw="x")
        app.process_event(parked, Tracking("malformed:t#0", n + 1))
        clock.advance(timedelta(minutes=1))
    yield found
    for app in found.values():
        app.close()


async def _ask(apps: dict[type[Any], Any], **variables: Any) -> dict[str, Any]:
    context = Context(
        settings=Settings(persistence="popo"),
        apps=apps,
        identity=Identity(
            "demo:00000000-0000-4000-8000-000000000b0a", "demo", frozenset({"board"})
        ),
    )
    result = await SCHEMA.execute(PARKED, variable_values=variables, context_value=context)
    assert result.errors is None, result.errors
    assert result.data is not None
    answer: dict[str, Any] = result.data["parkedMessages"]
    return answer


async def test_every_services_parked_messages_in_one_list_oldest_first(apps) -> None:
    first = await _ask(apps, first=3)
    rest = await _ask(apps, first=3, after=first["pageInfo"]["endCursor"])

    rows = [(m["service"], m["offset"]) for m in first["nodes"] + rest["nodes"]]
    assert rows == [
        ("rides", 0),
        ("contributions", 1),
        ("rides", 2),
        ("contributions", 3),
        ("rides", 4),
    ]
    assert (first["pageInfo"]["hasNextPage"], rest["pageInfo"]["hasNextPage"]) == (True, False)
    assert sorted(first["asOf"].split(",")) == sorted(
        f"{s}@{apps[c].head()}" for s, c in (("contributions", Contributions), ("rides", Rides))
    )


async def test_one_services_parked_messages(apps) -> None:
    only = await _ask(apps, service="contributions")
    assert [(m["service"], m["offset"]) for m in only["nodes"]] == [
        ("contributions", 1),
        ("contributions", 3),
    ]


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"service": "stays"}, "service"),
        ({"first": 0}, "first"),
        ({"after": "not-a-cursor"}, "after"),
        ({"seen": "stays@3"}, "seen"),
    ],
)
async def test_bad_arguments_are_refused_by_name(apps, variables, field) -> None:
    answer = await _ask(apps, **variables)
    assert (answer["__typename"], answer["field"]) == ("InvalidInput", field), answer
