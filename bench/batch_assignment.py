"""Batch ride assignment vs first-come greedy, on generated city-sized batches.

A Ghent-sized box (about 11 x 11 km) with demand bunched around a few hot spots (station, centre,
hospital, campus) and drivers spread evenly; some wheelchair requests and vehicles, some riders who
need assistance, multi-seat requests. Travel is haversine with a 1.3 detour at 25 km/h. Greedy and
batch get the same precomputed matrix, so their times are solver times; the matrix time is shown
separately. Batches up to `exact_up_to_edges` eligible pairs are solved exactly; the "pruned"
column forces the nearest-candidates pruning used above that size on the same batch, to show what
it costs in time and pickup.

Run: python -m bench.batch_assignment [--quick] [--seed N] [--time-limit S]
"""

from __future__ import annotations

import argparse
import random
from dataclasses import dataclass
from typing import Any

from bench.common import Stopwatch, markdown_table, write_result
from matching.assignment import Driver, Request, assign, greedy_assign
from matching.travel import HaversineProvider

BOX = ((51.00, 3.65), (51.10, 3.81))  # (south, west), (north, east): about 11 x 11 km
HOT_SPOTS = ((51.036, 3.710), (51.054, 3.725), (51.024, 3.735), (51.047, 3.700))
MAX_PICKUP_S = 600.0
NOW_S = 400.0  # requests arrived during the last 400 s; some are past the 300 s overdue mark


@dataclass(frozen=True)
class Scenario:
    name: str
    requests: int
    drivers: int


QUICK = (
    Scenario("small", 100, 200),
    Scenario("medium", 300, 600),
    Scenario("city", 1000, 2000),
    Scenario("scarce", 1000, 700),
)
FULL = (*QUICK, Scenario("large", 2000, 4000))


def generate(scenario: Scenario, seed: int) -> tuple[list[Request], list[Driver]]:
    """Requests bunched around hot spots, drivers spread evenly; the same seed, the same batch."""
    rng = random.Random(f"{scenario.name}:{seed}")
    (south, west), (north, east) = BOX

    def anywhere() -> tuple[float, float]:
        return (rng.uniform(south, north), rng.uniform(west, east))

    def near_hot_spot() -> tuple[float, float]:
        lat, lon = rng.choice(HOT_SPOTS)
        # about 800 m spread; clamp to the box
        return (
            min(max(rng.gauss(lat, 0.007), south), north),
            min(max(rng.gauss(lon, 0.011), west), east),
        )

    requests = [
        Request(
            id=f"r{i}",
            pickup=near_hot_spot() if rng.random() < 0.6 else anywhere(),
            seats=rng.choices([1, 2, 3, 4], weights=[70, 20, 7, 3])[0],
            wheelchair=rng.random() < 0.04,
            assistance=rng.random() < 0.05,
            waiting_since_s=rng.uniform(0.0, NOW_S),
        )
        for i in range(scenario.requests)
    ]
    drivers = [
        Driver(
            id=f"d{j}",
            position=anywhere(),
            free_seats=rng.choices([1, 2, 3, 4, 6], weights=[10, 15, 30, 35, 10])[0],
            wheelchair=rng.random() < 0.03,
            assistance=rng.random() < 0.25,
        )
        for j in range(scenario.drivers)
    ]
    return requests, drivers


def run(scenario: Scenario, seed: int, time_limit_s: float) -> dict[str, Any]:
    requests, drivers = generate(scenario, seed)
    clock = Stopwatch()
    matrix = HaversineProvider(detour_factor=1.3, speed_kmh=25.0).matrix(
        [d.position for d in drivers], [r.pickup for r in requests]
    )
    matrix_s = clock.seconds
    greedy = greedy_assign(requests, drivers, travel=matrix, max_pickup_s=MAX_PICKUP_S)
    clock = Stopwatch()
    batch = assign(
        requests,
        drivers,
        travel=matrix,
        max_pickup_s=MAX_PICKUP_S,
        now_s=NOW_S,
        time_limit_s=time_limit_s,
        seed=seed,
    )
    batch_s = clock.seconds
    pruned = assign(
        requests,
        drivers,
        travel=matrix,
        max_pickup_s=MAX_PICKUP_S,
        now_s=NOW_S,
        exact_up_to_edges=0,
        time_limit_s=time_limit_s,
        seed=seed,
    )
    overdue = {r.id for r in requests if NOW_S - r.waiting_since_s >= 300.0}
    return {
        "scenario": scenario.name,
        "requests": scenario.requests,
        "drivers": scenario.drivers,
        "matrix_s": matrix_s,
        "greedy_s": greedy.solve_seconds,
        "batch_s": batch_s,
        "pruned_s": pruned.solve_seconds,
        "pruned_status": pruned.status.value,
        "pruned_candidate_edges": pruned.candidate_edges,
        "status": batch.status.value,
        "candidate_edges": batch.candidate_edges,
        "eligible_edges": batch.eligible_edges,
        "served_greedy": greedy.assigned_count,
        "served_batch": batch.assigned_count,
        "served_pruned": pruned.assigned_count,
        "overdue_unserved_greedy": sum(u.request_id in overdue for u in greedy.unassigned),
        "overdue_unserved_batch": sum(u.request_id in overdue for u in batch.unassigned),
        "pickup_total_greedy_s": greedy.total_pickup_s,
        "pickup_total_batch_s": batch.total_pickup_s,
        "pickup_total_pruned_s": pruned.total_pickup_s,
        "pickup_mean_greedy_s": _mean(greedy.total_pickup_s, greedy.assigned_count),
        "pickup_mean_batch_s": _mean(batch.total_pickup_s, batch.assigned_count),
    }


def _mean(total: float, count: int) -> float:
    return total / count if count else 0.0


def _percent_cut(before: float, after: float) -> float:
    return 100.0 * (before - after) / before if before else 0.0


def table(rows: list[dict[str, Any]]) -> str:
    headers = [
        "scenario",
        "requests x drivers",
        "matrix s",
        "greedy s",
        "batch s",
        "status",
        "served greedy / batch",
        "mean pickup greedy / batch (s)",
        "batch better by",
        "pruned: s, served, total pickup vs batch",
    ]
    body = []
    for row in rows:
        served = row["served_batch"] - row["served_greedy"]
        cut = _percent_cut(row["pickup_mean_greedy_s"], row["pickup_mean_batch_s"])
        better = f"{cut:.1f}% shorter mean pickup" + (f", +{served} served" if served else "")
        extra = -_percent_cut(row["pickup_total_batch_s"], row["pickup_total_pruned_s"])
        body.append(
            [
                row["scenario"],
                f"{row['requests']} x {row['drivers']}",
                row["matrix_s"],
                row["greedy_s"],
                row["batch_s"],
                row["status"],
                f"{row['served_greedy']} / {row['served_batch']}",
                f"{row['pickup_mean_greedy_s']:.1f} / {row['pickup_mean_batch_s']:.1f}",
                better,
                f"{row['pruned_s']:.3f}, {row['served_pruned']}, {round(extra, 1) + 0.0:+.1f}%",
            ]
        )
    return markdown_table(headers, body)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="skip the 2,000 x 4,000 batch")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--time-limit", type=float, default=1.0, help="solver limit, seconds")
    args = parser.parse_args(argv)

    scenarios = QUICK if args.quick else FULL
    rows = [run(s, args.seed, args.time_limit) for s in scenarios]
    print("## Batch ride assignment vs first-come greedy\n")
    print(table(rows))
    city = next(r for r in rows if r["scenario"] == "city")
    print(
        f"\n1,000 requests x 2,000 drivers: batch solved in {city['batch_s']:.3f} s "
        f"(target <= 1 s), total pickup {city['pickup_total_batch_s'] / 60:.0f} min vs "
        f"greedy {city['pickup_total_greedy_s'] / 60:.0f} min "
        f"({_percent_cut(city['pickup_total_greedy_s'], city['pickup_total_batch_s']):.1f}% "
        f"less), served {city['served_batch']} vs {city['served_greedy']}."
    )
    path = write_result(
        "batch_assignment",
        {
            "seed": args.seed,
            "quick": args.quick,
            "time_limit_s": args.time_limit,
            "max_pickup_s": MAX_PICKUP_S,
            "rows": rows,
        },
    )
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
