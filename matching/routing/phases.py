"""The phases after the first plan: continue a long dial-a-ride run, take vehicles out (guided
ejection search, or OR-Tools route elimination under a fleet cap), and polish the distance with
the fleet fixed. Each takes the best plan so far and returns one never worse, lexicographically
(requests served, then cost).
"""

from __future__ import annotations

import math
import random
import time as _time
from dataclasses import replace
from typing import TYPE_CHECKING

from matching.routing.ejection import minimise_fleet
from matching.routing.insertion import Plan
from matching.routing.model import ModelOptions, build_model
from matching.routing.ruin_recreate import shorten
from matching.routing.search import FIRST_SOLUTIONS, LAMBDAS, Best, SearchOptions, solve_built

if TYPE_CHECKING:
    from matching.routing.problem import RoutingProblem

# The continuation's GLS lambda (see second_run): stronger penalties push it away from the long
# run's local optimum. Cordeau at 30 s with bandit operators, 0.3 against 0.2: a8-64 2.96 vs
# 3.15 %, a6-60 1.28 vs 1.59 %, b6-60 1.49 % both.
_CONTINUATION_LAMBDA = 0.3


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


def true_cost(problem: RoutingProblem, best: Best) -> float:
    fixed = {v.id: v.fixed_cost for v in problem.vehicles}
    return sum(r.distance + fixed[r.vehicle] for r in best.result_routes)


def second_run(
    problem: RoutingProblem,
    options: ModelOptions,
    best: Best | None,
    *,
    time_limit: float,
    seed: int,
    search: SearchOptions,
    solution_limit: int | None,
) -> Best | None:
    """The rest of a one-long-run search: continue from a complete plan (guided local search
    starts again with fresh penalties), or, when the long run left a request out (measured once
    on Cordeau a3-36), build a fresh plan with the next insertion heuristic. Keeps the better."""
    if time_limit < 0.2:
        return best
    full = 2 * len(problem.requests)
    complete = best is not None and best.served == full
    strategy = FIRST_SOLUTIONS[(seed + 1) % len(FIRST_SOLUTIONS)]
    other, _ = solve_built(
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


def ejection_search(
    problem: RoutingProblem,
    options: ModelOptions,
    best: Best,
    *,
    time_limit: float,
    seed: int,
    search: SearchOptions,
    solution_limit: int | None,
) -> Best:
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
    confirmed, _ = solve_built(
        build_model(problem, capped),
        time_limit=1.0,
        seed=seed,
        search=replace(search, max_restarts=1),
        solution_limit=1,
        initial=plan.node_routes(built),
        plan=[(FIRST_SOLUTIONS[0], LAMBDAS[0])],
    )
    if confirmed is None or confirmed.served != full:
        return best
    return confirmed


def eliminate_routes(
    problem: RoutingProblem,
    options: ModelOptions,
    best: Best,
    *,
    time_limit: float,
    seed: int,
    search: SearchOptions,
    solution_limit: int | None,
) -> Best:
    """Route elimination (after Nagata & Braysy): cap the fleet at one vehicle fewer than the
    best plan uses and look for a plan that still serves every request.

    Requests keep their must-serve penalty, so each try is lexicographic (insert everything,
    then distance) and stops at the first complete plan. Tries (see _ELIMINATION_TRIES) either
    start from the best plan with one route emptied (smallest first, then the next-smallest),
    left to guided local search to re-insert, or run a fresh insertion heuristic under the cap
    (on Li & Lim lr109 that found 12 and 11 vehicles within 5 s each where local search from
    the fixed-cost plan had stalled at 13). A success
    lowers the cap and starts over; the phase ends when a cap fails all its tries or the time
    is up. Fixed costs stay out of the objective as in polish_distance. The plan returned is
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
        found: Best | None = None
        for rank, offset, share in _ELIMINATION_TRIES:
            remaining = deadline - _time.perf_counter()
            if remaining < 0.2:
                return best
            initial: list[list[int]] | None = None
            strategy = FIRST_SOLUTIONS[(seed + offset) % len(FIRST_SOLUTIONS)]
            if rank is not None:
                emptied = by_size[rank % len(by_size)]
                initial = [[] if j == emptied else list(r) for j, r in enumerate(best.routes)]
            attempt, _ = solve_built(
                build_model(problem, capped),
                time_limit=min(max(0.5, time_limit * share), remaining),
                seed=seed,
                search=replace(search, max_restarts=1),
                solution_limit=solution_limit,
                initial=initial,
                stop_when_complete=True,
                plan=[(strategy, LAMBDAS[0])],
            )
            if attempt is not None and attempt.served == full:
                found = attempt
                break
        if found is None:
            return best
        best = found


def polish_distance(
    problem: RoutingProblem,
    options: ModelOptions,
    best: Best,
    *,
    time_limit: float,
    seed: int,
    search: SearchOptions,
    solution_limit: int | None,
) -> Best:
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
    polished, _ = solve_built(
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
    if (polished.served, -true_cost(problem, polished)) > (
        best.served,
        -true_cost(problem, best),
    ):
        return polished
    return best
