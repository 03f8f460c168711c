"""GraphQL throughput of the gateway, against bare Starlette JSON measured in the same run.

Two servers run one after another, each as its own uvicorn process on a free loopback port:
a bare Starlette endpoint returning a fixed JSON body of the same shape (the ceiling: HTTP and
JSON, no GraphQL), then the real gateway (`muni up`, embedded, SQLite in a temporary folder)
answering an anonymous fare quote (parse, validate, resolve, price) and a signed-in `myRides`
(token check plus a read from the rides store). Locust (`bench/graphql_locust.py`, headless) keeps
each busy with concurrent users for a fixed time and checks every answer. The server and the load
generator share the machine, so the ratio to the bare endpoint is the figure that travels.

    python -m bench.graphql_throughput [--seconds 10] [--users 16] [--quick]
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.common import markdown_table, write_result
from kernel.auth import Identity, mint
from kernel.config import Settings
from kernel.keys import with_keys
from tests.support.servers import free_port, wait_for_http

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from starlette.applications import Starlette

QUOTE = (
    "{ quoteRide(pickup: {lat: 51.055, lon: 3.718}, dropoff: {lat: 51.03, lon: 3.75}) "
    "{ ... on Quote { distanceKm fare currency split { part amount } } } }"
)
MY_RIDES = "{ myRides { ... on RideConnection { nodes { id state fare } } } }"
BARE_BODY = {
    "data": {
        "quoteRide": {
            "distanceKm": "4.64",
            "fare": "10.39",
            "currency": "EUR",
            "split": [
                {"part": "driver", "amount": "8.83"},
                {"part": "coop", "amount": "1.04"},
                {"part": "common_fund", "amount": "0.42"},
                {"part": "protocol", "amount": "0.10"},
            ],
        }
    }
}
LOCUSTFILE = Path(__file__).with_name("graphql_locust.py")


def bare_app() -> Starlette:
    """The ceiling: the same transport and a JSON body of the same shape, no GraphQL at all."""
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def graphql(_request: object) -> JSONResponse:
        return JSONResponse(BARE_BODY)

    return Starlette(routes=[Route("/graphql", graphql, methods=["POST"])])


@dataclass(frozen=True)
class Measured:
    """Locust's aggregated row for one scenario."""

    requests: int
    failures: int
    per_second: float
    p50_ms: float
    p99_ms: float

    def row(self, name: str, ceiling: float) -> list[Any]:
        return [
            name,
            f"{self.per_second:.0f}",
            f"{self.per_second / ceiling:.2f}x",
            f"{self.p50_ms:.0f}",
            f"{self.p99_ms:.0f}",
            self.requests,
            self.failures,
        ]


def _locust(url: str, query: str, token: str | None, seconds: float, users: int) -> Measured:
    """Run Locust headless against `url` and read its aggregated statistics."""
    with tempfile.TemporaryDirectory() as tmp:
        prefix = Path(tmp) / "run"
        command = [str(Path(sys.executable).with_name("locust")), "-f", str(LOCUSTFILE)]
        command += ["--headless", "--only-summary", "--host", url, "--csv", str(prefix)]
        command += ["-u", str(users), "-r", str(users), "-t", f"{seconds:g}s"]
        env = {**os.environ, "MUNI_BENCH_QUERY": query}
        if token:
            env["MUNI_BENCH_TOKEN"] = token
        # Locust exits 1 when any request failed; the failure count below says so in the table.
        subprocess.run(command, env=env, check=False, capture_output=True)  # noqa: S603
        with Path(f"{prefix}_stats.csv").open() as stats:
            total = next(r for r in csv.DictReader(stats) if r["Name"] == "Aggregated")
    return Measured(
        requests=int(total["Request Count"]),
        failures=int(total["Failure Count"]),
        per_second=float(total["Requests/s"]),
        p50_ms=float(total["50%"]),
        p99_ms=float(total["99%"]),
    )


@contextlib.contextmanager
def _serve(command: Sequence[str], port: int, ready: str, log: Path) -> Iterator[str]:
    """Run a server on `port` until the block ends; yield its URL once `ready` answers."""
    with log.open("wb") as out:
        proc = subprocess.Popen(  # noqa: S603 (our own interpreter, fixed arguments)
            list(command), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for_http(f"{url}{ready}", 60.0)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=10.0, help="load time per scenario")
    parser.add_argument("--users", type=int, default=16, help="concurrent Locust users")
    parser.add_argument("--quick", action="store_true", help="3 s per scenario")
    args = parser.parse_args(argv)
    seconds = 3.0 if args.quick else args.seconds
    member = Identity("demo:33333333-3333-4333-8333-333333333333", "demo", frozenset({"member"}))
    results: dict[str, Measured] = {}
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        bare = [sys.executable, "-m", "uvicorn", "--factory", "bench.graphql_throughput:bare_app"]
        bare += ["--port", str(port), "--log-level", "warning"]
        with _serve(bare, port, "/graphql", Path(tmp) / "bare.log") as url:
            results["bare Starlette JSON"] = _locust(url, QUOTE, None, seconds, args.users)
        port = free_port()
        muni = [sys.executable, "-m", "gateway.cli", "up", "--port", str(port)]
        muni += ["--data-dir", str(Path(tmp) / "data")]
        with _serve(muni, port, "/healthz", Path(tmp) / "muni.log") as url:
            # Signed with the key the gateway made in its data folder (kernel/keys.py).
            keys = with_keys(Settings(data_dir=Path(tmp) / "data"))
            token = mint(member, keys.signing_key)
            results["gateway: quoteRide"] = _locust(url, QUOTE, None, seconds, args.users)
            results["gateway: myRides"] = _locust(url, MY_RIDES, token, seconds, args.users)
    ceiling = results["bare Starlette JSON"].per_second
    headers = ["endpoint", "req/s", "vs bare", "p50 ms", "p99 ms", "requests", "failed"]
    print(
        f"\nGraphQL over HTTP: {args.users} Locust users, {seconds:g} s each, one uvicorn worker\n"
    )
    print(markdown_table(headers, [m.row(name, ceiling) for name, m in results.items()]))
    payload = {
        "seconds": seconds,
        "users": args.users,
        "results": {
            name: {**vars(m), "vs_bare": m.per_second / ceiling} for name, m in results.items()
        },
    }
    path = write_result("graphql_throughput", payload)
    print(f"\nwrote {path}")
    return 0 if all(m.failures == 0 and m.requests > 0 for m in results.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
