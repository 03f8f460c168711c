"""A simulated city day through the real rides service, embedded: batch matching against the
first-come nearest-driver dispatch, in the same run on the same day.

The day (seeded): requests arrive from 06:00 to 22:00 with a morning and an evening peak; drivers
work shifts (going on and off duty through the service); a share of riders cancel while they
wait, a share of offers are declined and a few are left to lapse. Everything goes through
`services.rides.application.Rides` (its aggregates, read models and the batch runner's
`run_batch`), on in-memory stores, with a FixedClock the simulation advances one batch window
at a time. Each policy replays the same requests, shifts and rider/driver choices.

Reported per policy: riders served, p50 / p95 wait for a driver (request to acceptance), empty
kilometres (driving to pickups), drivers' idle time (on duty and free), and the wall time.

    .venv/bin/python -m bench.city_day                     # 2,500 requests, 80 drivers
    .venv/bin/python -m bench.city_day --requests 500 --drivers 20   # a quick look
"""

from __future__ import annotations

import argparse
import heapq
import math
import random
import statistics
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bench.common import markdown_table, write_result
from kernel.config import Settings
from kernel.geo import Point, great_circle_km
from kernel.time import FixedClock
from services.rides.application import Rides
from services.rides.domain import Place, RidesError, RideState
from tests.support.rides import city_with

if TYPE_CHECKING:
    from uuid import UUID

CENTRE = (51.0543, 3.7174)
DAY = datetime(2026, 12, 1, tzinfo=UTC)
START_H, END_H = 6.0, 22.0


@dataclass(frozen=True)
class Trip:
    at_s: float  # seconds after midnight
    rider: str
    pickup: Place
    dropoff: Place
    patience_s: float  # cancels if not accepted by then (inf: never)


@dataclass(frozen=True)
class Shift:
    driver: str
    start_s: float
    end_s: float
    home: Place


@dataclass
class Scenario:
    trips: list[Trip]
    shifts: list[Shift]
    seed: int
    decline_share: float
    lapse_share: float


def _spot(rng: random.Random, spread_km: float) -> Place:
    r = spread_km * math.sqrt(rng.random())
    a = rng.random() * 2 * math.pi
    return Place(
        CENTRE[0] + r * math.cos(a) / 111.2,
        CENTRE[1] + r * math.sin(a) / (111.2 * math.cos(math.radians(CENTRE[0]))),
    )


def scenario(requests: int, drivers: int, seed: int) -> Scenario:
    rng = random.Random(seed)
    trips = []
    for i in range(requests):
        # A third around 08:00, a third around 17:30, a third spread over the day.
        kind = rng.random()
        if kind < 1 / 3:
            hour = rng.gauss(8.0, 0.75)
        elif kind < 2 / 3:
            hour = rng.gauss(17.5, 0.9)
        else:
            hour = rng.uniform(START_H, END_H)
        hour = min(max(hour, START_H), END_H - 0.5)
        pickup = _spot(rng, 6.0)
        dropoff = _spot(rng, 6.0)
        patience = rng.uniform(120, 600) if rng.random() < 0.08 else math.inf
        trips.append(Trip(hour * 3600, f"demo:rider-{i:05d}", pickup, dropoff, patience))
    trips.sort(key=lambda t: t.at_s)
    shifts = []
    for i in range(drivers):
        start = rng.choice([6.0, 7.0, 7.5, 10.0, 14.0, 15.5, 16.0]) + rng.uniform(0, 0.5)
        length = rng.uniform(6.0, 8.0)
        shifts.append(
            Shift(
                f"demo:driver-{i:04d}",
                start * 3600,
                min(start + length, END_H) * 3600,
                _spot(rng, 5.0),
            )
        )
    return Scenario(trips, shifts, seed, decline_share=0.1, lapse_share=0.03)


@dataclass
class Tally:
    waits_s: list[float] = field(default_factory=list)
    served: int = 0
    cancelled: int = 0
    unservable: int = 0
    refused: int = 0
    empty_km: float = 0.0
    idle_s: float = 0.0
    on_duty_s: float = 0.0
    declines: int = 0
    lapses: int = 0


def simulate(sc: Scenario, policy: str) -> dict[str, Any]:
    """One day under `policy` ("batch" or "nearest"), through the real service."""
    city = city_with(
        matching={"policy": policy},
        max_open_rides_per_member=2,
    )
    clock = FixedClock(DAY + timedelta(hours=START_H - 0.25))
    rides = Rides(Settings(persistence="popo"), clock=clock, city=city)
    rng = random.Random(sc.seed + 1)  # the riders' and drivers' choices: the same per policy
    speed_kmh = float(city.rides.average_speed_kmh)
    detour = float(city.rides.detour_factor)
    window = city.rides.matching.batch_window_seconds
    for s in sc.shifts:
        rides.register_driver(s.driver, seats=4, wheelchair_accessible=False, vehicle="car")

    events: list[tuple[float, int, str, Any]] = []
    seq = 0

    def at(t: float, kind: str, data: Any) -> None:
        nonlocal seq
        seq += 1
        heapq.heappush(events, (t, seq, kind, data))

    for trip in sc.trips:
        at(trip.at_s, "request", trip)
    for s in sc.shifts:
        at(s.start_s, "on", s)
        at(s.end_s, "off", s)

    tally = Tally()
    requested_at: dict[UUID, float] = {}
    waiting: dict[UUID, Trip] = {}  # requested, not yet accepted
    answered: set[tuple[UUID, str]] = set()  # offers the simulation has answered (or let lapse)
    duty: dict[str, float] = {}  # driver -> when their current free spell began
    on_duty: set[str] = set()
    leaving: set[str] = set()
    # Choices drawn once per (trip, driver) so both policies meet the same people.
    choice_of: dict[tuple[str, str], float] = {}

    def free(driver: str, now: float) -> None:
        duty[driver] = now

    def busy(driver: str, now: float) -> None:
        since = duty.pop(driver, None)
        if since is not None:
            tally.idle_s += now - since

    t = (START_H - 0.25) * 3600
    end = END_H * 3600 + 3 * 3600
    started = time.perf_counter()
    while t < end and (events or waiting):
        t += window
        clock.advance(timedelta(seconds=window))
        while events and events[0][0] <= t:
            _, _, kind, data = heapq.heappop(events)
            if kind == "request":
                try:
                    ride_id = rides.request_ride(
                        data.rider,
                        pickup=data.pickup,
                        dropoff=data.dropoff,
                        seats=1,
                        wheelchair=False,
                    )
                except RidesError:
                    tally.refused += 1
                    continue
                requested_at[ride_id] = t
                waiting[ride_id] = data
                if math.isfinite(data.patience_s):
                    at(t + data.patience_s, "give_up", ride_id)
            elif kind == "give_up":
                if data in waiting:
                    ride = rides.ride(data)
                    if ride.state in (RideState.WAITING, RideState.OFFERED):
                        driver = ride.driver_id
                        rides.cancel_ride(ride.rider_id, data, "")
                        tally.cancelled += 1
                        waiting.pop(data, None)
                        if driver is not None:
                            free(driver, t)
            elif kind == "on":
                rides.go_on_duty(data.driver, lat=data.home.lat, lon=data.home.lon)
                on_duty.add(data.driver)
                tally.on_duty_s -= t
                free(data.driver, t)
            elif kind == "off":
                leaving.add(data.driver)
            elif kind == "answer":
                ride_id, driver, accept = data
                ride = rides.ride(ride_id)
                if ride.state is not RideState.OFFERED or ride.driver_id != driver:
                    continue  # cancelled meanwhile
                if accept:
                    rides.accept_ride(driver, ride_id)
                    busy(driver, t)
                    tally.waits_s.append(t - requested_at[ride_id])
                    waiting.pop(ride_id, None)
                    here = rides.driver(driver).position
                    assert here is not None  # noqa: S101 (on duty: a position)
                    km = (
                        great_circle_km(
                            Point(here.lat, here.lon), Point(ride.pickup.lat, ride.pickup.lon)
                        )
                        * detour
                    )
                    tally.empty_km += km
                    at(t + km / speed_kmh * 3600 + 60, "pickup", (ride_id, driver))
                else:
                    rides.decline_ride(driver, ride_id, "")
                    tally.declines += 1
            elif kind == "pickup":
                ride_id, driver = data
                rides.mark_picked_up(driver, ride_id)
                ride = rides.ride(ride_id)
                at(t + float(ride.distance_km) / speed_kmh * 3600, "dropoff", data)
            elif kind == "dropoff":
                ride_id, driver = data
                rides.mark_dropped_off(driver, ride_id)
                tally.served += 1
                free(driver, t)
        # Let drivers at the end of their shift go once free.
        for driver in list(leaving):
            if rides.driver(driver).current_ride is None:
                rides.go_off_duty(driver)
                leaving.discard(driver)
                on_duty.discard(driver)
                busy(driver, t)
                tally.on_duty_s += t
        if not waiting:
            continue  # nothing waiting, no offer standing: the matcher's tick would do nothing
        rides.run_batch()  # the matcher's tick (lapses offers under both policies)
        # New offers: the simulated drivers answer after 5-20 s (or let a few lapse).
        for ride_id in list(waiting):
            ride = rides.ride(ride_id)
            if ride.state is RideState.UNSERVABLE:
                tally.unservable += 1
                waiting.pop(ride_id)
                continue
            if ride.state is RideState.OFFERED and ride.driver_id is not None:
                key = (ride_id, ride.driver_id)
                if key in answered:
                    continue
                answered.add(key)
                draw = choice_of.setdefault((waiting[ride_id].rider, ride.driver_id), rng.random())
                if draw < sc.lapse_share:
                    tally.lapses += 1
                    continue  # never answered: the offer lapses
                accept = draw >= sc.lapse_share + sc.decline_share
                at(t + rng.uniform(5, 20), "answer", (ride_id, ride.driver_id, accept))
    for driver in on_duty:
        busy(driver, t)
        tally.on_duty_s += t
    wall = time.perf_counter() - started
    waits = sorted(tally.waits_s)

    def pct(p: float) -> float:
        return waits[min(len(waits) - 1, int(p * len(waits)))] if waits else math.nan

    return {
        "policy": policy,
        "requests": len(sc.trips),
        "served": tally.served,
        "cancelled_by_riders": tally.cancelled,
        "unservable": tally.unservable,
        "refused": tally.refused,
        "declines": tally.declines,
        "lapsed_offers": tally.lapses,
        "wait_p50_s": round(pct(0.5), 1),
        "wait_p95_s": round(pct(0.95), 1),
        "wait_mean_s": round(statistics.fmean(waits), 1) if waits else None,
        "empty_km": round(tally.empty_km, 1),
        "empty_km_per_ride": round(tally.empty_km / max(tally.served, 1), 2),
        "idle_share": round(tally.idle_s / max(tally.on_duty_s, 1), 3),
        "idle_hours": round(tally.idle_s / 3600, 1),
        "wall_s": round(wall, 1),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2500)
    parser.add_argument("--drivers", type=int, default=80)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--policy",
        choices=("both", "batch", "nearest"),
        default="both",
        help="one policy alone (two processes side by side on the same seed replay the same day)",
    )
    args = parser.parse_args(argv)
    sc = scenario(args.requests, args.drivers, args.seed)
    policies = ("batch", "nearest") if args.policy == "both" else (args.policy,)
    results = [simulate(sc, policy) for policy in policies]
    headers = [
        "policy",
        "served",
        "cancelled",
        "unservable",
        "wait p50 s",
        "wait p95 s",
        "empty km/ride",
        "idle share",
        "wall s",
    ]
    rows = [
        [
            r["policy"],
            r["served"],
            r["cancelled_by_riders"],
            r["unservable"],
            r["wait_p50_s"],
            r["wait_p95_s"],
            r["empty_km_per_ride"],
            r["idle_share"],
            r["wall_s"],
        ]
        for r in results
    ]
    print(f"city day: {args.requests} requests, {args.drivers} drivers, seed {args.seed}")
    print(markdown_table(headers, rows))
    path = write_result(
        "city_day" if args.policy == "both" else f"city_day_{args.policy}",
        {"requests": args.requests, "drivers": args.drivers, "seed": args.seed, "runs": results},
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
