"""A rural day: one 7-seat van, bookings made over the previous days and more on the day.

    python -m bench.rural_day --seeds 0 1 2 --time-limit 30

Runs through the real rides application (embedded, in-memory store, the demo city's
`[rides.scheduled]` policy and van): 25-40 riders book a 30-minute pickup window over the six
days before (homes scattered over a rural area around the village depot, trips to the clinic,
the shop, the market town), then on the day 5 more book and 2 cancel. A booking that does not fit
is refused with the nearest windows; the rider takes the first one offered (as a rider on the
phone would), or goes without if none is offered. Reported: every booking inside its promised
window (the route checker, on the final plan, against the windows promised), the time of each
re-plan (book, cancel: the whole command), and the van's kilometres against planning the same
final bookings all at once from nothing with the full time limit.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from bench.common import Stopwatch, markdown_table, write_result
from kernel.cities import CityConfig, load_city
from kernel.config import Settings
from kernel.time import FixedClock
from services.rides.application import Rides
from services.rides.scheduling.domain import BookingDoesNotFit, BookingState, ServiceDay
from services.rides.scheduling.model import Plan

# The demo van's depot is the village; destinations a few to 15 km away.
VILLAGE = (51.0543, 3.7174)
PLACES = {"clinic": (51.0800, 3.7500), "shop": (51.0550, 3.7250), "town": (51.0950, 3.6800)}
DAY = datetime(2026, 12, 8, tzinfo=UTC).date()


def rural_city() -> CityConfig:
    """The demo city with its scheduled service set for open country: the van averages
    50 km/h on rural roads (the city's 30 km/h is for town traffic)."""
    city = load_city("demo")
    scheduled = city.rides.scheduled.model_copy(update={"average_speed_kmh": Decimal(50)})
    return city.model_copy(update={"rides": city.rides.model_copy(update={"scheduled": scheduled})})


@dataclass
class Outcome:
    asked: int = 0
    in_own_window: int = 0
    in_nearest_window: int = 0
    refused: int = 0


def _home(rng: random.Random) -> tuple[float, float]:
    # Scattered farms: up to ~8 km from the village in any direction.
    r, a = 0.07 * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
    return VILLAGE[0] + r * math.sin(a), VILLAGE[1] + 1.6 * r * math.cos(a)


def _local(rides: Rides, hour: float) -> datetime:
    return rides.clockwork.at(DAY, hour * 60)


def _book(
    rides: Rides, rng: random.Random, who: str, out: Outcome, times: list[float]
) -> str | None:
    out.asked += 1
    home, there = _home(rng), PLACES[rng.choice(list(PLACES))]
    going = rng.random() < 0.6
    pickup, dropoff = (home, there) if going else (there, home)
    hour = rng.uniform(8.0, 11.5) if going else rng.uniform(12.0, 16.5)
    start = _local(rides, round(hour * 4) / 4)
    seats = rng.choices([1, 2, 3], weights=[6, 3, 1])[0]
    chair = rng.random() < 0.08
    for attempt in (start, None):
        if attempt is None:
            return None
        watch = Stopwatch()
        try:
            ride = rides.book_scheduled_ride(
                who,
                pickup=pickup,
                dropoff=dropoff,
                window_start=attempt,
                window_end=attempt + timedelta(minutes=30),
                seats=seats,
                wheelchair=chair,
            )
        except BookingDoesNotFit as refused:
            times.append(watch.seconds)
            if not refused.nearest:
                out.refused += 1
                return None
            start = refused.nearest[0][0]
            watch = Stopwatch()
            try:
                ride = rides.book_scheduled_ride(
                    who,
                    pickup=pickup,
                    dropoff=dropoff,
                    window_start=start,
                    window_end=start + timedelta(minutes=30),
                    seats=seats,
                    wheelchair=chair,
                )
            except BookingDoesNotFit:
                times.append(watch.seconds)
                out.refused += 1
                return None
            times.append(watch.seconds)
            out.in_nearest_window += 1
            return str(ride)
        times.append(watch.seconds)
        out.in_own_window += 1
        return str(ride)
    return None


def run_seed(seed: int, *, time_limit: float) -> dict[str, Any]:
    rng = random.Random(seed)
    clock = FixedClock(datetime(2026, 12, 1, 7, 0, tzinfo=UTC))
    rides = Rides(Settings(persistence="popo"), clock=clock, city=rural_city())
    ahead = rng.randint(25, 40)
    out, times, cancel_times = Outcome(), list[float](), list[float]()
    booked: list[str] = []
    for k in range(ahead):
        # Spread over the six days before; the clock moves on between bookings.
        clock.advance(timedelta(hours=6 * 24 / ahead))
        if (made := _book(rides, rng, f"m-{seed}-{k}", out, times)) is not None:
            booked.append(made)
    ahead_out = Outcome(**vars(out))
    # On the day, from 06:00 local: five more book and two cancel.
    clock._now = _local(rides, 6.0)
    on_day = Outcome()
    for k in range(5):
        if (made := _book(rides, rng, f"m-{seed}-day-{k}", on_day, times)) is not None:
            booked.append(made)
    for ride_id in rng.sample(booked, 2):
        gone = rides.scheduled_ride(UUID(ride_id))
        watch = Stopwatch()
        rides.cancel_scheduled_ride(gone.rider_id, gone.id)
        cancel_times.append(watch.seconds)

    day = rides.service_day(DAY)
    if day is None:
        raise SystemExit(f"seed {seed}: nobody booked")
    bookings = day.booked()
    planner = rides.planner(DAY)
    stops = day.plan()
    final = Plan(stops, 0.0, 0.0, "adopted", "", 0.0, 0.0, 0)
    violations = planner.violations(bookings, final)
    # The windows promised at booking time, from the rides themselves (not the day's copy).
    outside = 0
    for b in bookings:
        kept = rides.scheduled_ride(UUID(b.ride_id))
        if kept.state is not BookingState.BOOKED:
            raise SystemExit(f"seed {seed}: the day plans a cancelled ride {kept.id}")
        _, pickup_at = rides.planned(kept)
        if pickup_at is None or not (
            kept.window_start - timedelta(seconds=1)
            <= pickup_at
            <= kept.window_end + timedelta(seconds=1)
        ):
            outside += 1
    decisions = [e for e in rides.events.get(day.id) if isinstance(e, ServiceDay.Replanned)]
    incremental_km = decisions[-1].objective["km"]
    methods = dict(Counter(d.solver["method"] for d in decisions))
    all_at_once = planner.solve_all(bookings, time_limit=time_limit)
    once_km = all_at_once.km if all_at_once is not None else None
    once_violations = (
        planner.violations(bookings, all_at_once) if all_at_once is not None else ["no plan"]
    )
    once_ok = not once_violations
    every = times + cancel_times
    return {
        "seed": seed,
        "asked_before": ahead,
        "before": vars(ahead_out),
        "on_the_day": vars(on_day),
        "cancelled_on_the_day": 2,
        "served": len(bookings),
        "changes": len(every),
        "replan_s": {
            "p50": round(statistics.median(every), 3),
            "p95": round(sorted(every)[max(0, math.ceil(0.95 * len(every)) - 1)], 3),
            "max": round(max(every), 3),
        },
        "checker_violations": violations,
        "outside_window": outside,
        "incremental_km": round(incremental_km, 2),
        "all_at_once_km": None if once_km is None else round(once_km, 2),
        "all_at_once_feasible": once_ok,
        "all_at_once_violations": once_violations[:10],
        "km_ratio": None if once_km is None else round(incremental_km / once_km, 3),
        "time_limit_s": time_limit,
        "replan_limit_s": float(rides.scheduled.replan_seconds),
        "decision_methods": methods,
    }


def _once(run: dict[str, Any]) -> str:
    if run["all_at_once_km"] is None:
        return "no complete plan in the time"
    if not run["all_at_once_feasible"]:
        return f"{run['all_at_once_km']} (fails checks)"
    return str(run["all_at_once_km"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--time-limit", type=float, default=30.0)
    args = parser.parse_args(argv)
    runs = [run_seed(seed, time_limit=args.time_limit) for seed in args.seeds]
    headers = [
        "seed",
        "asked (before + day)",
        "own window",
        "nearest window",
        "refused",
        "served",
        "inside window (checker)",
        "re-plan p50 / p95 / max s",
        "km incremental",
        f"km all at once ({args.time_limit:g} s)",
        "ratio",
    ]
    rows = []
    for r in runs:
        b, d = r["before"], r["on_the_day"]
        rows.append(
            [
                r["seed"],
                f"{b['asked']} + {d['asked']}",
                b["in_own_window"] + d["in_own_window"],
                b["in_nearest_window"] + d["in_nearest_window"],
                b["refused"] + d["refused"],
                r["served"],
                "all"
                if not r["checker_violations"] and not r["outside_window"]
                else f"{len(r['checker_violations'])} violations, {r['outside_window']} outside",
                f"{r['replan_s']['p50']} / {r['replan_s']['p95']} / {r['replan_s']['max']}",
                r["incremental_km"],
                _once(r),
                r["km_ratio"],
            ]
        )
    print(markdown_table(headers, rows))
    path = write_result("rural_day", {"time_limit_s": args.time_limit, "runs": runs})
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
