"""Solve pickup-and-delivery problems with OR-Tools routing: the pipeline and its result.

The search: a pickup-and-delivery insertion heuristic for the first plan, then guided local
search; the time limit is split into a few restarts whose order of first-solution heuristics
follows the seed, and the best plan is kept (one run: search.py). With vehicle fixed costs (fewer
vehicles first) a short first phase is followed by fleet minimisation (guided ejection search and
a ruin-and-recreate polish outside OR-Tools, see ejection.py; with ride-time limits, OR-Tools
route elimination under a fleet cap instead) and one long distance polish with the fleet fixed
(phases.py). Every run is deterministic for a seed when it is stopped by `solution_limit` rather
than by the clock. Re-planning from a current plan is reoptimise.py.
"""

from __future__ import annotations

import math
import time as _time
from dataclasses import replace
from typing import TYPE_CHECKING

from ortools.constraint_solver import routing_enums_pb2

from matching.routing.model import ModelOptions, build_model
from matching.routing.phases import (
    ejection_search,
    eliminate_routes,
    polish_distance,
    second_run,
)
from matching.routing.problem import Request, RoutingProblem, RoutingResult, Unserved
from matching.routing.search import Best, SearchOptions, ride_limited_plan, solve_built
from matching.status import InvalidProblem, SolveStatus

if TYPE_CHECKING:
    from collections.abc import Mapping

_RSS = routing_enums_pb2.RoutingSearchStatus


# With ride-time limits (one_run_with_ride_limits): share of the time for the long first run; the
# rest continues from its plan, or starts afresh if the plan left a request out. With bandit
# operators (SearchOptions.bandit_operators_with_ride_limits), Cordeau a8-64 at 30 s: 0.6 gave
# 2.96 / 3.65 % (seeds 0 / 1) against 3.15 / 4.51 % at 0.75, 3.94 / 3.65 % at 0.5 and 3.15 /
# 4.63 % at 0.85; b6-60, a6-60, a5-60, a7-56 unchanged at seed 0 (seed 1: a5-60 1.84 -> 2.21 %,
# a7-56 1.30 -> 2.23 %, b6-60 and a6-60 unchanged).
_ONE_RUN_SHARE = 0.6


def _alone_reason(problem: RoutingProblem, r: Request) -> str | None:
    """Why request `r` cannot be served even alone by any vehicle, or None if some vehicle can.

    An exact test for a one-request route: depot -> pickup -> drop-off -> depot, starting as late
    as helps (ride time) and never waiting needlessly.
    """
    pick, drop = problem.node(r.pickup), problem.node(r.dropoff)
    reasons: list[str] = []
    for v in problem.vehicles:
        if r.load > v.capacity:
            reasons.append(f"load {r.load} exceeds capacity of {v.id}")
            continue
        start, end = problem.node(v.start), problem.node(v.end)
        t_p = max(pick.earliest, start.earliest + start.service + problem.travel(v.start, r.pickup))
        if t_p > pick.latest + 1e-9:
            reasons.append(f"{v.id} cannot reach the pickup in its window")
            continue
        t_d = max(drop.earliest, t_p + pick.service + problem.travel(r.pickup, r.dropoff))
        if t_d > drop.latest + 1e-9:
            reasons.append(f"{v.id} cannot reach the drop-off in its window")
            continue
        # Waiting at the drop-off can be moved before the pickup when the pickup window allows.
        if r.max_ride_time is not None and t_d - t_p - pick.service > r.max_ride_time + 1e-9:
            t_p = min(pick.latest, t_d - pick.service - r.max_ride_time)
            if t_d - t_p - pick.service > r.max_ride_time + 1e-9:
                reasons.append("the ride cannot fit within the maximum ride time")
                continue
        t_e = max(end.earliest, t_d + drop.service + problem.travel(r.dropoff, v.end))
        if t_e > end.latest + 1e-9:
            reasons.append(f"{v.id} cannot return to its depot in time")
            continue
        leave = t_p - problem.travel(v.start, r.pickup) - start.service
        leave = min(max(leave, start.earliest), start.latest)
        if v.max_duration is not None and t_e - leave > v.max_duration + 1e-9:
            reasons.append(f"the trip is longer than {v.id}'s maximum route duration")
            continue
        return None
    return "cannot be served even alone: " + "; ".join(dict.fromkeys(reasons))


def _result(
    problem: RoutingProblem,
    best: Best | None,
    *,
    drop_allowed: bool,
    alone: Mapping[str, str],
    wall: float,
    routing_status: int,
) -> RoutingResult:
    if best is None:
        # No plan at all (every request may be left out, so this means the depots/fleet
        # themselves are infeasible, or the search was stopped before a first plan).
        proven = routing_status == _RSS.ROUTING_INFEASIBLE or (bool(alone) and not drop_allowed)
        status = SolveStatus.INFEASIBLE if proven else SolveStatus.TIMED_OUT
        unserved = tuple(
            Unserved(r.id, alone.get(r.id, "no plan was found for this request"))
            for r in problem.requests
        )
        return RoutingResult(status, (), 0.0, 0.0, 0, unserved, "no plan found", wall)
    served = {i for stops in best.routes for i in stops}
    unserved_list: list[Unserved] = []
    for r in problem.requests:
        if r.pickup in served:
            continue
        if r.id in alone:
            reason = alone[r.id]
        elif drop_allowed:
            reason = "dropped: serving it would cost more than its drop penalty"
        else:
            reason = "no plan serving it was found within the search limits (not proven infeasible)"
        unserved_list.append(Unserved(r.id, reason))
    status = best.status
    message = ""
    if unserved_list and not drop_allowed:
        # Every request must be served and this plan does not: it is not a solution.
        if len(alone) and all(u.request in alone for u in unserved_list):
            status = SolveStatus.INFEASIBLE
            message = "some requests cannot be served by any vehicle; plan shown without them"
        else:
            status = SolveStatus.TIMED_OUT
            message = "partial plan: not every request could be placed; dropping was not allowed"
    routes = tuple(best.result_routes)
    distance = sum(r.distance for r in routes)
    fixed = {v.id: v.fixed_cost for v in problem.vehicles}
    cost = distance + sum(fixed[r.vehicle] for r in routes)
    return RoutingResult(
        status, routes, cost, distance, len(routes), tuple(unserved_list), message, wall
    )


def solve(
    problem: RoutingProblem,
    *,
    time_limit: float,
    seed: int = 0,
    drop_penalty: float | None = None,
    solution_limit: int | None = None,
    search: SearchOptions | None = None,
) -> RoutingResult:
    """Plan routes serving every request (or dropping some at `drop_penalty` each, if given).

    Minimises total travel distance plus vehicle fixed costs. `time_limit` is in seconds;
    `solution_limit` (improving solutions per restart) makes a run independent of the clock.
    """
    return solve_with(
        problem,
        time_limit=time_limit,
        seed=seed,
        drop_penalty=drop_penalty,
        solution_limit=solution_limit,
        search=search or SearchOptions(),
        initial=None,
        mandatory=frozenset(),
    )


def solve_with(
    problem: RoutingProblem,
    *,
    time_limit: float,
    seed: int,
    drop_penalty: float | None,
    solution_limit: int | None,
    search: SearchOptions,
    initial: list[list[int]] | None,
    mandatory: frozenset[str],
) -> RoutingResult:
    """`solve` from an `initial` plan (problem node ids per vehicle, or None) with `mandatory`
    request ids that may never be dropped, as re-planning needs (reoptimise.py)."""
    if time_limit <= 0:
        raise InvalidProblem(f"time_limit {time_limit}: must be > 0 seconds")
    if drop_penalty is not None and (drop_penalty < 0 or not math.isfinite(drop_penalty)):
        raise InvalidProblem(f"drop_penalty {drop_penalty}: must be finite and >= 0")
    clock = _time.perf_counter()
    alone = {r.id: why for r in problem.requests if (why := _alone_reason(problem, r)) is not None}
    options = ModelOptions(drop_penalty, search.span_weight, mandatory)
    one_run = search.one_run_with_ride_limits and any(
        r.max_ride_time is not None for r in problem.requests
    )
    built = build_model(problem, options)
    polish = any(v.fixed_cost > 0 for v in problem.vehicles) and drop_penalty is None
    first_limit = time_limit * search.fleet_phase_share if polish else time_limit
    best, routing_status = solve_built(
        built,
        time_limit=first_limit * _ONE_RUN_SHARE if one_run else first_limit,
        seed=seed,
        search=replace(search, max_restarts=1) if one_run else search,
        plan=ride_limited_plan(seed) if one_run else None,
        solution_limit=solution_limit,
        initial=initial,
    )
    if one_run:
        best = second_run(
            problem,
            options,
            best,
            time_limit=clock + first_limit - _time.perf_counter(),
            seed=seed,
            search=search,
            solution_limit=solution_limit,
        )
    # Fleet minimisation: guided ejection search where no request has a ride-time limit (the
    # insertion tests do not know ride times) unless its share is 0, else OR-Tools route
    # elimination under a fleet cap.
    ride_limits = any(r.max_ride_time is not None for r in problem.requests)
    cut_fleet, fleet_share = (
        (ejection_search, search.ejection_share)
        if not ride_limits and search.ejection_share > 0
        else (eliminate_routes, search.elimination_share)
    )
    if polish and best is not None and fleet_share > 0:
        best = cut_fleet(
            problem,
            options,
            best,
            time_limit=min(time_limit * fleet_share, clock + time_limit - _time.perf_counter()),
            seed=seed,
            search=search,
            solution_limit=solution_limit,
        )
    if polish and best is not None:
        best = polish_distance(
            problem,
            options,
            best,
            time_limit=clock + time_limit - _time.perf_counter(),
            seed=seed,
            search=search,
            solution_limit=solution_limit,
        )
    wall = _time.perf_counter() - clock
    return _result(
        problem,
        best,
        drop_allowed=drop_penalty is not None,
        alone=alone,
        wall=wall,
        routing_status=routing_status,
    )
