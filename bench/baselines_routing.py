"""The plain OR-Tools model the routing benchmarks compare against, and shared bench helpers.

`plain_solve` is what a user writes in an afternoon from the OR-Tools pickup-and-delivery and
time-window samples: Python transit callbacks, PARALLEL_CHEAPEST_INSERTION (the OR-Tools
pickup-and-delivery sample's choice), default local search (no metaheuristic), pickup/delivery
pairs, a time dimension with windows, ride times as cumul-var constraints, the vehicle's fixed
cost, requests droppable at a large penalty (without it the plain model finds no first plan on
tight instances). One honesty fix so its answers can be checked like ours: travel times are
scaled x100 and rounded UP (plain rounding can make a plan infeasible in real arithmetic).
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from matching.route_check import CheckReport, check_routes
from matching.routing import Route, RoutingProblem, RoutingResult, SolveStatus, Unserved, Visit

if TYPE_CHECKING:
    from collections.abc import Callable

    from matching.routing.problem import VisitKind

SCALE = 100


def plain_solve(problem: RoutingProblem, time_limit: float) -> RoutingResult:
    """Solve with the plain model, requests droppable at a large penalty (else it often finds no
    first plan at all on tight instances)."""
    clock = time.perf_counter()
    result = _plain(problem, time_limit, allow_drop=True)
    wall = time.perf_counter() - clock
    if result is None:
        unserved = tuple(Unserved(r.id, "baseline found no plan") for r in problem.requests)
        return RoutingResult(SolveStatus.TIMED_OUT, (), 0.0, 0.0, 0, unserved, "", wall)
    return replace(result, wall_time=wall)


def _plain(problem: RoutingProblem, time_limit: float, *, allow_drop: bool) -> RoutingResult | None:
    # data
    ids = sorted({v.start for v in problem.vehicles} | {v.end for v in problem.vehicles})
    ids += [i for r in problem.requests for i in (r.pickup, r.dropoff)]
    pos = {node_id: k for k, node_id in enumerate(ids)}
    nodes = [problem.node(i) for i in ids]
    starts = [pos[v.start] for v in problem.vehicles]
    ends = [pos[v.end] for v in problem.vehicles]
    horizon = int(max(min(n.latest, 10**6) for n in nodes) * SCALE) + 1
    demand = [0] * len(ids)
    for r in problem.requests:
        demand[pos[r.pickup]], demand[pos[r.dropoff]] = r.load, -r.load

    # model
    manager = pywrapcp.RoutingIndexManager(len(ids), len(problem.vehicles), starts, ends)
    routing = pywrapcp.RoutingModel(manager)

    def distance_cb(i: int, j: int) -> int:
        a, b = ids[manager.IndexToNode(i)], ids[manager.IndexToNode(j)]
        return round(problem.travel(a, b) * SCALE)

    def time_cb(i: int, j: int) -> int:
        a, b = ids[manager.IndexToNode(i)], ids[manager.IndexToNode(j)]
        return math.ceil((problem.node(a).service + problem.travel(a, b)) * SCALE - 1e-7)

    def demand_cb(i: int) -> int:
        return int(demand[manager.IndexToNode(i)])

    routing.SetArcCostEvaluatorOfAllVehicles(routing.RegisterTransitCallback(distance_cb))
    routing.AddDimension(routing.RegisterTransitCallback(time_cb), horizon, horizon, False, "time")
    time_dim = routing.GetDimensionOrDie("time")
    routing.AddDimensionWithVehicleCapacity(
        routing.RegisterUnaryTransitCallback(demand_cb),
        0,
        [v.capacity for v in problem.vehicles],
        True,
        "load",
    )
    # constraints
    for k, node in enumerate(nodes):
        hi = min(math.floor(min(node.latest, 10**6) * SCALE), horizon)
        lo = math.ceil(node.earliest * SCALE)
        if k in starts or k in ends:
            continue
        time_dim.CumulVar(manager.NodeToIndex(k)).SetRange(lo, hi)
    for v, vehicle in enumerate(problem.vehicles):
        for index, node_id in ((routing.Start(v), vehicle.start), (routing.End(v), vehicle.end)):
            n = problem.node(node_id)
            hi = min(math.floor(min(n.latest, 10**6) * SCALE), horizon)
            time_dim.CumulVar(index).SetRange(math.ceil(n.earliest * SCALE), hi)
        if vehicle.max_duration is not None:
            time_dim.SetSpanUpperBoundForVehicle(math.floor(vehicle.max_duration * SCALE), v)
        routing.SetFixedCostOfVehicle(round(vehicle.fixed_cost * SCALE), v)
    solver = routing.solver()
    for r in problem.requests:
        p, d = manager.NodeToIndex(pos[r.pickup]), manager.NodeToIndex(pos[r.dropoff])
        routing.AddPickupAndDelivery(p, d)
        solver.Add(routing.VehicleVar(p) == routing.VehicleVar(d))
        solver.Add(routing.ActiveVar(p) == routing.ActiveVar(d))
        solver.Add(time_dim.CumulVar(p) <= time_dim.CumulVar(d))
        if r.max_ride_time is not None:
            limit = math.floor((r.max_ride_time + problem.node(r.pickup).service) * SCALE)
            # Written unconditionally the plain model finds no plan at all (measured on a2-16);
            # relaxed for a dropped pair it works, so the baseline gets that much help.
            relax = solver.IntConst(horizon) * (1 - routing.ActiveVar(p))
            solver.Add(time_dim.CumulVar(d) - time_dim.CumulVar(p) <= limit + relax)
        if allow_drop:
            routing.AddDisjunction([p], 10**9)
            routing.AddDisjunction([d], 10**9)
    # search
    params = pywrapcp.DefaultRoutingSearchParameters()
    # The OR-Tools pickup-and-delivery sample's choice. PATH_CHEAPEST_ARC (the brief's first
    # idea) served no request at all on a2-16 in 3 s with this model, so it would measure nothing.
    params.first_solution_strategy = (
        routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
    )
    params.time_limit.FromMilliseconds(int(time_limit * 1000))
    solution = routing.SolveWithParameters(params)
    if solution is None:
        return None
    # interpret
    routes: list[Route] = []
    served: set[int] = set()
    for v, vehicle in enumerate(problem.vehicles):
        index = routing.Start(v)
        if routing.IsEnd(solution.Value(routing.NextVar(index))):
            continue
        visits: list[Visit] = []
        load, dist, prev = 0, 0.0, None
        while True:
            node_id = ids[manager.IndexToNode(index)]
            start = solution.Min(time_dim.CumulVar(index)) / SCALE
            kind: VisitKind = "start" if prev is None else "end"
            rid = None
            if not routing.IsStart(index) and not routing.IsEnd(index):
                served.add(node_id)
                req = next(r for r in problem.requests if node_id in (r.pickup, r.dropoff))
                kind, rid = ("pickup", req.id) if req.pickup == node_id else ("dropoff", req.id)
                load += req.load if kind == "pickup" else -req.load
            if prev is not None:
                dist += problem.travel(prev, node_id)
            visits.append(Visit(node_id, kind, rid, start, start, load))
            if routing.IsEnd(index):
                break
            prev, index = node_id, solution.Value(routing.NextVar(index))
        routes.append(Route(vehicle.id, tuple(visits), dist))
    unserved = tuple(
        Unserved(r.id, "dropped by the baseline")
        for r in problem.requests
        if r.pickup not in served
    )
    distance = sum(r.distance for r in routes)
    fixed = {v.id: v.fixed_cost for v in problem.vehicles}
    cost = distance + sum(fixed[r.vehicle] for r in routes)
    return RoutingResult(
        SolveStatus.TIMED_OUT, tuple(routes), cost, distance, len(routes), unserved
    )


def check(problem: RoutingProblem, result: RoutingResult) -> CheckReport:
    """The independent checker's verdict, allowing unserved requests (they are counted apart)."""
    return check_routes(
        problem,
        result.routes,
        reported_unserved=[u.request for u in result.unserved],
        allow_unserved=True,
    )


def instance_run_args(
    argv: list[str] | None,
    *,
    description: str,
    folder: Path,
    time_limit: float,
    name: str,
    quick_count: int,
    quick_limit: float,
) -> tuple[argparse.Namespace, list[Path], float]:
    """The command line every routing benchmark takes, and the instance files and limit it
    chose: a folder of instance files (`*.txt`), `--only`, `--quick` (the first few at a short
    limit) and `--seeds` (each instance solved once per seed; `args.seeds` is always the list,
    `[--seed]` when not given)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("folder", nargs="?", type=Path, default=folder)
    parser.add_argument("--time-limit", type=float, default=time_limit, help="seconds per instance")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--seeds",
        type=_seed_list,
        default=None,
        help="comma-separated seeds, e.g. 0,1,2: every instance once per seed (overrides --seed);"
        " the summary then gives each seed's figures and the worst over all",
    )
    parser.add_argument(
        "--quick", action="store_true", help=f"{quick_count} instances, short limit"
    )
    parser.add_argument("--only", default="", help="comma-separated instance names")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--name", default=name, help="results file name")
    args = parser.parse_args(argv)
    if args.seeds is None:
        args.seeds = [args.seed]
    files = sorted(args.folder.glob("*.txt"))
    if args.only:
        wanted = set(args.only.split(","))
        files = [f for f in files if f.stem in wanted]
    limit = args.time_limit
    if args.quick:
        files, limit = files[:quick_count], min(limit, quick_limit)
    return args, files, limit


def _seed_list(text: str) -> list[int]:
    try:
        seeds = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--seeds {text!r}: comma-separated integers") from None
    if not seeds or len(set(seeds)) != len(seeds):
        raise argparse.ArgumentTypeError(f"--seeds {text!r}: at least one seed, none twice")
    return seeds


def seed_summaries(
    rows: list[dict[str, Any]],
    seeds: list[int],
    summarise: Callable[[list[dict[str, Any]]], dict[str, Any]],
    gap_key: str,
) -> dict[str, Any]:
    """`summarise` over each seed's rows (keys `seed_<n>`) and, with several seeds, the worst and
    mean gap over every run and the instances complete at every seed (key `over_seeds`). With
    one seed, just that seed's summary."""
    if len(seeds) == 1:
        return summarise(rows)
    out: dict[str, Any] = {
        f"seed_{s}": summarise([r for r in rows if r["seed"] == s]) for s in seeds
    }
    gaps = [r[gap_key] for r in rows if r[gap_key] is not None]
    instances = {r["instance"] for r in rows}
    out["over_seeds"] = {
        "runs": len(rows),
        "complete_at_every_seed": sum(
            1 for i in instances if all(r["complete"] for r in rows if r["instance"] == i)
        ),
        "instances": len(instances),
        "mean_gap_pct": round(statistics.mean(gaps), 3) if gaps else None,
        "max_gap_pct": round(max(gaps), 3) if gaps else None,
    }
    return out
