"""What operators see: /health, /ready, /metrics, JSON logs carrying one correlation id from
the HTTP request to a consumer's log line, and `muni status`."""

from __future__ import annotations

import io
import json
import logging
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from contributions.application import Contributions
from contributions.decisions.application import Decisions
from gateway import cli
from gateway.app import create_app
from gateway.readings import Reading
from kernel import correlation, logs
from services.members.application import Members
from services.rides.application import Rides
from tests.e2e.conftest import (
    ACCEPT,
    DROP_OFF,
    PICK_UP,
    SETTINGS,
    driver,
    eventually,
    join,
    past_clock,
    request_ride,
    ride_command,
)

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from kernel.time import FixedClock

pytestmark = pytest.mark.e2e

QUOTE = """{ quoteRide(pickup: {lat: 51.05, lon: 3.72}, dropoff: {lat: 51.04, lon: 3.74})
  { __typename } }"""


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """Every log record of the process, as the JSON lines `muni` writes."""
    out = io.StringIO()
    handler = logs.handler(out)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield out
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def records(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def test_health_and_its_old_name_say_the_process_is_alive(client: TestClient) -> None:
    for path in ("/health", "/healthz"):
        response = client.get(path)
        assert response.status_code == 200
        assert response.json()["status"] == "ok"


def test_ready_reads_every_relay_and_consumer(client: TestClient) -> None:
    join(client, "Ada")
    response = client.get("/ready")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready"
    names = {r["name"]: r for r in body["readings"]}
    assert set(names) == {
        "relay members -> demo.members.events.v1",
        "relay rides -> demo.rides.events.v1",
        "consumer contributions <- demo.rides.events.v1",
        # every read model of every service, with its own position
        "members/parked_messages",
        *(f"members/{m.name}" for m in Members.read_models),
        "rides/parked_messages",
        "contributions/parked_messages",
        *(f"contributions/{m.name}" for m in Contributions.read_models),
        *(f"rides/{m.name}" for m in Rides.read_models),
        "relay decisions -> demo.decisions.events.v1",
        "consumer decisions <- demo.members.events.v1",
        "consumer rides <- demo.decisions.events.v1",
        # contributions adopts a ratified value equation from decisions.PolicyChanged
        "consumer contributions <- demo.decisions.events.v1",
        "decisions/parked_messages",
        *(f"decisions/{m.name}" for m in Decisions.read_models),
    }
    members = names["relay members -> demo.members.events.v1"]
    assert members["head"] == client.app.state.runtime.apps["members"].head()  # type: ignore[attr-defined]
    assert names["contributions/contributions_ledger"]["unit"] == "events"
    assert members["unit"] == "notifications"
    assert names["consumer contributions <- demo.rides.events.v1"]["unit"] == "messages"


def test_ready_says_what_is_too_far_behind(client: TestClient) -> None:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    runtime.reading_sources.append(
        lambda: [Reading("projection", "rides_open_rides", 10, 5000, "events")]
    )
    response = client.get("/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not ready"
    assert body["problems"] == ["rides_open_rides is 4990 events behind (at most 1000)"]


def test_metrics_count_operations_by_the_type_they_answered(client: TestClient) -> None:
    client.post("/graphql", json={"query": QUOTE})
    join(client, "Ada")
    client.post("/graphql", json={"query": "{ nope }"})
    page = client.get("/metrics")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/plain")
    found = samples(page.text)
    assert (
        found[("muni_graphql_operations_total", (("operation", "quoteRide"), ("outcome", "Quote")))]
        == 1
    )
    assert (
        found[("muni_graphql_operations_total", (("operation", "signUp"), ("outcome", "SignedIn")))]
        == 1
    )
    assert found[("muni_graphql_requests_total", (("outcome", "ok"),))] == 2
    assert found[("muni_graphql_requests_total", (("outcome", "errors"),))] == 1
    assert found[("muni_graphql_request_seconds_count", ())] == 3
    assert (
        "muni_graphql_operation_seconds_bucket",
        (("le", "0.1"), ("operation", "quoteRide")),
    ) in found
    relay = (("kind", "relay"), ("name", "relay members -> demo.members.events.v1"))
    members = client.app.state.runtime.apps["members"]  # type: ignore[attr-defined]
    assert found[("muni_head", relay)] == members.head()  # a sign-up stores several events
    consumer = (("kind", "consumer"), ("name", "consumer contributions <- demo.rides.events.v1"))
    assert ("muni_lag", consumer) in found
    # The process-wide registry is served too: the solver-time hook and process metrics.
    assert "muni_solver_seconds" in page.text


def test_one_correlation_id_travels_from_the_request_to_the_consumers_log(
    client: TestClient, e2e_clock: FixedClock, json_log: io.StringIO
) -> None:
    _, rider = join(client, "Ada")
    _, drv = driver(client, "Bram")
    ride = request_ride(client, rider)
    assert ride_command(client, ACCEPT, ride["id"], drv)["state"] == "ACCEPTED"
    e2e_clock.advance(timedelta(minutes=5))
    assert ride_command(client, PICK_UP, ride["id"], drv)["state"] == "PICKED_UP"
    e2e_clock.advance(timedelta(minutes=10))

    cid = uuid.uuid4()
    response = client.post(
        "/graphql",
        json={"query": DROP_OFF, "variables": {"id": ride["id"]}},
        headers={"Authorization": f"Bearer {drv}", "X-Correlation-Id": str(cid)},
    )
    assert response.json()["data"]["markDroppedOff"]["ride"]["state"] == "COMPLETED"
    assert response.headers["x-correlation-id"] == str(cid)

    def applied() -> dict[str, Any] | None:
        return next(
            (
                r
                for r in records(json_log)
                if r["logger"] == "kernel.bus.consumer" and "RideCompleted" in r["message"]
            ),
            None,
        )

    line = eventually(applied)
    assert line["correlation_id"] == str(cid)
    assert line["message"].startswith("consumer contributions applied rides.RideCompleted v1")
    # The events the consumer stored carry it on, caused by the envelope it applied.
    contributions = client.app.state.runtime.apps["contributions"]  # type: ignore[attr-defined]
    stored = [
        contributions.mapper.to_domain_event(n)
        for n in contributions.notification_log.select(start=1, limit=100)
    ]
    ids = {correlation.of(e) for e in stored}
    assert {c for c, _ in ids} == {cid}
    assert all(cause is not None and cause != cid for _, cause in ids)


def test_a_request_without_a_correlation_id_gets_a_new_one(client: TestClient) -> None:
    first = client.post("/graphql", json={"query": QUOTE}).headers["x-correlation-id"]
    second = client.post(
        "/graphql", json={"query": QUOTE}, headers={"X-Correlation-Id": "not-a-uuid"}
    ).headers["x-correlation-id"]
    assert uuid.UUID(first) != uuid.UUID(second)


def test_logs_are_one_json_object_per_line(json_log: io.StringIO) -> None:
    with correlation.correlated(uuid.UUID(int=7)):
        logging.getLogger("muni.test").warning("a line with %s", "an argument")
    (line,) = [r for r in records(json_log) if r["logger"] == "muni.test"]
    assert line["level"] == "WARNING"
    assert line["message"] == "a line with an argument"
    assert line["correlation_id"] == str(uuid.UUID(int=7))


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def test_muni_status_prints_each_relays_position_and_lag(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    restore_logging: None,
) -> None:
    settings = SETTINGS.with_(persistence="sqlite", data_dir=tmp_path, cheap_password_hashing=False)
    with TestClient(create_app(settings, clock=past_clock())) as client:
        join(client, "Ada")
        join(client, "Bram")
        runtime = client.app.state.runtime  # type: ignore[attr-defined]
        assert runtime.wait_until_idle()
    monkeypatch.setenv("MUNI_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("MUNI_LOG_LEVEL", "WARNING")
    assert cli.main(["status"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "demo: sqlite stores, embedded bus"
    members = next(line for line in out if line.startswith("relay members"))
    position, head, lag, unit = members.split()[4:8]
    assert (position, lag, unit) == (head, "0", "notifications")
    assert int(head) >= 2
    rides = next(line for line in out if line.startswith("relay rides"))
    assert rides.split()[4:7] == ["0", "0", "0"]
    assert any("embedded bus lives in the `muni up` process" in line for line in out)
