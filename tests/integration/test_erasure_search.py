"""After an erasure, nothing the co-op keeps holds the erased strings; the history stays.

The real app runs twice: embedded (SQLite files, the in-process bus) and at scale (PostgreSQL
schemas, Kafka on Tansu). A rider and a driver take a ride to the end; the rider erases their
data, a board member erases the driver's at their request. Then every store (every SQLite file
byte by byte, or every row of every table in the test's PostgreSQL schemas, the vault's
included), every message of every topic (read back from the broker) and everything the process
logged are searched for their names, contact details and vault keys: none is found. Their ride,
hours and ledger balances are unchanged and still under their member ids.

Before the erasure the same search finds the vault keys (in the vault) and the member ids (in
the stores and the messages): it sees what is there.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient

from gateway.app import create_app
from kernel.config import PostgresDsn, Settings
from kernel.keys import generate_key
from kernel.personal import EMAIL, PHONE
from tests.e2e.conftest import driver, join, past_clock, token_with
from tests.support.graphql import gql
from tests.support.privacy import (
    ERASE_ME,
    ERASE_MEMBER,
    ME,
    MY_CREDITS,
    MY_DRIVES,
    MY_RIDES,
    TRIAL_BALANCE,
    ride_to_the_end,
)
from tests.support.search import (
    Found,
    in_embedded_broker,
    in_files,
    in_kafka,
    in_postgres,
    scan,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path

    from contributions.application import Contributions
    from gateway.runtime import Runtime
    from services.members.application import Members
    from tests.support.servers import TansuBroker

RIDER_NAME = "Zebulon Quartermaine"
DRIVER_NAME = "Philippa Vandersloot"
RIDER_EMAIL = "zebulon.q@example.org"
RIDER_PHONE = "+32470123456"
# What they wrote in contributions: the rider's note on logged work, the driver's contest reason.
RIDER_NOTE = "Cooked for Gertrudis Oosterhuis"
DRIVER_REASON = "Fietsenmaker Wauters knows I waited"
WRITTEN = [*RIDER_NOTE.split()[-2:], *DRIVER_REASON.split()[:2]]
LOG_WORK = """mutation($input: LogContributionInput!) { logContribution(input: $input) {
  __typename ... on LoggedChanged { contribution { id note } } } }"""
CONTEST = """mutation($entry: String!, $line: Int!, $reason: String!) {
  contestLine(entryId: $entry, line: $line, reason: $reason) {
  __typename ... on ContestChanged { contest { contestId reason } } } }"""
LINES = "{ myCredits { ... on Credits { lines { nodes { entryId line unit } } } } }"
# What the rider says in an incident report (kept in their rides vault, never in an event).
INCIDENT_TEXT = "left my Xylophonic umbrella"
ERASED = [
    *RIDER_NAME.split(),
    *DRIVER_NAME.split(),
    RIDER_EMAIL,
    RIDER_PHONE,
    "Xylophonic",
    *WRITTEN,
]
REPORT_INCIDENT = """
mutation Report($input: ReportIncidentInput!) { reportIncident(input: $input) { __typename } }"""


@dataclass
class Deployment:
    settings: Settings
    stores: Callable[[Sequence[str]], Found]
    bus: Callable[[Runtime, Sequence[str]], tuple[Found, int]]


@pytest.fixture(
    params=[
        pytest.param("embedded", marks=pytest.mark.e2e),
        pytest.param("kafka", marks=pytest.mark.integration),
    ]
)
def deployment(request: pytest.FixtureRequest, tmp_path: Path) -> Deployment:
    if request.param == "embedded":
        data = tmp_path / "data"
        return Deployment(
            Settings(persistence="sqlite", data_dir=data),
            stores=lambda needles: in_files(data, needles),
            bus=lambda runtime, needles: in_embedded_broker(runtime.bus, needles),  # type: ignore[arg-type]
        )
    dsn: str = request.getfixturevalue("postgres_dsn")
    prefix: str = request.getfixturevalue("pg_schema_prefix")
    broker: TansuBroker = request.getfixturevalue("kafka_broker")
    settings = Settings(
        persistence="postgres",
        postgres=PostgresDsn.parse(dsn),
        schema_prefix=prefix,
        bus="kafka",
        kafka_bootstrap=broker.bootstrap,
        topic_prefix=f"{prefix}.",
        # Scale-out never invents keys (kernel/keys.py).
        jwt_secret=SecretStr(generate_key()),
        identifier_key=SecretStr(generate_key()),
    )
    return Deployment(
        settings,
        stores=lambda needles: in_postgres(dsn, prefix, needles),
        bus=lambda _, needles: in_kafka(broker.bootstrap, settings.topic_prefix, needles),
    )


def vault_key(app: Members | Contributions, member_id: str) -> str:
    with app.personal.db.transaction() as cursor:
        row = cursor.execute(
            f"SELECT data_key FROM {app.personal.db.table('vault_keys')} "  # noqa: S608
            "WHERE member_id = %s",
            (member_id,),
        ).fetchone()
    assert row is not None
    return str(row[0])


def history(client: TestClient, rider: str, drv: str, board: str) -> dict[str, Any]:
    """What must not change: the ride as both see it, the driver's credits, the ledger."""
    return {
        "rides": gql(client, MY_RIDES, token=rider)["myRides"],
        "drives": gql(client, MY_DRIVES, token=drv)["myDrives"],
        "credits": gql(client, MY_CREDITS, token=drv)["myCredits"],
        "ledger": gql(client, TRIAL_BALANCE, token=board)["trialBalance"],
    }


def test_after_erasure_no_store_topic_or_log_holds_the_erased_strings(
    deployment: Deployment, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # everything this process logs, from every thread
    caplog.set_level(logging.INFO, logger="kafka")  # the client's wire chatter holds no payloads
    clock = past_clock()
    with TestClient(create_app(deployment.settings, clock=clock)) as client:
        runtime: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
        members: Members = runtime.apps["members"]  # type: ignore[assignment]

        # given a rider with contact details (kept through the accounts' port), a driver and
        # a board member, and one ride taken to the end and credited
        rider_id, rider = join(client, RIDER_NAME)
        driver_id, drv = driver(client, DRIVER_NAME)
        board_id, _ = join(client, "Emre Board")
        board = token_with(client, board_id, "board")
        members.personal.put(rider_id, EMAIL, RIDER_EMAIL, findable=True)
        members.personal.put(rider_id, PHONE, RIDER_PHONE, findable=True)
        ride_id = ride_to_the_end(client, clock, rider, drv)
        incident = {"rideId": ride_id, "kind": "LOST_PROPERTY", "text": INCIDENT_TEXT}
        reported = gql(client, REPORT_INCIDENT, {"input": incident}, token=rider)
        assert reported["reportIncident"]["__typename"] == "IncidentChanged", reported
        # and what they wrote in contributions: a note on logged work, a contest's reason
        work = {"kind": "care", "hours": "1", "workedOn": clock.now().date().isoformat()}
        noted = gql(client, LOG_WORK, {"input": {**work, "note": RIDER_NOTE}}, token=rider)
        assert noted["logContribution"]["contribution"]["note"] == RIDER_NOTE
        assert runtime.wait_until_idle(30)
        line = next(
            x
            for x in gql(client, LINES, token=drv)["myCredits"]["lines"]["nodes"]
            if x["unit"] == "HOUR"
        )
        contested = gql(
            client,
            CONTEST,
            {"entry": line["entryId"], "line": line["line"], "reason": DRIVER_REASON},
            token=drv,
        )
        assert contested["contestLine"]["contest"]["reason"] == DRIVER_REASON
        before = history(client, rider, drv, board)
        assert [r["id"] for r in before["rides"]["nodes"]] == [ride_id]
        assert before["ledger"]["balanced"] is True
        contributions: Contributions = runtime.apps["contributions"]  # type: ignore[assignment]
        keys = [
            vault_key(app, m) for app in (members, contributions) for m in (rider_id, driver_id)
        ]
        assert runtime.wait_until_idle(30)

        # the search sees what is there: keys in the vault, member ids in stores and messages
        ids = [rider_id, driver_id]
        assert set(deployment.stores([*keys, *ids])) == {*keys, *ids}
        seen, messages = deployment.bus(runtime, ids)
        assert messages > 0
        assert set(seen) == set(ids)

        # when the rider erases their data, and the board erases the driver's for them
        erased = gql(client, ERASE_ME, token=rider)["eraseMyData"]
        assert erased["erasedFields"] == ["display_name", "email", "password_hash", "phone"]
        by_board = gql(client, ERASE_MEMBER, {"id": driver_id}, token=board)["eraseMemberData"]
        assert (by_board["__typename"], by_board["requestedBy"]) == ("DataErased", board_id)
        assert runtime.wait_until_idle(30)

        # then no store, no topic holds their names, contact details or keys
        assert deployment.stores([*ERASED, *keys]) == {}
        found, _ = deployment.bus(runtime, [*ERASED, *keys])
        assert found == {}
        # while their pseudonymous history stays, and stays correct
        assert set(deployment.stores(ids)) == set(ids)
        assert history(client, rider, drv, board) == before
        for token in (rider, drv):
            assert gql(client, ME, token=token)["me"]["displayName"] == "erased"
        assert members.personal.find(EMAIL, RIDER_EMAIL) is None

    # nor did anything log them, from start-up to shut-down
    logged = [(r.name, f"{r.getMessage()} {r.exc_text or ''}".encode()) for r in caplog.records]
    assert scan([*logged, ("caplog", caplog.text.encode())], [*ERASED, *keys]) == {}
    if deployment.settings.persistence == "sqlite":  # the files as they are left at rest
        assert deployment.stores([*ERASED, *keys]) == {}
