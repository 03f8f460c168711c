"""Fleet minimisation for pickup and delivery by guided ejection search.

OR-Tools' local search shortens routes well but rarely empties one: on Li & Lim it stalls one
vehicle above the best known on tight instances (lc103, lr207, lrc105). This is the route
minimiser of Nagata & Kobayashi ("Guided ejection search for the pickup and delivery problem
with time windows", EvoCOP 2010), after Nagata & Braysy's for the VRPTW:

1. take a plan serving everything, remove one route and put its requests in an ejection pool;
2. take a request from the pool; insert it where it fits. If it fits nowhere, raise its penalty
   counter and insert it by ejecting at most `MAX_EJECTED` requests from one route, choosing the
   ejection whose counters sum lowest (requests that were hard to place stay placed), put the
   ejected ones in the pool and perturb the plan with random feasible relocations;
3. an empty pool is a plan with one route fewer: record it and go back to 1.

Moves and feasibility are insertion.py's, on the OR-Tools model's own integers, so every plan
found is one the model accepts as a first solution.
"""

from __future__ import annotations

import time as _time
from itertools import combinations
from typing import TYPE_CHECKING

from matching.routing.insertion import PlannedRoute

if TYPE_CHECKING:
    from matching.routing.insertion import Plan

# Ejecting two requests from one route is what makes the search strong on tight windows; three
# multiplies the enumeration without helping on Li & Lim.
MAX_EJECTED = 2
# Random relocations tried after each ejection (the perturbation of the paper's step 2).
PERTURB_MOVES = 40
# The first try to empty a route gets 1/RESTARTS of the time (see minimise_fleet).
RESTARTS = 6


class _Ejection:
    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.penalty: dict[int, int] = {}

    def eject_insert(self, pickup: int) -> list[int]:
        """Insert `pickup` by ejecting at most MAX_EJECTED requests of one route, choosing the
        lowest sum of penalty counters (ties: the first found in a random order). Returns the
        ejected pickups; an empty list with the request still out means nothing worked."""
        pen = self.penalty
        best_sum = 1 << 62
        best: tuple[int, tuple[int, ...], int, int] | None = None
        order = list(range(len(self.plan.routes)))
        self.plan.rng.shuffle(order)
        data = self.plan.data
        for k in order:
            route = self.plan.routes[k]
            members = route.requests(data)
            self.plan.rng.shuffle(members)
            members.sort(key=lambda x: pen.get(x, 1))
            for size in range(1, MAX_EJECTED + 1):
                for group in combinations(members, size):
                    total = sum(pen.get(x, 1) for x in group)
                    if total >= best_sum:
                        continue  # cannot beat the ejection already found
                    gone = set(group) | {data.partner[x] for x in group}
                    trial = PlannedRoute(
                        route.vehicle, [s for s in route.stops if s not in gone], data
                    )
                    if not trial.ok:
                        continue
                    found = self.plan.insertions(trial, pickup, first=True)
                    if found:
                        best_sum = total
                        best = (k, group, found[0][1], found[0][2])
        if best is None:
            return []
        k, group, _, _ = best
        route = self.plan.routes[k]
        self.plan.remove(route, group)
        # the cheapest place in the route with the group out, not just the first found
        options = self.plan.insertions(route, pickup)
        _, i, j = min(options)
        self.plan.insert(route, pickup, i, j)
        return list(group)

    def perturb(self, moves: int) -> None:
        """Random feasible relocations of single requests between routes (diversification)."""
        routes = [r for r in self.plan.routes if len(r) > 0]
        if len(routes) < 2:
            return
        for _ in range(moves):
            src, dst = self.plan.rng.sample(routes, 2)
            members = src.requests(self.plan.data)
            if not members:
                continue
            pickup = self.plan.rng.choice(members)
            options = self.plan.insertions(dst, pickup)
            if not options:
                continue
            _, i, j = self.plan.rng.choice(options)
            self.plan.remove(src, [pickup])
            self.plan.insert(dst, pickup, i, j)

    # ---- one route fewer ----
    def drop_one_route(self, deadline: float, budget: list[int]) -> bool:
        used = [r for r in self.plan.routes if len(r) > 0]
        victim = self.plan.rng.choice(used)
        pool = victim.requests(self.plan.data)
        self.plan.rng.shuffle(pool)
        victim.stops = [victim.stops[0], victim.stops[-1]]
        victim.refresh(self.plan.data)
        active = [r for r in self.plan.routes if r is not victim and len(r) > 0]
        self.penalty = {}
        everyone = self.plan.routes
        self.plan.routes = active
        try:
            while pool:
                if budget[0] <= 0 or _time.perf_counter() > deadline:
                    return False
                budget[0] -= 1
                pickup = pool.pop()
                if self.plan.try_insert(pickup):
                    continue
                self.penalty[pickup] = self.penalty.get(pickup, 1) + 1
                ejected = self.eject_insert(pickup)
                if not ejected and not self._placed(pickup):
                    pool.insert(0, pickup)  # nothing worked now; try again after the others
                    continue
                pool.extend(ejected)
                self.perturb(PERTURB_MOVES)
            return True
        finally:
            # On failure the caller restores its snapshot of the whole plan.
            self.plan.routes = everyone

    def _placed(self, pickup: int) -> bool:
        return any(pickup in r.stops for r in self.plan.routes)


def minimise_fleet(
    plan: Plan,
    *,
    time_limit: float,
    lower_bound: int = 1,
    max_iterations: int | None = None,
    after_success: float = 1.0,
) -> bool:
    """Take vehicles out of `plan` (which serves every request) while the limits allow; True if
    at least one was taken out. `plan` is left as the plan with the fewest vehicles found.

    After each success only `after_success` of the remaining time and steps is used.
    Deterministic for the plan's random generator when stopped by `max_iterations` (requests
    taken from the pool) rather than by the clock.
    """
    deadline = _time.perf_counter() + time_limit
    search = _Ejection(plan)
    steps_left = max_iterations if max_iterations is not None else 1 << 62
    # The time to empty a route is heavy-tailed (Li & Lim lr211 from one plan, six seeds:
    # 1.2 to 6.8 s, and once nothing in 20 s), so a try that runs long is abandoned and a new
    # one starts from the same plan with another route, each allowed 1.5 times longer.
    try_seconds, try_steps = time_limit / RESTARTS, max(1, steps_left // RESTARTS)
    fewer = False
    while plan.vehicles_used - 1 >= max(1, lower_bound):
        now = _time.perf_counter()
        if now >= deadline or steps_left <= 0:
            break
        snapshot = plan.snapshot()
        budget = [min(steps_left, try_steps)]
        given = budget[0]
        done = search.drop_one_route(min(deadline, now + try_seconds), budget)
        steps_left -= given - budget[0]
        if not done:
            plan.restore(snapshot)
            try_seconds, try_steps = try_seconds * 1.5, int(try_steps * 1.5) + 1
            continue
        fewer = True
        # After a success, keep part of what is left for the caller (it shortens this plan):
        # one more vehicle out is rarer than the one just found.
        now = _time.perf_counter()
        deadline = now + (deadline - now) * after_success
        steps_left = int(steps_left * after_success)
    return fewer
