"""One OR-Tools routing search, as every phase of the solver runs it.

`SearchOptions` holds the knobs the benchmarks measured; `search_parameters` turns them into
OR-Tools parameters for one run; `solve_built` runs a built model once or more (restarts with
different first-solution heuristics and guided-local-search lambdas, chosen by the seed) and keeps
the best plan (`Best`). OR-Tools routing has no random seed of its own, so this is where the seed
acts.
"""

from __future__ import annotations

import random
import time as _time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ortools.constraint_solver import pywrapcp, routing_enums_pb2
from ortools.util.optional_boolean_pb2 import BOOL_TRUE

from matching.routing.model import BuiltModel, interpret, routes_of
from matching.status import SolveStatus

if TYPE_CHECKING:
    from matching.routing.problem import Route

FSS = routing_enums_pb2.FirstSolutionStrategy


LSM = routing_enums_pb2.LocalSearchMetaheuristic


_RSS = routing_enums_pb2.RoutingSearchStatus


# First-solution heuristics that understand pickup-and-delivery pairs; the seed orders them.
FIRST_SOLUTIONS = (
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
    # second_run) instead of 5 s restarts: on Cordeau at 30 s a single run measured 1.1-1.6 %
    # on a5-60 / a7-56 and 3.5-4.7 % on a8-64 against 2.2-3.0 / 2.6 / 7.0 % with restarts
    # (b6-60 went the other way, 4.1 vs 3.3 %).
    one_run_with_ride_limits: bool = True
    # With ride-time limits, OR-Tools' multi-armed-bandit operator selection (operators that
    # improve get tried more) instead of its fixed operator order. Cordeau at 30 s, seed 0 (the
    # other settings as before): b6-60 4.12 -> 1.49 %, a8-64 3.53 -> 3.15 %, a6-60 2.10 ->
    # 1.59 %; mean over the 14 0.90 -> 0.67 %, all 14 complete and feasible.
    bandit_operators_with_ride_limits: bool = True
    # With ride-time limits, OR-Tools' close-nodes LNS operator too (take out a few requests near
    # each other, put them back by local cheapest insertion): the ruin-and-recreate move tight
    # dial-a-ride plans need, where the default moves are almost all infeasible (Cordeau a8-64:
    # 2.8 million neighbours tried in 6 s, 92 feasible). a8-64, one 30 s run: 3.39 -> 0.98 %
    # from parallel cheapest insertion, 3.62 -> 2.29 % from local cheapest insertion. The full
    # Cordeau set at 30 s, six runs (seeds 0-4): worst 2.79-3.20 % (was 3.94 / 6.01 / 3.42 % at
    # seeds 0 / 1 / 2), mean 0.55-0.96 %. Its neighbourhood size (OR-Tools' default of 5 nodes)
    # measured no better at 3 or 10. Off without ride-time limits: on Li & Lim at 60 s it was
    # worse on average over seeds 0, 1, 3 (mean gap 0.62 / 1.34 / 3.03 -> 1.27 / 3.93 / 2.26 %).
    close_nodes_lns_with_ride_limits: bool = True
    # With vehicle fixed costs: share of the time spent on a first plan minimising vehicles +
    # distance, then at most `elimination_share` removing whole routes (see eliminate_routes);
    # the rest polishes distance with the fleet capped (see polish_distance).
    fleet_phase_share: float = 0.2
    elimination_share: float = 0.5
    # Without ride-time limits the fleet is cut by guided ejection search (ejection.py) for at
    # most this share instead; the rest polishes distance. Li & Lim at 60 s: it found the
    # best-known count on lc103, lr207, lr211 and lrc105 within 1-5 s where OR-Tools' route
    # elimination (30 s) had not.
    ejection_share: float = 0.6
    # Of that share, what is kept for shortening the plan by ruin and recreate (ruin_recreate.py)
    # after the ejection search, which keeps 0.6 * 0.4 of the limit (as at 0.4 / 0.4 before).
    # Li & Lim at 60 s, the six instances with the worst gaps (lc103, lc109, lr203, lr209,
    # lrc203, lrc207) at seeds 2 and 3, with string-removal chains: mean gap 0.33 % against
    # 2.29 % at 0.4 / 0.4 (lr209 at seed 2: 0 against 22.8 %). The whole set over seeds 0-3:
    # 29/29 vehicle counts and mean gaps 0.01-1.04 % (bench/README.md).
    shorten_share: float = 0.6


# GLS penalty weights to vary across runs; 0.1 is the OR-Tools default.
LAMBDAS = (0.1, 0.2, 0.05, 0.3)


def _status_of(routing_status: int, elapsed: float, time_limit: float) -> SolveStatus:
    if routing_status == _RSS.ROUTING_OPTIMAL:
        return SolveStatus.OPTIMAL
    if routing_status == _RSS.ROUTING_INFEASIBLE:
        return SolveStatus.INFEASIBLE
    return SolveStatus.TIMED_OUT if elapsed >= 0.98 * time_limit else SolveStatus.FEASIBLE


def search_parameters(
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
    if ride_limits and search.close_nodes_lns_with_ride_limits:
        params.local_search_operators.use_local_cheapest_insertion_close_nodes_lns = BOOL_TRUE
    return params


@dataclass
class Best:
    cost: int
    served: int
    routes: list[list[int]]
    result_routes: list[Route]
    status: SolveStatus


def plan_runs(seed: int, runs: int) -> list[tuple[int, float]]:
    """(first-solution heuristic, GLS lambda) per run. Seed 0 starts with the pair that measured
    best; other seeds start elsewhere in the same deterministic cycle."""
    rng = random.Random(seed)  # noqa: S311 - search diversity, not security
    combos = [(f, lam) for lam in LAMBDAS for f in FIRST_SOLUTIONS]
    head, rest = combos[: len(FIRST_SOLUTIONS)], combos[len(FIRST_SOLUTIONS) :]
    if seed != 0:
        rng.shuffle(head)
    rng.shuffle(rest)
    order = head + rest
    return [order[k % len(order)] for k in range(runs)]


# The long run's first heuristic on dial-a-ride, by seed (seed % 3). LOCAL_CHEAPEST_COST_INSERTION
# is left out: Cordeau at 30 s, three runs starting from it (seed 1, twice, and forced at seed 0)
# were the worst of all starts on a5-60 (2.21 % each time, against 0.00-1.26 %), a6-60
# (2.41-2.58 % against 0.35-1.28 %) and a7-56 (2.40-3.53 % against 1.94-2.00 %), and a8-64
# reached 4.5-6.1 % from it.
RIDE_LIMITED_FIRST_SOLUTIONS = (
    FSS.PARALLEL_CHEAPEST_INSERTION,
    FSS.LOCAL_CHEAPEST_INSERTION,
    FSS.SEQUENTIAL_CHEAPEST_INSERTION,
)


def ride_limited_plan(seed: int) -> list[tuple[int, float]]:
    """The one long run of a dial-a-ride search: its first heuristic by seed, default lambda."""
    return [(RIDE_LIMITED_FIRST_SOLUTIONS[seed % len(RIDE_LIMITED_FIRST_SOLUTIONS)], LAMBDAS[0])]


def solve_built(
    built: BuiltModel,
    *,
    time_limit: float,
    seed: int,
    search: SearchOptions,
    solution_limit: int | None,
    initial: list[list[int]] | None,
    stop_when_complete: bool = False,
    plan: list[tuple[int, float]] | None = None,
) -> tuple[Best | None, int]:
    """Best plan over the runs, and the routing status of the last run.

    With `stop_when_complete` the search ends at the first plan serving every mandatory request
    (route elimination wants to know whether one exists, not how short it is)."""
    # (+0.01: a budget a hair under k restarts, as left over by an earlier phase, still gets k)
    per_run = max(search.restart_seconds, 1e-3)
    runs = max(1, min(search.max_restarts, int(time_limit / per_run + 0.01)))
    if plan is None:
        plan = plan_runs(seed, runs)
    runs = len(plan)
    deadline = _time.perf_counter() + time_limit
    best: Best | None = None
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
        params = search_parameters(
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
            best = Best(
                cost,
                served,
                stops,
                interpret(built, assignment),
                _status_of(last_status, elapsed, share),
            )
        if stop_when_complete and best is not None and best.served == full:
            break
    return best, last_status
