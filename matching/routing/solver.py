"""Solve and re-optimise pickup-and-delivery problems with OR-Tools routing.

The search: a pickup-and-delivery insertion heuristic for the first plan, then guided local
search; the time limit is split into a few restarts whose order of first-solution heuristics
follows the seed, and the best plan is kept. With vehicle fixed costs (fewer vehicles first) a
short first phase is followed by fleet minimisation (guided ejection search and a
ruin-and-recreate polish outside OR-Tools, see ejection.py; with ride-time limits, OR-Tools route
elimination under a fleet cap instead) and one long distance polish with the fleet fixed. Every
run is deterministic for a seed when it is stopped by `solution_limit` rather than by the clock.
"""

from __future__ import annotations

import math
import random
import time as _time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from matching.routing.ejection import minimise_fleet
from matching.routing.insertion import Plan
from matching.routing.model import (
    BuiltModel,
    ModelOptions,
    build_model,
    interpret,
    routes_of,
)
from matching.routing.problem import (
    Node,
    Promise,
    Request,
    Route,
    RoutingProblem,
    RoutingResult,
    Unserved,
)
from matching.routing.ruin_recreate import shorten
from matching.status import InvalidProblem, SolveStatus

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

FSS = routing_enums_pb2.FirstSolutionStrategy
LSM = routing_enums_pb2.LocalSearchMetaheuristic
_RSS = routing_enums_pb2.RoutingSearchStatus

# First-solution heuristics that understand pickup-and-delivery pairs; the seed orders them.
_FIRST_SOLUTIONS = (
    FSS.PARALLEL_CHEAPEST_INSERTION,
    FSS.LOCAL_CHEAPEST_INSERTION,
    FSS.SEQUENTIAL_CHEAPEST_INSERTION,
    FSS.LOCAL_CHEAPEST_COST_INSERTION,
)


@dataclass(frozen=True)
class SearchOptions:
    """How to search. The defaults are what the benchmarks measure.

    The time limit is cut into runs of about `restart_seconds` each (at least one run); run k uses
    a different first-solution heuristic and guided-local-search lambda, chosen by the seed, and
    the best plan wins. OR-Tools routing itself has no random seed, so this is where the seed acts.
    """

    restart_seconds: float = 5.0
    max_restarts: int = 12
    metaheuristic: int = LSM.GUIDED_LOCAL_SEARCH
    span_weight: float = 0.0
    use_ils: bool = False
    # With ride-time limits, one long guided-local-search run (then one continuation, see
    # _second_run) instead of 5 s restarts: on Cordeau at 30 s a single run measured 1.1-1.6 %
    # on a5-60 / a7-56 and 3.5-4.7 % on a8-64 against 2.2-3.0 / 2.6 / 7.0 % with restarts
    # (b6-60 went the other way, 4.1 vs 3.3 %).
    one_run_with_ride_limits: bool = True
    # With ride-time limits, OR-Tools' multi-armed-bandit operator selection (operators that
    # improve get tried more) instead of its fixed operator order. Cordeau at 30 s, seed 0 (the
    # other settings as before): b6-60 4.12 -> 1.49 %, a8-64 3.53 -> 3.15 %, a6-60 2.10 ->
    # 1.59 %; mean over the 14 0.90 -> 0.67 %, all 14 complete and feasible.
    bandit_operators_with_ride_limits: bool = True
    # With vehicle fixed costs: share of the time spent on a first plan minimising vehicles +
    # distance, then at most `elimination_share` removing whole routes (see _eliminate_routes);
    # the rest polishes distance with the fleet capped (see _polish_distance).
    fleet_phase_share: float = 0.2
    elimination_share: float = 0.5
    # Without ride-time limits the fleet is cut by guided ejection search (ejection.py) for at
    # most this share instead; the rest polishes distance. Li & Lim at 60 s: it found the
    # best-known count on lc103, lr207, lr211 and lrc105 within 1-5 s where OR-Tools' route
    # elimination (30 s) had not.
    ejection_share: float = 0.4
    # Of that share, what is kept for shortening the plan by ruin and recreate (ruin_recreate.py)
    # after the ejection search. Li & Lim at 60 s: lc103's 9-vehicle plan went from 25 % above
    # the best-known distance (guided local search alone, stuck) to 1.6-1.9 %, and lr203 from
    # 17 % to 7.5 %.
    shorten_share: float = 0.4


# Route elimination tries per fleet cap: (route to empty by size rank, or None for a fresh
# insertion heuristic run under the cap; heuristic offset from the seed; share of the phase).
# Short tries first for diversity, then one long fresh run, because guided local search needs
# time under a tight cap. Li & Lim at 60 s: eight 1/8 tries found lc109's 9 vehicles but left
# lr109 at 12; three 1/3 tries found lr109's 11 but left lc109 at 10. A fixed number of tries
# per cap is also what keeps the phase clock-independent under a solution limit.
_ELIMINATION_TRIES: tuple[tuple[int | None, int, float], ...] = (
    (0, 0, 1 / 8),
    (None, 0, 1 / 8),
    (1, 1, 1 / 8),
    (None, 1, 1 / 8),
    (None, 0, 1 / 2),
)

# With ride-time limits (one_run_with_ride_limits): share of the time for the long first run; the
# rest continues from its plan, or starts afresh if the plan left a request out. With bandit
# operators (SearchOptions.bandit_operators_with_ride_limits), Cordeau a8-64 at 30 s: 0.6 gave
# 2.96 / 3.65 % (seeds 0 / 1) against 3.15 / 4.51 % at 0.75, 3.94 / 3.65 % at 0.5 and 3.15 /
# 4.63 % at 0.85; b6-60, a6-60, a5-60, a7-56 unchanged at seed 0 (seed 1: a5-60 1.84 -> 2.21 %,
# a7-56 1.30 -> 2.23 %, b6-60 and a6-60 unchanged).
_ONE_RUN_SHARE = 0.6

# GLS penalty weights to vary across runs; 0.1 is the OR-Tools default.
_LAMBDAS = (0.1, 0.2, 0.05, 0.3)

# The continuation's GLS lambda (see _second_run): stronger penalties push it away from the long
# run's local optimum. Cordeau at 30 s with bandit operators, 0.3 against 0.2: a8-64 2.96 vs
# 3.15 %, a6-60 1.28 vs 1.59 %, b6-60 1.49 % both.
_CONTINUATION_LAMBDA = 0.3


def _status_of(routing_status: int, elapsed: float, time_limit: float) -> SolveStatus:
    if routing_status == _RSS.ROUTING_OPTIMAL:
        return SolveStatus.OPTIMAL
    if routing_status == _RSS.ROUTING_INFEASIBLE:
        return SolveStatus.INFEASIBLE
    return SolveStatus.TIMED_OUT if elapsed >= 0.98 * time_limit else SolveStatus.FEASIBLE


def _params(
    time_limit: float,
    first: int,
    gls_lambda: float,
    search: SearchOptions,
    solution_limit: int | None,
    *,
    ride_limits: bool = False,
) -> object:
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = first
    params.local_search_metaheuristic = search.metaheuristic
    params.guided_local_search_lambda_coefficient = gls_lambda
    params.time_limit.FromMilliseconds(max(1, int(time_limit * 1000)))
    if solution_limit is not None:
        params.solution_limit = solution_limit
    if search.use_ils:
        params.use_iterated_local_search = True
        rr = params.iterated_local_search_parameters.ruin_recreate_parameters
        rr.ruin_strategies.add().sisr.avg_num_removed_visits = 10
        rr.ruin_strategies[0].sisr.max_removed_sequence_size = 10
        rr.ruin_strategies[0].sisr.bypass_factor = 0.01
    if ride_limits and search.bandit_operators_with_ride_limits:
        # (see SearchOptions.bandit_operators_with_ride_limits; adaptive on improvements, not on
        # the clock, so a solution-limited run stays deterministic)
        params.use_multi_armed_bandit_concatenate_operators = True
    return params


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


@dataclass
class _Best:
    cost: int
    served: int
    routes: list[list[int]]
    result_routes: list[Route]
    status: SolveStatus


def _plan_runs(seed: int, runs: int) -> list[tuple[int, float]]:
    """(first-solution heuristic, GLS lambda) per run. Seed 0 starts with the pair that measured
    best; other seeds start elsewhere in the same deterministic cycle."""
    rng = random.Random(seed)  # noqa: S311 - search diversity, not security
    combos = [(f, lam) for lam in _LAMBDAS for f in _FIRST_SOLUTIONS]
    head, rest = combos[: len(_FIRST_SOLUTIONS)], combos[len(_FIRST_SOLUTIONS) :]
    if seed != 0:
        rng.shuffle(head)
    rng.shuffle(rest)
    order = head + rest
    return [order[k % len(order)] for k in range(runs)]


def _solve_built(
    built: BuiltModel,
    *,
    time_limit: float,
    seed: int,
    search: SearchOptions,
    solution_limit: int | None,
    initial: list[list[int]] | None,
    stop_when_complete: bool = False,
    plan: list[tuple[int, float]] | None = None,
) -> tuple[_Best | None, int]:
    """Best plan over the runs, and the routing status of the last run.

    With `stop_when_complete` the search ends at the first plan serving every mandatory request
    (route elimination wants to know whether one exists, not how short it is)."""
    # (+0.01: a budget a hair under k restarts, as left over by an earlier phase, still gets k)
    per_run = max(search.restart_seconds, 1e-3)
    runs = max(1, min(search.max_restarts, int(time_limit / per_run + 0.01)))
    if plan is None:
        plan = _plan_runs(seed, runs)
    runs = len(plan)
    deadline = _time.perf_counter() + time_limit
    best: _Best | None = None
    routing, manager = built.routing, built.manager
    last_status = _RSS.ROUTING_NOT_SOLVED
    full = 2 * len(built.problem.requests)
    ride_limits = any(r.max_ride_time is not None for r in built.problem.requests)
    if stop_when_complete:

        def stop_if_complete() -> None:
            if routing.CostVar().Value() < built.must_serve_penalty:
                routing.solver().FinishCurrentSearch()

        routing.AddAtSolutionCallback(stop_if_complete)
    for attempt, (first_strategy, gls_lambda) in enumerate(plan):
        remaining = deadline - _time.perf_counter()
        if remaining <= 0.05 and attempt > 0:
            break
        share = max(remaining, 0.05) / (runs - attempt)
        params = _params(
            share, first_strategy, gls_lambda, search, solution_limit, ride_limits=ride_limits
        )
        if attempt == 0:
            routing.CloseModelWithParameters(params)
        start = _time.perf_counter()
        assignment = None
        origin = initial if attempt == 0 else None
        if origin is not None:
            model_routes = [
                [manager.NodeToIndex(built.model_node[i]) for i in stops] for stops in origin
            ]
            first = routing.ReadAssignmentFromRoutes(model_routes, True)
            if first is not None:
                assignment = routing.SolveFromAssignmentWithParameters(first, params)
        if assignment is None:
            assignment = routing.SolveWithParameters(params)
        elapsed = _time.perf_counter() - start
        last_status = routing.status()
        if last_status == _RSS.ROUTING_INVALID:
            raise RuntimeError("OR-Tools rejected the search parameters (a bug in this module)")
        if assignment is None:
            if last_status == _RSS.ROUTING_INFEASIBLE:
                break
            continue
        stops = routes_of(built, assignment)
        served = sum(len(s) for s in stops)
        cost = assignment.ObjectiveValue()
        if best is None or (served, -cost) > (best.served, -best.cost):
            best = _Best(
                cost,
                served,
                stops,
                interpret(built, assignment),
                _status_of(last_status, elapsed, share),
            )
        if stop_when_complete and best is not None and best.served == full:
            break
    return best, last_status


def _result(
    problem: RoutingProblem,
    best: _Best | None,
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
    return _solve(
        problem,
        time_limit=time_limit,
        seed=seed,
        drop_penalty=drop_penalty,
        solution_limit=solution_limit,
        search=search or SearchOptions(),
        initial=None,
        mandatory=frozenset(),
    )


def _solve(
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
    best, routing_status = _solve_built(
        built,
        time_limit=first_limit * _ONE_RUN_SHARE if one_run else first_limit,
        seed=seed,
        search=replace(search, max_restarts=1) if one_run else search,
        solution_limit=solution_limit,
        initial=initial,
    )
    if one_run:
        best = _second_run(
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
        (_ejection_search, search.ejection_share)
        if not ride_limits and search.ejection_share > 0
        else (_eliminate_routes, search.elimination_share)
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
        best = _polish_distance(
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


def _true_cost(problem: RoutingProblem, best: _Best) -> float:
    fixed = {v.id: v.fixed_cost for v in problem.vehicles}
    return sum(r.distance + fixed[r.vehicle] for r in best.result_routes)


def _second_run(
    problem: RoutingProblem,
    options: ModelOptions,
    best: _Best | None,
    *,
    time_limit: float,
    seed: int,
    search: SearchOptions,
    solution_limit: int | None,
) -> _Best | None:
    """The rest of a one-long-run search: continue from a complete plan (guided local search
    starts again with fresh penalties), or, when the long run left a request out (measured once
    on Cordeau a3-36), build a fresh plan with the next insertion heuristic. Keeps the better."""
    if time_limit < 0.2:
        return best
    full = 2 * len(problem.requests)
    complete = best is not None and best.served == full
    strategy = _FIRST_SOLUTIONS[(seed + 1) % len(_FIRST_SOLUTIONS)]
    other, _ = _solve_built(
        build_model(problem, options),
        time_limit=time_limit,
        seed=seed,
        search=replace(search, max_restarts=1),
        solution_limit=solution_limit,
        initial=best.routes if complete and best is not None else None,
        plan=[(strategy, _CONTINUATION_LAMBDA)],
    )
    if other is None:
        return best
    if best is None or (other.served, -other.cost) > (best.served, -best.cost):
        return other
    return best


def _fleet_lower_bound(problem: RoutingProblem) -> int:
    """Vehicles needed for the load alone (pairs are picked up and dropped, so this is weak on
    time-window instances, but it stops elimination attempts that cannot succeed)."""
    capacity = max(v.capacity for v in problem.vehicles)
    total = sum(r.load for r in problem.requests)
    return max(1, math.ceil(total / capacity)) if capacity > 0 else len(problem.vehicles)


# Ejection-search steps (insertions tried) per OR-Tools solution under `solution_limit`, so that
# a solution-limited solve stays independent of the clock.
_EJECTION_STEPS_PER_SOLUTION = 20


def _ejection_search(
    problem: RoutingProblem,
    options: ModelOptions,
    best: _Best,
    *,
    time_limit: float,
    seed: int,
    search: SearchOptions,
    solution_limit: int | None,
) -> _Best:
    """Fewer vehicles by guided ejection search (ejection.py), then the smaller fleet's plan
    shortened by ruin and recreate (ruin_recreate.py) for `shorten_share` of the time; OR-Tools
    takes the result as its first solution under the smaller fleet cap, which checks it against
    the model and gives it a schedule. Never worse (lexicographically) than `best`."""
    full = 2 * len(problem.requests)
    if best.served != full or time_limit < 0.2:
        return best
    clock = _time.perf_counter()
    built = build_model(problem, options)
    plan = Plan.of(built, best.routes, random.Random(seed))  # noqa: S311 - search diversity
    if plan is None:
        return best
    steps = None if solution_limit is None else solution_limit * _EJECTION_STEPS_PER_SOLUTION
    fewer = minimise_fleet(
        plan,
        time_limit=time_limit * (1 - search.shorten_share),
        lower_bound=_fleet_lower_bound(problem),
        max_iterations=steps,
        after_success=0.5,
    )
    shorter = shorten(
        plan, time_limit=clock + time_limit - _time.perf_counter(), max_iterations=steps
    )
    if not (fewer or shorter):
        return best
    capped = replace(options, max_vehicles=plan.vehicles_used, ignore_fixed_costs=True)
    confirmed, _ = _solve_built(
        build_model(problem, capped),
        time_limit=1.0,
        seed=seed,
        search=replace(search, max_restarts=1),
        solution_limit=1,
        initial=plan.node_routes(built),
        plan=[(_FIRST_SOLUTIONS[0], _LAMBDAS[0])],
    )
    if confirmed is None or confirmed.served != full:
        return best
    return confirmed


def _eliminate_routes(
    problem: RoutingProblem,
    options: ModelOptions,
    best: _Best,
    *,
    time_limit: float,
    seed: int,
    search: SearchOptions,
    solution_limit: int | None,
) -> _Best:
    """Route elimination (after Nagata & Braysy): cap the fleet at one vehicle fewer than the
    best plan uses and look for a plan that still serves every request.

    Requests keep their must-serve penalty, so each try is lexicographic (insert everything,
    then distance) and stops at the first complete plan. Tries (see _ELIMINATION_TRIES) either
    start from the best plan with one route emptied (smallest first, then the next-smallest),
    left to guided local search to re-insert, or run a fresh insertion heuristic under the cap
    (on Li & Lim lr109 that found 12 and 11 vehicles within 5 s each where local search from
    the fixed-cost plan had stalled at 13). A success
    lowers the cap and starts over; the phase ends when a cap fails all its tries or the time
    is up. Fixed costs stay out of the objective as in _polish_distance. The plan returned is
    never worse (lexicographically) than `best`.
    """
    deadline = _time.perf_counter() + time_limit
    full = 2 * len(problem.requests)
    if best.served != full:
        return best
    lower = _fleet_lower_bound(problem)
    while True:
        used = [k for k, stops in enumerate(best.routes) if stops]
        if len(used) - 1 < lower:
            return best
        by_size = sorted(used, key=lambda k: (len(best.routes[k]), k))
        capped = replace(options, max_vehicles=len(used) - 1, ignore_fixed_costs=True)
        found: _Best | None = None
        for rank, offset, share in _ELIMINATION_TRIES:
            remaining = deadline - _time.perf_counter()
            if remaining < 0.2:
                return best
            initial: list[list[int]] | None = None
            strategy = _FIRST_SOLUTIONS[(seed + offset) % len(_FIRST_SOLUTIONS)]
            if rank is not None:
                emptied = by_size[rank % len(by_size)]
                initial = [[] if j == emptied else list(r) for j, r in enumerate(best.routes)]
            attempt, _ = _solve_built(
                build_model(problem, capped),
                time_limit=min(max(0.5, time_limit * share), remaining),
                seed=seed,
                search=replace(search, max_restarts=1),
                solution_limit=solution_limit,
                initial=initial,
                stop_when_complete=True,
                plan=[(strategy, _LAMBDAS[0])],
            )
            if attempt is not None and attempt.served == full:
                found = attempt
                break
        if found is None:
            return best
        best = found


def _polish_distance(
    problem: RoutingProblem,
    options: ModelOptions,
    best: _Best,
    *,
    time_limit: float,
    seed: int,
    search: SearchOptions,
    solution_limit: int | None,
) -> _Best:
    """Shorten the best plan's distance with its vehicle count as a hard cap.

    A fixed cost large enough to make vehicles lexicographic also inflates the arc costs guided
    local search penalises (the fixed cost sits on the arc out of the depot), which measured
    about 20 % worse distance on Li & Lim lr203. So: keep the vehicle count found, drop the
    fixed costs from the objective, start from the plan, and keep whichever is cheaper in the
    real objective (distance + fixed costs).
    """
    if time_limit < 0.2:
        return best
    used = sum(1 for stops in best.routes if stops)
    capped = replace(options, max_vehicles=used, ignore_fixed_costs=True)
    polished, _ = _solve_built(
        build_model(problem, capped),
        time_limit=time_limit,
        seed=seed,
        # One continuous run from the plan: a restart from a fresh insertion plan throws away
        # the plan the earlier phases paid for, and guided local search gains from long runs.
        search=replace(search, max_restarts=1),
        solution_limit=solution_limit,
        initial=best.routes,
    )
    if polished is None:
        return best
    if (polished.served, -_true_cost(problem, polished)) > (
        best.served,
        -_true_cost(problem, best),
    ):
        return polished
    return best


def _clip(node: Node, window: tuple[float, float] | None, who: str) -> Node:
    if window is None:
        return node
    lo, hi = max(node.earliest, window[0]), min(node.latest, window[1])
    if hi < lo:
        raise InvalidProblem(
            f"{who}: promised window {window} does not meet the node window "
            f"[{node.earliest}, {node.latest}]"
        )
    return replace(node, earliest=lo, latest=hi)


def _reoptimised_matrix(
    problem: RoutingProblem,
    added_nodes: Sequence[Node],
    travel_times: Sequence[Sequence[float]] | None,
    cancelled_nodes: set[int],
) -> tuple[tuple[float, ...], ...] | None:
    """The travel-time matrix of the re-planned problem (see reoptimise), or None for
    coordinates; rows and columns of cancelled stops cut out."""
    full: Sequence[Sequence[float]] | None = travel_times
    if full is None:
        if problem.travel_times is None:
            return None
        if added_nodes:
            raise InvalidProblem(
                "travel_times: the problem has a travel-time matrix, so adding stops needs the "
                f"matrix over its {len(problem.nodes)} nodes followed by the "
                f"{len(added_nodes)} added ones"
            )
        full = problem.travel_times
    size = len(problem.nodes) + len(added_nodes)
    if len(full) != size or any(len(row) != size for row in full):
        raise InvalidProblem(
            f"travel_times must be a {size}x{size} matrix: the problem's {len(problem.nodes)} "
            f"nodes followed by the {len(added_nodes)} added ones, in that order"
        )
    everyone = (*problem.nodes, *added_nodes)
    keep = [i for i, n in enumerate(everyone) if n.id not in cancelled_nodes]
    return tuple(tuple(float(full[i][j]) for j in keep) for i in keep)


def reoptimise(
    problem: RoutingProblem,
    current: RoutingResult | Sequence[Route],
    *,
    added: Sequence[Request] = (),
    added_nodes: Sequence[Node] = (),
    cancelled: Iterable[str] = (),
    promised: Mapping[str, Promise] | None = None,
    travel_times: Sequence[Sequence[float]] | None = None,
    time_limit: float,
    seed: int = 0,
    drop_penalty: float | None = None,
    solution_limit: int | None = None,
    search: SearchOptions | None = None,
) -> RoutingResult:
    """Re-plan after requests are added and/or cancelled, starting from the current plan.

    `problem` is the problem the current plan solved; `added` are new requests whose stops are
    `added_nodes`; `cancelled` are request ids to remove. Every request the current plan serves
    is promised: it is never dropped, and its service stays inside its promised windows
    (`promised[request_id]`; by default the windows it already had). An added request may be
    given a promise too (the time a dispatcher told the caller on the phone). If `drop_penalty`
    is given only added requests may be dropped. The result is a full plan for the new problem.

    `travel_times` is the travel-time matrix over `problem.nodes` followed by `added_nodes`, in
    that order (rows and columns of cancelled stops may stay in: they are cut out here). It is
    needed when `problem` has a matrix and stops are added, since only the caller's provider
    (OSRM, say) knows the times to the new stops; without added stops the problem's own matrix is
    kept. A problem without a matrix may also be given one here (road times from now on).
    """
    routes = current.routes if isinstance(current, RoutingResult) else tuple(current)
    gone = set(cancelled)
    unknown = gone - set(problem.request_by_id)
    if unknown:
        raise InvalidProblem(f"cancelled request(s) {sorted(unknown)}: not in the problem")
    promises = dict(promised or {})
    for rid in promises:
        if rid not in problem.request_by_id and all(a.id != rid for a in added):
            raise InvalidProblem(f"promise for request {rid}: unknown request")
    kept_requests = [r for r in problem.requests if r.id not in gone]
    served_now = {rid for route in routes for rid in route.requests} - gone
    windows: dict[int, tuple[float, float] | None] = {}
    names: dict[int, str] = {}
    for r in (*kept_requests, *added):
        promise = promises.get(r.id)
        if promise is not None:
            windows[r.pickup], windows[r.dropoff] = promise.pickup, promise.dropoff
            names[r.pickup] = names[r.dropoff] = f"request {r.id}"
    cancelled_nodes = {
        node
        for rid in gone
        for node in (problem.request_by_id[rid].pickup, problem.request_by_id[rid].dropoff)
    }
    nodes = tuple(
        _clip(n, windows.get(n.id), names.get(n.id, f"node {n.id}"))
        for n in (*problem.nodes, *added_nodes)
        if n.id not in cancelled_nodes
    )
    matrix = _reoptimised_matrix(problem, added_nodes, travel_times, cancelled_nodes)
    new_problem = RoutingProblem(
        nodes,
        (*kept_requests, *added),
        problem.vehicles,
        matrix,
        name=problem.name,
    )
    vehicle_pos = {v.id: k for k, v in enumerate(problem.vehicles)}
    initial: list[list[int]] = [[] for _ in problem.vehicles]
    for route in routes:
        if route.vehicle not in vehicle_pos:
            raise InvalidProblem(f"current plan: vehicle {route.vehicle} is not in the problem")
        initial[vehicle_pos[route.vehicle]] = [
            v.node
            for v in route.visits
            if v.kind in ("pickup", "dropoff") and v.node not in cancelled_nodes
        ]
    return _solve(
        new_problem,
        time_limit=time_limit,
        seed=seed,
        drop_penalty=drop_penalty,
        solution_limit=solution_limit,
        search=search or SearchOptions(),
        initial=initial,
        mandatory=frozenset(served_now),
    )
