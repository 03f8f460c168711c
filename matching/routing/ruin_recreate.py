"""Shorten a pickup-and-delivery plan with its fleet fixed, by ruin and recreate.

A plan just cut to fewer vehicles by the ejection search is tight and long (on Li & Lim 60-80 %
above the best-known distance): almost every pair move OR-Tools' guided local search tries is
infeasible, and 30 s of it leaves the plan where it is. Removing a few strings of consecutive
stops from neighbouring routes and putting their requests back one by one moves through that
space. This is SISR (Christiaens & Vanden Berghe, "Slack induction by string removals for
vehicle routing problems", Transportation Science 2020) for pairs:

- ruin: from a random stop, walk its nearest stops; from each route met (up to a random number
  of routes) remove a string of consecutive stops containing the stop met. A stop going takes
  its partner with it, so whole requests come out;
- recreate: put the requests back in a random order, or farthest from the depot first, nearest
  first, or tightest window first, each at its cheapest feasible place over the routes in use,
  a candidate place skipped now and then ("blinks") for diversity;
- accept by simulated annealing, hot to cold over the chain.

A chain converges within seconds and then stays where it is (Li & Lim from the ejection plans,
34 s chains: the best was found after 0.2-16 s, and one chain in three stayed 12-25 % above the
best known). So the time is cut into independent chains from the same plan (`CHAIN_SECONDS`
each) and the shortest plan wins. The fleet never grows: requests go back only into routes
that were in use.
"""

from __future__ import annotations

import math
import time as _time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import random

    from matching.routing.insertion import Plan, PlannedRoute

# Mean stops removed per step (SISR's c-bar) and the longest string (L_max), the paper's values.
MEAN_REMOVED = 10
MAX_STRING = 10
# Chance that a cheapest-insertion candidate is skipped (SISR's blinks).
BLINK = 0.01
# Annealing temperatures as fractions of the plan's mean arc length, hot to cold. Li & Lim, the
# five ejection plans one chain at 0.5 left furthest from the best known (lc103, lc109, lr209,
# lrc203, lrc207), 34 s: mean gap 19.3 % at 0.5, 3.2 and 7.2 % at 2.0 (two runs).
START_TEMPERATURE = 2.0
END_TEMPERATURE = 0.01
# Seconds per chain (see the module docstring). Li & Lim, 11 ejection plans, 34 s: six chains
# 0.17 and 2.46 % mean gap (two runs) against 5.8 % for one chain.
CHAIN_SECONDS = 6.0
MAX_CHAINS = 8


def shorten(plan: Plan, *, time_limit: float, max_iterations: int | None = None) -> bool:
    """Shorten `plan` in place within the limits; True if it got shorter. The plan keeps
    serving every request it served, on no more vehicles.

    Deterministic for the plan's random generator when stopped by `max_iterations` rather than
    by the clock (each chain's temperature then follows its iteration count).
    """
    if time_limit <= 0 or sum(len(r) for r in plan.routes) < 4:  # fewer than two requests
        return False
    chains = max(1, min(MAX_CHAINS, round(time_limit / CHAIN_SECONDS)))
    start = plan.snapshot()
    chain = _Chain(plan)  # every chain starts from the same plan, so from the same neighbours
    initial = best = plan.distance
    best_snapshot = start
    deadline = _time.perf_counter() + time_limit
    steps = None if max_iterations is None else max(1, max_iterations // chains)
    for k in range(chains):
        seconds = (deadline - _time.perf_counter()) / (chains - k)
        if seconds <= 0 and steps is None:
            break
        plan.restore(start)
        chain.run(seconds, steps)
        if plan.distance < best - 1e-9:
            best, best_snapshot = plan.distance, plan.snapshot()
    plan.restore(best_snapshot)
    return best < initial - 1e-9


class _Chain:
    """One simulated-annealing run of string removal and greedy reinsertion."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        data = plan.data
        self.routes = [r for r in plan.routes if len(r) > 0]
        stops = [s for r in self.routes for s in r.stops[1:-1]]
        self.stops = stops
        cost = data.cost
        self.nearest = {s: sorted(stops, key=cost[s].__getitem__) for s in stops}
        depot = data.starts[self.routes[0].vehicle]
        self.depot_distance = {
            s: cost[depot][s] + cost[depot][data.partner[s]] for s in stops if data.is_pickup[s]
        }

    def run(self, seconds: float, steps: int | None) -> None:
        plan, rng = self.plan, self.plan.rng
        current = best = plan.distance
        best_snapshot = plan.snapshot()
        arcs = sum(len(r.stops) - 1 for r in self.routes)
        mean_arc = current / max(1, arcs)
        hot, cold = START_TEMPERATURE * mean_arc, END_TEMPERATURE * mean_arc
        start = _time.perf_counter()
        step = 0
        while True:
            if steps is not None:
                if step >= steps:
                    break
                progress = step / steps
            else:
                progress = (_time.perf_counter() - start) / seconds if seconds > 0 else 1.0
                if progress >= 1:
                    break
            step += 1
            temperature = hot * (cold / hot) ** progress if hot > 0 else 0.0
            snapshot = plan.snapshot()
            removed = self._ruin(rng)
            ok = self._recreate(removed, rng)
            candidate = plan.distance if ok else math.inf
            accept = ok and (
                candidate < current
                or (
                    temperature > 0 and rng.random() < math.exp((current - candidate) / temperature)
                )
            )
            if accept:
                current = candidate
                if candidate < best - 1e-9:
                    best, best_snapshot = candidate, plan.snapshot()
            else:
                plan.restore(snapshot)
        plan.restore(best_snapshot)

    def _ruin(self, rng: random.Random) -> list[int]:
        """Remove strings of stops from routes near a random stop; the pickups taken out."""
        data = self.plan.data
        partner, is_pickup = data.partner, data.is_pickup
        where: dict[int, PlannedRoute] = {s: r for r in self.routes for s in r.stops[1:-1]}
        mean_len = sum(len(r.stops) - 2 for r in self.routes) / len(self.routes)
        longest = min(MAX_STRING, mean_len)
        most_routes = 4 * MEAN_REMOVED / (1 + longest) - 1
        routes_to_ruin = int(rng.uniform(1, most_routes + 1))
        removed: dict[int, None] = {}  # pickups, in the order met
        ruined: set[int] = set()
        for stop in self.nearest[rng.choice(self.stops)]:
            if len(ruined) >= routes_to_ruin:
                break
            route = where[stop]
            if id(route) in ruined:
                continue
            ruined.add(id(route))
            stops = route.stops
            inner = len(stops) - 2
            length = int(rng.uniform(1, min(inner, longest) + 1))
            at = stops.index(stop)
            first = max(1, min(at - rng.randrange(length), inner + 1 - length))
            for s in stops[first : first + length]:
                removed[s if is_pickup[s] else partner[s]] = None
        by_route: dict[int, tuple[PlannedRoute, list[int]]] = {}
        for p in removed:
            by_route.setdefault(id(where[p]), (where[p], []))[1].append(p)
        for route, group in by_route.values():
            self.plan.remove(route, group)
        return list(removed)

    def _recreate(self, removed: list[int], rng: random.Random) -> bool:
        """Reinsert `removed` greedily in one of SISR's orders (plus tightest window first);
        False if one fits nowhere."""
        data, plan = self.plan.data, self.plan
        order = rng.random()
        if order < 0.4:
            rng.shuffle(removed)
        elif order < 0.6:
            removed.sort(key=lambda p: -self.depot_distance[p])
        elif order < 0.7:
            removed.sort(key=lambda p: self.depot_distance[p])
        else:
            removed.sort(key=lambda p: data.hi[p] - data.lo[p])
        for p in removed:
            choice: tuple[float, PlannedRoute, int, int] | None = None
            for route in self.routes:
                for delta, i, j in plan.insertions(route, p):
                    if (choice is None or delta < choice[0]) and rng.random() >= BLINK:
                        choice = (delta, route, i, j)
            if choice is None:
                return False
            plan.insert(choice[1], p, choice[2], choice[3])
        return True
