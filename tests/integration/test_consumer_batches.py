"""The consumer records a poll's messages in one transaction, and keeps every guarantee of one
message per transaction: on a real SQLite file and a real PostgreSQL schema,

- a consumer killed inside a batch's transaction, after some of its messages were written, leaves
  none of the batch behind, and a restarted one applies every message exactly once;
- a full redelivery of everything (a consumer that never committed an offset) changes nothing;
- a message delivered twice within one batch, and a policy that changes an aggregate an earlier
  message of the same batch changed, are applied once each, on the state before them;
- a batch refused because a message was applied meanwhile (another group member) falls back to
  one message at a time, and still applies each once.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import uuid
from typing import TYPE_CHECKING

import pytest
from eventsourcing.persistence import Tracking

from contributions.application import Contributions
from contributions.inbound import INBOUND
from kernel.bus.consumer import Consumer, Inbound, Step
from kernel.bus.embedded import EmbeddedBroker
from kernel.bus.envelope import Envelope
from kernel.config import PostgresDsn, Settings
from tests.support.batch_ledger import DRIVERS, NS, TOPIC, expected_earnings, messages
from tests.unit.kernel.test_relay_consumer import Bumped, Counter, Tally

if TYPE_CHECKING:
    from decimal import Decimal
    from pathlib import Path

    from kernel.bus.port import Message

pytestmark = pytest.mark.integration
RIDES = 40


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Settings, list[str]]:
    if request.param == "sqlite":
        return Settings(persistence="sqlite", data_dir=tmp_path), ["sqlite", str(tmp_path), "-"]
    dsn = request.getfixturevalue("postgres_dsn")
    prefix = request.getfixturevalue("pg_schema_prefix")
    settings = Settings(
        persistence="postgres", postgres=PostgresDsn.parse(dsn), schema_prefix=prefix
    )
    return settings, ["postgres", dsn, prefix]


def _consume(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    cleaned = {k: v for k, v in os.environ.items() if not k.startswith("MUNI_FAULT_")}
    return subprocess.run(
        [sys.executable, "-m", "tests.support.batch_ledger", *args, str(RIDES)],
        env={**cleaned, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _earnings(app: Contributions) -> dict[str, Decimal]:
    ledger, _ = app.ledger()
    return {d: ledger.member_totals(d, "EUR").earnings for d in DRIVERS}


def test_a_consumer_killed_inside_a_batch_leaves_none_of_it_and_applies_each_once_after(
    store: tuple[Settings, list[str]],
) -> None:
    settings, args = store
    # when a consumer dies inside its first batch's transaction, after 7 messages' writes
    doomed = _consume(args, MUNI_FAULT_EXIT_MID_BATCH="7")
    assert doomed.returncode == 137, doomed.stderr[-2000:]

    # then nothing of the batch is stored: no journal entry, no tracking record
    app = Contributions(settings)
    assert app.head() == 0
    assert not app.already_applied(Tracking(f"demo/rides/{uuid.uuid5(NS, 'ride-0')}", 1))
    ledger, _ = app.ledger()
    assert ledger.entries() == 0

    # when a consumer starts again and everything is delivered again
    restarted = _consume(args)
    assert restarted.returncode == 0, restarted.stderr[-2000:]
    outcome = json.loads(restarted.stdout.strip().splitlines()[-1])

    # then every ride is posted once, the duplicate delivery skipped within its batch
    assert outcome == {"applied": RIDES, "skipped": 1, "ignored": RIDES, "parked": 0}
    ledger, _ = app.ledger()
    assert ledger.entries() == 2 * RIDES  # the fare's split and the driving hours, per ride
    assert _earnings(app) == expected_earnings(RIDES)

    # and a third full redelivery changes nothing
    again = _consume(args)
    assert again.returncode == 0, again.stderr[-2000:]
    outcome = json.loads(again.stdout.strip().splitlines()[-1])
    assert outcome == {"applied": 0, "skipped": 2 * RIDES + 1, "ignored": 0, "parked": 0}
    ledger, _ = app.ledger()
    assert ledger.entries() == 2 * RIDES
    assert _earnings(app) == expected_earnings(RIDES)
    app.close()


def test_a_batch_refused_midway_applies_the_rest_one_by_one(
    store: tuple[Settings, list[str]], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="kernel.bus.consumer")
    settings, _ = store
    app = Contributions(settings)
    other = Contributions(settings)  # another member of the group, on the same store
    broker = EmbeddedBroker(default_partitions=1)
    broker.ensure_topics([TOPIC], 1)
    sent = messages(10)
    broker.publisher().publish(TOPIC, sent)
    consumer = Consumer(app, broker.subscriber("contributions"), topics=[TOPIC], inbound=INBOUND)
    rival = Consumer(other, broker.subscriber("rival"), topics=[TOPIC], inbound=INBOUND)

    # when, after this consumer planned its batch, the rival applies a message of it first
    planned = consumer._plan

    def plan_then_rival(message: Message) -> Step | None:
        step = planned(message)
        if message.offset == 9:  # the 5th ride's completion, planned but not yet recorded
            rival.handle(message)
        return step

    consumer._plan = plan_then_rival  # type: ignore[method-assign]
    while consumer.run_once(timeout_s=0.01):
        pass

    # then the refused batch was applied one message at a time, the rival's message skipped
    assert "a batch was refused after 0" in caplog.text
    assert consumer.outcome.applied == 9
    # skipped: the rival's ride and its request (the rival's tracking of the ride is past it),
    # and the first ride's second delivery
    assert consumer.outcome.skipped == 3
    ledger, _ = app.ledger()
    assert ledger.entries() == 20
    assert _earnings(app) == expected_earnings(10)
    app.close()
    other.close()


def _bump(counter: str, position: int, aggregate: uuid.UUID) -> tuple[bytes, bytes]:
    envelope = Envelope.model_validate(
        {
            "id": str(uuid.uuid4()),
            "type": "tests.Bumped",
            "version": 1,
            "source": "tests",
            "city": "demo",
            "position": position,
            "occurred_at": "2026-11-28T09:30:00+00:00",
            "aggregate_id": str(aggregate),
            "payload": {"counter": counter},
        }
    )
    return envelope.key, envelope.to_bytes()


def test_policies_changing_one_aggregate_within_a_batch_each_see_the_one_before(
    store: tuple[Settings, list[str]], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="kernel.bus.consumer")
    settings, _ = store
    app = Tally(settings.with_(city="demo"))
    app.save(Counter("a"), Counter("b"))
    broker = EmbeddedBroker(default_partitions=1)
    broker.ensure_topics([TOPIC], 1)
    source = uuid.uuid4()
    bumps = [_bump("a", 1, source), _bump("b", 2, source), _bump("a", 3, source)]
    broker.publisher().publish(TOPIC, [*bumps, bumps[1], _bump("a", 4, source)])
    consumer = Consumer(
        app, broker.subscriber("tally"), topics=[TOPIC], inbound=Inbound.of([Bumped])
    )

    assert consumer.run_once(timeout_s=0.01) == 5  # one poll, one batch

    a: Counter = app.repository.get(Counter.create_id("a"))
    b: Counter = app.repository.get(Counter.create_id("b"))
    assert (a.count, b.count) == (3, 1)
    assert (consumer.outcome.applied, consumer.outcome.skipped) == (4, 1)
    assert "refused" not in caplog.text  # split where "a" repeats, never refused
    app.close()
