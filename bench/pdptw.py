"""PDPTW benchmark: Li & Lim (2001) instances, ours vs a plain OR-Tools model.

    python -m bench.pdptw /work/shared/benchmarks/pdptw/li-lim-100 --time-limit 60

The best-known values are lexicographic (vehicles, then distance); both solvers get a fixed cost
per vehicle larger than any distance (see `matching.instances.lexicographic_fixed_cost`). Any
folder of Li & Lim format files works; best-known values come from the nearest bks.csv.
"""

from __future__ import annotations

import statistics
import sys
from typing import Any

from bench.baselines_routing import check, instance_run_args, plain_solve, seed_summaries
from bench.common import SHARED_BENCHMARKS, Stopwatch, markdown_table, write_result
from matching.instances import BestKnown, read_bks, read_lilim
from matching.routing import RoutingProblem, RoutingResult, solve

DEFAULT_FOLDER = SHARED_BENCHMARKS / "pdptw" / "li-lim-100"
QUICK_LIMIT = 5.0
QUICK_COUNT = 3


def _measure(
    problem: RoutingProblem, result: RoutingResult, bks: BestKnown | None
) -> dict[str, Any]:
    report = check(problem, result)
    complete = report.feasible and not report.unserved
    match = bool(
        bks and bks.vehicles is not None and complete and report.vehicles_used <= bks.vehicles
    )
    gap = 100.0 * (report.distance - bks.cost) / bks.cost if bks and match else None
    return {
        "status": result.status.value,
        "vehicles": report.vehicles_used,
        "distance": round(report.distance, 4),
        "served": len(report.served),
        "requests": len(problem.requests),
        "feasible": report.feasible,
        "violations": [v.detail for v in report.violations][:5],
        "complete": complete,
        "bks_vehicles_matched": match,
        "distance_gap_pct": None if gap is None else round(gap, 3),
        "seconds": round(result.wall_time, 2),
    }


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    gaps = [r["distance_gap_pct"] for r in rows if r["distance_gap_pct"] is not None]
    matched = sum(1 for r in rows if r["bks_vehicles_matched"])
    return {
        "instances": len(rows),
        "complete_and_feasible": sum(1 for r in rows if r["complete"]),
        "bks_vehicles_matched": matched,
        "bks_vehicles_matched_pct": round(100.0 * matched / len(rows), 1) if rows else None,
        "mean_distance_gap_pct_where_matched": round(statistics.mean(gaps), 3) if gaps else None,
        "max_distance_gap_pct_where_matched": round(max(gaps), 3) if gaps else None,
        "total_vehicles": sum(r["vehicles"] for r in rows),
    }


def _cells(m: dict[str, Any]) -> list[str]:
    gap = m["distance_gap_pct"]
    return [
        f"{m['vehicles']} / {m['distance']:.2f}",
        "-" if gap is None else f"{gap:.2f}%",
        f"{m['served']}/{m['requests']}",
        "yes" if m["feasible"] else "NO",
    ]


def main(argv: list[str] | None = None) -> int:
    args, files, limit = instance_run_args(
        argv,
        description=__doc__.splitlines()[0],
        folder=DEFAULT_FOLDER,
        time_limit=60.0,
        name="pdptw",
        quick_count=QUICK_COUNT,
        quick_limit=QUICK_LIMIT,
    )
    bks = read_bks(args.folder)
    clock = Stopwatch()
    ours: list[dict[str, Any]] = []
    base: list[dict[str, Any]] = []
    table: list[list[Any]] = []
    several = len(args.seeds) > 1
    for path in files:
        problem = read_lilim(path)
        best = bks.get(path.stem)
        plain = None if args.no_baseline else _measure(problem, plain_solve(problem, limit), best)
        if plain is not None:
            base.append({"instance": path.stem, **plain})
        for k, seed in enumerate(args.seeds):
            mine = _measure(problem, solve(problem, time_limit=limit, seed=seed), best)
            known = None if best is None else vars_of(best)
            ours.append({"instance": path.stem, "seed": seed, "bks": known, **mine})
            row: list[Any] = [
                path.stem,
                *([seed] if several else []),
                "-" if best is None else f"{best.vehicles} / {best.cost:.2f}",
                *_cells(mine),
            ]
            if plain is not None:  # the plain model has no seed: shown once per instance
                row += _cells(plain) if k == 0 else [""] * 4
            table.append(row)
            print(" | ".join(str(c) for c in row), file=sys.stderr, flush=True)
    headers = ["instance", *(["seed"] if several else []), "BKS veh / dist", "veh / dist"]
    headers += ["dist gap", "served", "feasible"]
    if not args.no_baseline:
        headers += ["plain veh / dist", "plain dist gap", "plain served", "plain feasible"]
    seeds_text = ", ".join(str(s) for s in args.seeds)
    print(f"PDPTW, {limit:g} s per instance, seed{'s' if several else ''} {seeds_text}\n")
    print(markdown_table(headers, table))
    summary = {"ours": seed_summaries(ours, args.seeds, _summary, "distance_gap_pct")}
    if base:
        summary["plain"] = _summary(base)
    print()
    for who, s in summary.items():
        print(f"- {who}: {s}")
    out = write_result(
        args.name,
        {
            "folder": str(args.folder),
            "time_limit_s": limit,
            "seeds": args.seeds,
            "wall_s": round(clock.seconds, 1),
            "summary": summary,
            "ours": ours,
            "plain": base,
        },
    )
    print(f"\nwritten {out}")
    return 0


def vars_of(best: BestKnown) -> dict[str, Any]:
    return {"vehicles": best.vehicles, "distance": best.cost}


if __name__ == "__main__":
    raise SystemExit(main())
