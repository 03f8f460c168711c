"""A season of a mid-size city against an empty one: does the cost of a request grow with history?

For each store (SQLite embedded; PostgreSQL with `--postgres DSN`), in the same run:

1. an empty city: the drivers on duty and one probe rider with 500 past rides, nothing else;
2. the season: the same, plus `--members` members and `--rides` completed rides, written by a
   bulk loader that calls the same domain methods the applications call (so the same events),
   saved in big batches; then the real relays, consumers and read-model runners catch up (the
   ledger is posted by the real consumer, a poll's messages per transaction, as in production).

Then, through the gateway over HTTP (uvicorn in this process, an httpx client): `requestRide` to
the offer, `myRides` first page of the probe rider, `trialBalance`, a driver's `myCredits`
(p50 / p99 ms each); a ride's completion to its fare in the ledger (embedded bus; and over Kafka
on Tansu with `--tansu`); a rebuild of the rides read model from scratch (events/s); the same
list through the gateway and through a bare Starlette endpoint reading the same table (ratio);
and rides per second through the four ride commands against the eventsourcing library alone
saving the same aggregates to the same kind of store (ratio). Prints a table, writes JSON. Not a
test: it asserts nothing.

    python -m bench.city_scale                     # the issue's full season on SQLite
    python -m bench.city_scale --quick             # 300 drivers, 2,000 members, 5,000 rides
    python -m bench.city_scale --postgres postgresql://postgres@127.0.0.1:5432/test --tansu
"""

from __future__ import annotations

import argparse
import contextlib
import secrets
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import uvicorn
from eventsourcing.application import Application
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from bench.common import Stopwatch, markdown_table, write_result
from gateway.app import create_app
from kernel.auth import Identity, mint
from kernel.config import PostgresDsn, Settings
from kernel.ids import CityId, new_member_id
from kernel.keys import with_keys
from kernel.paging import page_request
from kernel.readside import rebuild
from kernel.time import FixedClock
from kernel.transcodings import KERNEL_TRANSCODINGS, EnumAsValue
from services.members.application import Members
from services.rides.application import PlaceAsDict, Rides
from services.rides.domain import Driver, DriverStatus, Place, Ride, RideState
from services.rides.projections.rides import RideRecords
from tests.support.rides import city_with
from tests.support.servers import TansuBroker, free_port

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from starlette.requests import Request

    from contributions.application import Contributions

DEMO = CityId("demo")
CENTRE = (51.05, 3.72)  # Ghent
PROBE_RIDES = 500
BATCH = 300  # rides per save in the bulk loader: one per driver, so no driver holds two


def pct(samples: list[float], q: int) -> float:
    return statistics.quantiles(samples, n=100)[q - 1] if len(samples) > 1 else samples[0]


def spot(i: int, spread: float = 0.04) -> Place:
    """A deterministic point in the city (a small grid walk, no randomness across runs)."""
    return Place(
        CENTRE[0] + spread * ((i * 37) % 101 - 50) / 50,
        CENTRE[1] + spread * ((i * 53) % 97 - 48) / 48,
    )


# -- loading ----------------------------------------------------------------------------------
@dataclass
class City:
    drivers: list[str]
    probe_rider: str
    riders: list[str]
    rides: int = 0


def load(settings: Settings, *, drivers: int, members: int, rides: int) -> City:
    """Write a city into the stores: drivers on duty (through the application), members, the
    probe rider's rides and `rides` more (through the domain, in batches)."""
    clock = FixedClock(datetime(2026, 3, 1, 6, tzinfo=UTC))
    app = Rides(settings, clock=clock)
    people = Members(settings, clock=clock)
    city = City([], new_member_id(DEMO), [])
    try:
        for i in range(drivers):
            member = new_member_id(DEMO)
            app.register_driver(member, seats=4, wheelchair_accessible=i % 5 == 0, vehicle="car")
            app.go_on_duty(member, lat=spot(i).lat, lon=spot(i).lon)
            city.drivers.append(member)
        batch = []
        for i in range(members):
            batch.append(people.new_member(f"Member {i}"))
            if len(batch) == 1000:
                people.save(*batch)
                city.riders += [m.member_id for m in batch]
                batch = []
        if batch:
            people.save(*batch)
            city.riders += [m.member_id for m in batch]
        riders = [city.probe_rider] * PROBE_RIDES + [
            city.riders[i % len(city.riders)] if city.riders else city.probe_rider
            for i in range(rides)
        ]
        _bulk_rides(app, clock, city.drivers, riders)
        city.rides = rides
    finally:
        app.close()
        people.close()
    return city


def _bulk_rides(app: Rides, clock: FixedClock, drivers: list[str], riders: list[str]) -> None:
    loaded = {m: app.driver(m) for m in drivers}
    for start in range(0, len(riders), BATCH):
        chunk = riders[start : start + BATCH]
        done: list[Ride] = []
        for j, rider in enumerate(chunk):
            driver = loaded[drivers[j % len(drivers)]]
            pickup, dropoff = spot(start + j), spot(start + j + 7)
            km, fare = app.quote(pickup=pickup, dropoff=dropoff)
            now = clock.now()
            ride = Ride.request(
                rider_id=rider,
                pickup=pickup,
                dropoff=dropoff,
                seats=1,
                wheelchair=False,
                distance_km=km,
                quote=fare.total,
                now=now,
            )
            ride.offer(driver.member_id, Decimal("3.0"), "bulk-loaded season")
            driver.receive_offer(ride.id)
            ride.accept(driver.member_id, now + timedelta(minutes=1))
            driver.start_ride(ride.id)
            ride.pick_up(driver.member_id, now + timedelta(minutes=4))
            ride.drop_off(driver.member_id, now + timedelta(minutes=16), app.fares)
            driver.finish_ride(ride.id, dropoff)
            done.append(ride)
        touched = [loaded[drivers[j % len(drivers)]] for j in range(min(len(chunk), len(drivers)))]
        app.save(*done, *touched)
        clock.advance(timedelta(minutes=20))


# -- serving ----------------------------------------------------------------------------------
@contextlib.contextmanager
def serving(app: Any) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", log_config=None)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 600
    while not server.started:
        if time.monotonic() > deadline:
            raise TimeoutError("the gateway did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=60)


def timed(call: Callable[[], Any], n: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        call()
        out.append((time.perf_counter() - start) * 1000)
    return out


class Client:
    def __init__(self, base: str, key: Any) -> None:
        self.http = httpx.Client(base_url=base, timeout=60)
        self.key = key

    def token(self, member: str, *roles: str) -> str:
        return mint(Identity(member, "demo", frozenset({"member", *roles})), self.key)

    def q(self, query: str, token: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.http.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {token}"},
        )
        body: dict[str, Any] = response.json()
        if "errors" in body:
            raise RuntimeError(body["errors"])
        data: dict[str, Any] = body["data"]
        return data


REQUEST = """mutation R($i: RequestRideInput!) { requestRide(input: $i) {
  __typename ... on RideChanged { ride { id state } } ... on Problem { message } } }"""
CANCEL = """mutation C($id: ID!) { cancelRide(rideId: $id) { __typename } }"""
MY_RIDES = """{ myRides(first: 20) { ... on RideConnection { nodes { id state fare } } } }"""
TRIAL = """{ trialBalance(first: 50) { ... on TrialBalance { balanced entries
  accounts { nodes { account unit balance } } } } }"""
CREDITS = """{ myCredits(first: 20) { ... on Credits { earnings hoursDriving
  lines { nodes { memo credit } } } } }"""


def measure_gateway(settings: Settings, city: City, *, samples: int) -> dict[str, Any]:
    """The HTTP figures, with the real runtime (relays, consumers, runners) behind the gateway."""
    figures: dict[str, Any] = {}
    ready = threading.Event()
    holder: dict[str, Any] = {}

    def on_ready(runtime: Any) -> None:
        holder["runtime"] = runtime
        ready.set()

    watch = Stopwatch()
    with serving(create_app(settings, on_ready=on_ready)) as base:
        ready.wait(600)
        runtime = holder["runtime"]
        if not runtime.wait_until_idle(timeout_s=3600):
            raise TimeoutError("the runtime did not catch up with the loaded season")
        contributions: Contributions = runtime.apps["contributions"]
        # The consumer posts the season's history too: two entries per completed ride.
        expected = 2 * (PROBE_RIDES + city.rides)
        deadline = time.monotonic() + 3600
        while contributions.ledger()[0].entries() < expected:
            if time.monotonic() > deadline:
                raise TimeoutError("the ledger did not catch up with the loaded season")
            time.sleep(0.2)
        figures["catch_up_s"] = watch.seconds
        client = Client(base, with_keys(settings).jwt_secret)
        riders = city.riders or [new_member_id(DEMO) for _ in range(samples)]

        def request(i: int) -> None:
            token = client.token(riders[i % len(riders)])
            pickup = spot(i * 11)
            answer = client.q(
                REQUEST,
                token,
                {
                    "i": {
                        "pickup": {"lat": pickup.lat, "lon": pickup.lon},
                        "dropoff": {"lat": pickup.lat + 0.01, "lon": pickup.lon + 0.01},
                    }
                },
            )["requestRide"]
            if answer["__typename"] == "RideChanged":
                holder.setdefault("cancel", []).append((token, answer["ride"]["id"]))

        counter = iter(range(10**9))
        request_ms = timed(lambda: request(next(counter)), samples)
        for token, ride_id in holder.get("cancel", []):
            client.q(CANCEL, token, {"id": ride_id})
        figures["requestRide"] = request_ms
        probe = client.token(city.probe_rider)
        figures["myRides"] = timed(lambda: client.q(MY_RIDES, probe), samples)
        board = client.token(city.probe_rider, "board")
        figures["trialBalance"] = timed(lambda: client.q(TRIAL, board), samples)
        driver = client.token(city.drivers[0], "driver")
        figures["myCredits"] = timed(lambda: client.q(CREDITS, driver), samples)
        figures["ledger_entries"] = contributions.ledger()[0].entries()
        rides: Rides = runtime.apps["rides"]
        figures["list_ratio"] = list_ratio(client, probe, rides, city.probe_rider, samples * 2)
        figures["completion_to_ledger"] = completion_to_ledger(runtime, samples // 2)
    return figures


def list_ratio(client: Client, token: str, rides: Rides, rider: str, n: int) -> dict[str, float]:
    """The probe rider's first page through the gateway and through a bare Starlette endpoint
    reading the same table, same client, same run: requests per second, and their ratio."""
    model = rides.read_model(RideRecords)

    async def bare(request: Request) -> JSONResponse:
        page = model.of_rider(rider, page_request(20, None, arity=2))
        return JSONResponse(
            [
                {
                    "id": str(r.id),
                    "state": r.state.name,
                    "fare": str(r.fare.amount) if r.fare else None,
                }
                for r in page.items
            ]
        )

    with serving(Starlette(routes=[Route("/rides", bare)])) as base:
        plain = httpx.Client(base_url=base)
        watch = Stopwatch()
        for _ in range(n):
            plain.get("/rides").raise_for_status()
        bare_rps = n / watch.seconds
    watch = Stopwatch()
    for _ in range(n):
        client.q(MY_RIDES, token)
    gateway_rps = n / watch.seconds
    return {"gateway_rps": gateway_rps, "bare_rps": bare_rps, "ratio": gateway_rps / bare_rps}


def completion_to_ledger(runtime: Any, n: int) -> list[float]:
    """Drop-off to the fare's entry in the ledger's read model, one ride at a time."""
    rides: Rides = runtime.apps["rides"]
    contributions: Contributions = runtime.apps["contributions"]
    driver = new_member_id(DEMO)
    rides.register_driver(driver, seats=4, wheelchair_accessible=True, vehicle="probe")
    rides.go_on_duty(driver, lat=CENTRE[0] + 0.3, lon=CENTRE[1] + 0.3)  # far from the others
    out = []
    # The first ride is not counted: on Kafka it waits for the consumer group to form.
    for i in range(n + 1):
        ride = rides.request_ride(
            new_member_id(DEMO),
            pickup=Place(CENTRE[0] + 0.3, CENTRE[1] + 0.3 + 1e-4 * i),
            dropoff=Place(CENTRE[0] + 0.28, CENTRE[1] + 0.31),
            seats=1,
            wheelchair=True,
        )
        rides.run_batch()  # the matcher thread may have run it first: then this finds nothing
        rides.accept_ride(driver, ride)
        rides.mark_picked_up(driver, ride)
        ledger = contributions.read_model(contributions.read_models[0])
        before = ledger.view.count("lines", where={"member_id": driver})
        rides.mark_dropped_off(driver, ride)
        start = time.perf_counter()
        deadline = start + 60
        while ledger.view.count("lines", where={"member_id": driver}) <= before:
            if time.perf_counter() > deadline:
                raise TimeoutError("the fare never reached the ledger")
            time.sleep(0.0005)
        if i:
            out.append((time.perf_counter() - start) * 1000)
    # Off duty, so that the next measurement's probe (same far spot) is not beaten to its rides.
    rides.go_off_duty(driver)
    return out


# -- rebuild and layers -----------------------------------------------------------------------
def rebuild_rate(settings: Settings) -> float:
    app = Rides(settings)
    try:
        done = rebuild(app, app.read_model(RideRecords), batch_size=5000)
    finally:
        app.close()
    return done.events_per_second


class Bare(Application[Any]):
    """The eventsourcing library alone: the same aggregates, no read models, no dispatch; only
    the transcodings the rides events need (Money, Place, the state enums)."""

    def register_transcodings(self, transcoder: Any) -> None:
        super().register_transcodings(transcoder)
        for transcoding in KERNEL_TRANSCODINGS:
            transcoder.register(transcoding)
        transcoder.register(PlaceAsDict())
        transcoder.register(EnumAsValue(DriverStatus, "rides.DriverStatus"))
        transcoder.register(EnumAsValue(RideState, "rides.RideState"))


# The one driver of the layers loop serves every ride: keep them all within its pickup bound.
NEAR = 0.015


def layers_ratio(settings: Settings, n: int) -> dict[str, float]:
    """Rides per second through the four commands, against the library alone saving the same
    aggregates (same domain methods, one save per command) to the same kind of store."""
    clock = FixedClock()
    # Nearest-first: the same events as the library's loop below (a batch adds its own
    # aggregate and a solver run, which city_day.py measures).
    ours = Rides(
        settings.with_(
            schema_prefix=settings.schema_prefix + "_l", data_dir=settings.data_dir / "layers"
        ),
        clock=clock,
        city=city_with(matching={"policy": "nearest"}),
    )
    driver = new_member_id(DEMO)
    ours.register_driver(driver, seats=4, wheelchair_accessible=False, vehicle="car")
    ours.go_on_duty(driver, lat=CENTRE[0], lon=CENTRE[1])
    watch = Stopwatch()
    for i in range(n):
        ride = ours.request_ride(
            new_member_id(DEMO),
            pickup=spot(i, NEAR),
            dropoff=spot(i + 3, NEAR),
            seats=1,
            wheelchair=False,
        )
        ours.accept_ride(driver, ride)
        ours.mark_picked_up(driver, ride)
        clock.advance(timedelta(minutes=5))
        ours.mark_dropped_off(driver, ride)
    ours_rps = n / watch.seconds
    ours.close()
    env = dict(_library_env(settings))
    bare = Bare(env=env)
    fares = Rides(settings.with_(persistence="popo")).fares
    lonely = Driver(driver, 4, False, "car")
    lonely.go_on_duty(Place(*CENTRE))
    bare.save(lonely)
    watch = Stopwatch()
    for i in range(n):
        now = clock.now()
        ride_obj = Ride.request(
            rider_id="demo:x",
            pickup=spot(i, NEAR),
            dropoff=spot(i + 3, NEAR),
            seats=1,
            wheelchair=False,
            distance_km=Decimal("3.2"),
            quote=fares_quote(fares),
            now=now,
        )
        ride_obj.offer(driver, Decimal(3), "nearest")
        lonely.receive_offer(ride_obj.id)
        bare.save(ride_obj, lonely)
        ride_obj.accept(driver, now)
        lonely.start_ride(ride_obj.id)
        bare.save(ride_obj, lonely)
        ride_obj.pick_up(driver, now)
        bare.save(ride_obj)
        ride_obj.drop_off(driver, now + timedelta(minutes=5), fares)
        lonely.finish_ride(ride_obj.id, spot(i + 3, NEAR))
        bare.save(ride_obj, lonely)
        clock.advance(timedelta(minutes=5))
    bare_rps = n / watch.seconds
    bare.close()
    return {"ours_rps": ours_rps, "bare_rps": bare_rps, "overhead": bare_rps / ours_rps}


def fares_quote(fares: Any) -> Any:
    from services.rides.fares import price

    return price(fares, distance_km=Decimal("3.2"), minutes=Decimal("8.0")).total


def _library_env(settings: Settings) -> dict[str, str]:
    from kernel.eventstore import store_env

    env = store_env(
        settings.with_(
            schema_prefix=settings.schema_prefix + "_b", data_dir=settings.data_dir / "bare"
        ),
        "bare",
    )
    # The library's own application, with the kernel's transcodings (Money, Place, enums).
    return env


# -- the run ----------------------------------------------------------------------------------
def run_store(base: Settings, args: argparse.Namespace, bootstrap: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    sizes = {"empty": (0, 0), "season": (args.members, args.rides)}
    for label, (members, rides) in sizes.items():
        settings = base.with_(
            data_dir=base.data_dir / label, schema_prefix=f"{base.schema_prefix}_{label[0]}"
        )
        watch = Stopwatch()
        city = load(settings, drivers=args.drivers, members=members, rides=rides)
        figures: dict[str, Any] = {"load_s": watch.seconds, "rides": rides, "members": members}
        figures.update(measure_gateway(settings, city, samples=args.samples))
        figures["rebuild_events_per_s"] = rebuild_rate(settings)
        if bootstrap:
            kafka = settings.with_(
                bus="kafka", kafka_bootstrap=bootstrap, topic_prefix=f"{settings.schema_prefix}."
            )
            figures["kafka"] = measure_kafka(kafka, args.samples // 2)
        out[label] = figures
        print(
            f"  {label}: loaded in {figures['load_s']:.0f} s, "
            f"caught up in {figures['catch_up_s']:.0f} s",
            flush=True,
        )
    out["layers"] = layers_ratio(base.with_(data_dir=base.data_dir / "layers"), args.samples)
    return out


def measure_kafka(settings: Settings, n: int) -> list[float]:
    ready = threading.Event()
    holder: dict[str, Any] = {}

    def on_ready(runtime: Any) -> None:
        holder["runtime"] = runtime
        ready.set()

    with serving(create_app(settings, on_ready=on_ready)):
        ready.wait(600)
        runtime = holder["runtime"]
        runtime.wait_until_idle(timeout_s=3600)
        return completion_to_ledger(runtime, n)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--drivers", type=int, default=300)
    parser.add_argument("--members", type=int, default=50_000)
    parser.add_argument("--rides", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--postgres", help="DSN: also run on PostgreSQL")
    parser.add_argument("--tansu", action="store_true", help="completion to ledger over Kafka too")
    parser.add_argument(
        "--no-sqlite", action="store_true", help="only PostgreSQL (with --postgres)"
    )
    parser.add_argument("--name", default="city_scale", help="the JSON's name in bench/results")
    parser.add_argument(
        "--quick", action="store_true", help="2,000 members, 5,000 rides, 60 samples"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.members, args.rides, args.samples = 2000, 5000, 60
    prefix = f"city_{secrets.token_hex(3)}"
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        tansu = TansuBroker(Path(tmp)).start() if args.tansu else None
        try:
            keys = with_keys(Settings(persistence="popo"))
            common = Settings.from_env(
                {"MUNI_RATE_LIMITS": "off", "MUNI_LOG_LEVEL": "WARNING"}
            ).with_(
                jwt_secret=keys.jwt_secret,
                identifier_key=keys.identifier_key,
                schema_prefix=prefix,
                data_dir=Path(tmp),
            )
            stores = {} if args.no_sqlite else {"sqlite": common.with_(persistence="sqlite")}
            if args.postgres:
                stores["postgres"] = common.with_(
                    persistence="postgres", postgres=PostgresDsn.parse(args.postgres)
                )
            for name, settings in stores.items():
                print(f"{name}:", flush=True)
                results[name] = run_store(
                    settings.with_(data_dir=Path(tmp) / name),
                    args,
                    tansu.bootstrap if tansu else None,
                )
        finally:
            if tansu:
                tansu.stop()
    report(results, args)
    return 0


def report(results: dict[str, Any], args: argparse.Namespace) -> None:
    rows = []
    for store, r in results.items():
        for metric in (
            "requestRide",
            "myRides",
            "trialBalance",
            "myCredits",
            "completion_to_ledger",
        ):
            e, s = r["empty"][metric], r["season"][metric]
            rows.append(
                [
                    store,
                    metric,
                    f"{pct(e, 50):.1f} / {pct(e, 99):.1f}",
                    f"{pct(s, 50):.1f} / {pct(s, 99):.1f}",
                    f"{pct(s, 99) / pct(e, 99):.2f}",
                ]
            )
        if "kafka" in r["season"]:
            e, s = r["empty"]["kafka"], r["season"]["kafka"]
            rows.append(
                [
                    store,
                    "completion_to_ledger (Kafka)",
                    f"{pct(e, 50):.1f} / {pct(e, 99):.1f}",
                    f"{pct(s, 50):.1f} / {pct(s, 99):.1f}",
                    f"{pct(s, 99) / pct(e, 99):.2f}",
                ]
            )
        e, s = r["empty"]["rebuild_events_per_s"], r["season"]["rebuild_events_per_s"]
        rows.append(
            [store, "rebuild rides read model (events/s)", f"{e:,.0f}", f"{s:,.0f}", f"{e / s:.2f}"]
        )
        e, s = r["empty"]["list_ratio"], r["season"]["list_ratio"]
        rows.append(
            [
                store,
                "myRides gateway / bare Starlette",
                f"{e['ratio']:.2f}x ({e['gateway_rps']:.0f} / {e['bare_rps']:.0f} req/s)",
                f"{s['ratio']:.2f}x ({s['gateway_rps']:.0f} / {s['bare_rps']:.0f} req/s)",
                "",
            ]
        )
        lay = r["layers"]
        rows.append(
            [
                store,
                "rides/s: Muni's commands / library alone",
                "",
                f"{lay['ours_rps']:.0f} / {lay['bare_rps']:.0f} (overhead {lay['overhead']:.2f}x)",
                "",
            ]
        )
    print(
        f"\nCity scale: {args.drivers} drivers; season {args.members:,} members and "
        f"{args.rides:,} rides, against an empty city (p50 / p99 ms)\n"
    )
    print(markdown_table(["store", "figure", "empty city", "season", "season / empty (p99)"], rows))
    path = write_result(
        args.name,
        {
            "drivers": args.drivers,
            "members": args.members,
            "rides": args.rides,
            "samples": args.samples,
            "results": results,
        },
    )
    print(f"\nwrote {path}")


if __name__ == "__main__":
    raise SystemExit(main())
