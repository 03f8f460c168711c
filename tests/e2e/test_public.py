"""What needs no sign-in: quotes, the GraphiQL page, health."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING, Any

import pytest
from starlette.testclient import TestClient
from strawberry.extensions import ValidationCache

from gateway.app import create_app
from gateway.schema import MAX_QUERY_DEPTH
from kernel.cities import load_city
from kernel.geo import Point, great_circle_km
from tests.e2e.conftest import DROPOFF, PICKUP, SETTINGS, past_clock
from tests.support.graphql import gql

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    """One app for the module: nothing here writes."""
    with TestClient(create_app(SETTINGS, clock=past_clock())) as client:
        yield client


CITY = load_city("demo")
QUOTE = """
query Quote($pickup: LocationInput!, $dropoff: LocationInput!) {
  quoteRide(pickup: $pickup, dropoff: $dropoff) {
    __typename
    ... on Quote { distanceKm fare currency split { part amount } }
    ... on InvalidInput { field message }
  }
}"""


def test_a_quote_needs_no_token_and_follows_the_city_formula(client: TestClient) -> None:
    quote = gql(client, QUOTE, {"pickup": PICKUP, "dropoff": DROPOFF})["quoteRide"]

    rides = CITY.rides
    straight = great_circle_km(Point(**PICKUP), Point(**DROPOFF))
    km = (Decimal(straight) * rides.detour_factor).quantize(Decimal("0.01"))
    minutes = (km / rides.average_speed_kmh * 60).quantize(Decimal("0.1"))
    fare = (rides.fare_base + rides.fare_per_km * km + rides.fare_per_minute * minutes).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_EVEN
    )
    assert quote["__typename"] == "Quote"
    assert Decimal(quote["distanceKm"]) == km
    assert Decimal(quote["fare"]) == fare
    assert quote["currency"] == CITY.currency
    assert sum(Decimal(s["amount"]) for s in quote["split"]) == fare


@pytest.mark.parametrize(
    ("pickup", "dropoff", "field", "problem"),
    [
        ({"lat": 91, "lon": 3.7}, DROPOFF, "pickup", "latitude 91.0"),
        (PICKUP, {"lat": 51.0, "lon": 200}, "dropoff", "longitude 200.0"),
        (PICKUP, {"lat": -90.5, "lon": -181}, "dropoff", "latitude -90.5"),
    ],
)
def test_a_quote_rejects_bad_coordinates(
    client: TestClient,
    pickup: dict[str, float],
    dropoff: dict[str, float],
    field: str,
    problem: str,
) -> None:
    quote = gql(client, QUOTE, {"pickup": pickup, "dropoff": dropoff})["quoteRide"]
    assert quote["__typename"] == "InvalidInput"
    assert quote["field"] == field
    assert problem in quote["message"]


def test_graphiql_is_served_to_browsers_in_dev_mode() -> None:
    # Production serves no GraphiQL (tests/e2e/test_hostile.py); `muni up` is dev mode.
    dev = SETTINGS.with_(gateway=SETTINGS.gateway.with_(dev=True))
    with TestClient(create_app(dev, clock=past_clock())) as client:
        page = client.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "graphiql" in page.text.lower()


def test_health_says_ok(client: TestClient) -> None:
    health = client.get("/healthz")
    assert health.status_code == 200
    body = health.json()
    assert body["status"] == "ok"
    assert (body["city"], body["persistence"], body["bus"]) == ("demo", "popo", "embedded")
    assert set(body["workers"]) == {"members", "rides", "contributions", "decisions"}


def test_query_mistakes_are_explained_not_masked(client: TestClient) -> None:
    # Unexpected exceptions are masked (gateway/schema.py); a client's own mistakes are not.
    unknown_field = client.post("/graphql", json={"query": "{ nope }"}).json()
    assert unknown_field["errors"][0]["message"] == "Cannot query field 'nope' on type 'Query'."


def test_a_query_nested_beyond_the_depth_limit_is_refused(client: TestClient) -> None:
    deep = (
        "{ "
        + " ".join(f"f{i} {{" for i in range(MAX_QUERY_DEPTH + 2))
        + " x"
        + " }" * (MAX_QUERY_DEPTH + 3)
    )
    errors = client.post("/graphql", json={"query": deep}).json()["errors"]
    expected = f"'anonymous' exceeds maximum operation depth of {MAX_QUERY_DEPTH}"
    assert expected in [e["message"] for e in errors]


def test_a_repeated_query_is_validated_once(client: TestClient) -> None:
    # Validation is most of a small query's cost; the depth rule must not defeat the cache
    # (a rule class made per request changes the cache key every time).
    cache: Any = ValidationCache(maxsize=256).cached_validate_document  # an lru_cache wrapper
    query = (
        "{ quoteRide(pickup: {lat: 51.05, lon: 3.72}, dropoff: {lat: 51.04, lon: 3.74}) "
        "{ __typename } }"
    )
    client.post("/graphql", json={"query": query})
    before = cache.cache_info()
    for _ in range(3):
        assert "errors" not in client.post("/graphql", json={"query": query}).json()
    after = cache.cache_info()
    assert (after.hits - before.hits, after.misses - before.misses) == (3, 0)
