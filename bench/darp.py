"""Dial-a-ride benchmark: Cordeau (2006) instances, ours vs a plain OR-Tools model.

    python -m bench.darp /work/shared/benchmarks/darp/cordeau-2006 --time-limit 30

Any folder of files in the Cordeau format works; best-known costs come from the nearest bks.csv
in the folder or above it. Prints a Markdown table and writes bench/results/<name>.json.
"""

from __future__ import annotations

import statistics
import sys
from typing import Any

from bench.baselines_routing import check, instance_run_args, plain_solve, seed_summaries
from bench.common import SHARED_BENCHMARKS, Stopwatch, markdown_table, write_result
from matching.instances import read_bks, read_cordeau
from matching.routing import RoutingProblem, RoutingResult, solve

DEFAULT_FOLDER = SHARED_BENCHMARKS / "darp" / "cordeau-2006"
QUICK_LIMIT = 3.0
QUICK_COUNT = 3


def _measure(problem: RoutingProblem, result: RoutingResult, bks: float | None) -> dict[str, Any]:
    report = check(problem, result)
    complete = report.feasible and not report.unserved
    gap = 100.0 * (report.cost - bks) / bks if bks and complete else None
    return {
        "status": result.status.value,
        "cost": round(report.cost, 4),
        "served": len(report.served),
        "requests": len(problem.requests),
        "vehicles": report.vehicles_used,
        "feasible": report.feasible,
        "violations": [v.detail for v in report.violations][:5],
        "complete": complete,
        "gap_pct": None if gap is None else round(gap, 3),
        "seconds": round(result.wall_time, 2),
    }


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    gaps = [r["gap_pct"] for r in rows if r["gap_pct"] is not None]
    return {
        "instances": len(rows),
        "complete_and_feasible": sum(1 for r in rows if r["complete"]),
        "mean_gap_pct": round(statistics.mean(gaps), 3) if gaps else None,
        "max_gap_pct": round(max(gaps), 3) if gaps else None,
    }


def _fmt_gap(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}%"


def _cells(m: dict[str, Any]) -> list[str]:
    return [
        f"{m['cost']:.3f}",
        _fmt_gap(m["gap_pct"]),
        f"{m['served']}/{m['requests']}",
        "yes" if m["feasible"] else "NO",
    ]


def main(argv: list[str] | None = None) -> int:
    args, files, limit = instance_run_args(
        argv,
        description=__doc__.splitlines()[0],
        folder=DEFAULT_FOLDER,
        time_limit=30.0,
        name="darp",
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
        problem = read_cordeau(path)
        best = bks[path.stem].cost if path.stem in bks else None
        plain = None if args.no_baseline else _measure(problem, plain_solve(problem, limit), best)
        if plain is not None:
            base.append({"instance": path.stem, "bks": best, **plain})
        for k, seed in enumerate(args.seeds):
            mine = _measure(problem, solve(problem, time_limit=limit, seed=seed), best)
            ours.append({"instance": path.stem, "seed": seed, "bks": best, **mine})
            row: list[Any] = [path.stem, *([seed] if several else [])]
            row += ["-" if best is None else f"{best:.3f}", *_cells(mine)]
            if plain is not None:  # the plain model has no seed: shown once per instance
                row += _cells(plain) if k == 0 else [""] * 4
            table.append(row)
            print(" | ".join(str(c) for c in row), file=sys.stderr, flush=True)
    headers = ["instance", *(["seed"] if several else []), "BKS"]
    headers += ["cost", "gap", "served", "feasible"]
    if not args.no_baseline:
        headers += ["plain cost", "plain gap", "plain served", "plain feasible"]
    seeds_text = ", ".join(str(s) for s in args.seeds)
    print(f"DARP, {limit:g} s per instance, seed{'s' if several else ''} {seeds_text}\n")
    print(markdown_table(headers, table))
    summary = {"ours": seed_summaries(ours, args.seeds, _summary, "gap_pct")}
    if base:
        summary["plain"] = _summary(base)
        plain_of = {b["instance"]: b for b in base}
        paired = [
            (o["cost"], plain_of[o["instance"]]["cost"])
            for o in ours
            if o["complete"] and plain_of[o["instance"]]["complete"]
        ]
        if paired:
            summary["plain_over_ours_cost_ratio"] = round(
                statistics.mean(b / o for o, b in paired), 4
            )
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


if __name__ == "__main__":
    raise SystemExit(main())
