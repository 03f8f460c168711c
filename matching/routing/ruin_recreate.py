"""Shorten a pickup-and-delivery plan with its fleet fixed, by ruin and recreate.

A plan just cut to fewer vehicles by the ejection search is tight: on Li & Lim lc103 every pair
move OR-Tools' guided local search tries is infeasible, and 30 s of it left the 9-vehicle plan at
1,296 against the best known 1,035. Removing a handful of related requests at once and putting
them back at their cheapest places moves through that space. After SISR (Christiaens & Vanden
Berghe, "Slack induction by string removals", 2020), simplified: remove a request and the
requests nearest to it (pickup to pickup plus drop-off to drop-off), reinsert them one by one at
the cheapest feasible place with an occasional "blink" (a candidate skipped), in a random order
or tightest window first, and accept by simulated annealing. The fleet never grows: requests go
back only into routes that were in use.
"""

from __future__ import annotations

import math
import time as _time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matching.routing.insertion import Plan

# Requests removed per step: from 2 up to this many (and at most a quarter of them).
MAX_REMOVED = 12
# Chance that a cheapest-insertion candidate is skipped (SISR's blinks): diversity for free.
BLINK = 0.01
# Annealing temperatures as fractions of the plan's mean arc length, hot to cold.
START_TEMPERATURE = 0.5
END_TEMPERATURE = 0.01


def shorten(plan: Plan, *, time_limit: float, max_iterations: int | None = None) -> bool:
    """Shorten `plan` in place within the limits; True if it got shorter. The plan keeps
    serving every request it served, on no more vehicles.

    Deterministic for the plan's random generator when stopped by `max_iterations` rather than
    by the clock (the temperature then follows the iteration count).
    """
    data, rng = plan.data, plan.rng
    placed = [p for route in plan.routes for p in route.requests(data)]
    if len(placed) < 2 or time_limit <= 0:
        return False
    cost, partner = data.cost, data.partner

    def related(p: int) -> list[int]:
        """Every placed request, nearest to p first (p itself first)."""
        return sorted(placed, key=lambda o: cost[p][o] + cost[partner[p]][partner[o]])

    nearest = {p: related(p) for p in placed}
    where = {p: route for route in plan.routes for p in route.requests(data)}
    current = initial = plan.distance
    best, best_snapshot = current, plan.snapshot()
    arcs = sum(len(r.stops) - 1 for r in plan.routes if len(r) > 0)
    mean_arc = current / max(1, arcs)
    hot, cold = START_TEMPERATURE * mean_arc, END_TEMPERATURE * mean_arc
    most = max(2, min(MAX_REMOVED, len(placed) // 4))
    start = _time.perf_counter()
    step = 0
    while True:
        if max_iterations is not None:
            if step >= max_iterations:
                break
            progress = step / max_iterations
        else:
            progress = (_time.perf_counter() - start) / time_limit
            if progress >= 1:
                break
        step += 1
        temperature = hot * (cold / hot) ** progress if hot > 0 else 0.0
        snapshot = plan.snapshot()
        open_routes = [r for r in plan.routes if len(r) > 0]
        seed_request = rng.choice(placed)
        removed = nearest[seed_request][: rng.randint(2, most)]
        by_route: dict[int, list[int]] = {}
        for p in removed:
            by_route.setdefault(id(where[p]), []).append(p)
        for p in removed:
            group = by_route.pop(id(where[p]), None)
            if group:
                plan.remove(where[p], group)
        if rng.random() < 0.5:
            rng.shuffle(removed)
        else:
            removed.sort(key=lambda p: data.hi[p] - data.lo[p])
        ok = True
        for p in removed:
            choice = None
            for route in open_routes:
                for delta, i, j in plan.insertions(route, p):
                    if (choice is None or delta < choice[0]) and rng.random() >= BLINK:
                        choice = (delta, route, i, j)
            if choice is None:
                ok = False
                break
            plan.insert(choice[1], p, choice[2], choice[3])
            where[p] = choice[1]
        candidate = plan.distance if ok else math.inf
        accept = ok and (
            candidate < current
            or (temperature > 0 and rng.random() < math.exp((current - candidate) / temperature))
        )
        if accept:
            current = candidate
            if candidate < best - 1e-9:
                best, best_snapshot = candidate, plan.snapshot()
        else:
            plan.restore(snapshot)
            for route in plan.routes:
                for p in route.requests(data):
                    where[p] = route
    plan.restore(best_snapshot)
    return best < initial - 1e-9
