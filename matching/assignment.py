"""Batch assignment of waiting immediate ride requests to available drivers.

Every batch window (default 2 s) the rides service calls `assign(...)` with the requests still
waiting and the drivers free right now. Each request gets at most one driver and each driver at
most one request. Hard constraints: the driver's free seats cover the request's seats, a wheelchair
request gets a wheelchair-accessible vehicle, an "assistance" request gets a driver who offers it,
and the pickup takes at most `max_pickup_s`. A request that cannot be served comes back in
`unassigned` with the reason, never as an infeasible answer.

Why batch beats first-come greedy: greedy hands each request, in arrival order, its nearest free
driver, blind to the requests behind it. With riders A and B and drivers X and Y, where X is 2 min
from A and 3 min from B, and Y is 4 min from A but 20 min from B (or out of B's reach), greedy gives
X to A and leaves B with a 20-minute pickup (or none); the batch sees both and gives Y to A and X to
B: 7 minutes instead of 22, or two riders served instead of one. Over a busy window those conflicts
are everywhere; `bench/batch_assignment.py` measures the gain.

Objective, in strict order (lexicographic):

1. Serve as many requests as possible (a maximum matching).
2. Among those, serve as many *overdue* requests as possible: a request that has waited at least
   `WaitPriority.overdue_after_s` outranks any saving in pickup time. This is the bound on any one
   rider's wait: once overdue, a request loses its driver to nobody who is not overdue too.
   (Serving the most requests and serving the most overdue ones never conflict: the sets of
   requests that can be served together form a matroid, so any servable set of overdue requests
   extends to a maximum one.)
3. Minimise total pickup seconds minus an aging credit: each second a request has waited counts as
   `WaitPriority.aging_weight` seconds of pickup saved, so when two requests compete for the last
   nearby driver, the older one wins unless the younger one's pickup is clearly shorter. The credit
   is the same for every solution that serves the same requests, so it never changes which driver
   serves whom, only who is served.

Solved as a min-cost maximum flow (OR-Tools `SimpleMinCostFlow.solve_max_flow_with_min_cost`):
source -> request -> driver -> sink, unit capacities, integer costs (milliseconds plus the
priority credits). It is exact on the graph it is given:

- Up to `exact_up_to_edges` eligible pairs (default: 500,000 per second of `time_limit_s`; the
  bench's 1,000 x 2,000 city batch has about 400,000 and takes 0.5-0.7 s here) every eligible
  pair goes in and the status is OPTIMAL.
- Above that, each request keeps its `candidates_per_request` nearest eligible drivers, each driver
  its nearest eligible requests, plus greedy's own pairs (so the batch never serves fewer requests
  than greedy nor, without priorities, at a higher total pickup). Then an alternating-path search
  on the full eligible graph looks for a way to serve one more request; requests on that search
  tree get every eligible driver and the flow is solved again, until no such path exists (the
  number served is then the true maximum) or the time limit runs out. Status FEASIBLE (the pickup
  total is not proven minimal; the bench measures the gap: under 1 % on its city batch), or
  TIMED_OUT if widening stopped early.

Inputs are frozen dataclasses; travel comes from a `TravelTimeProvider` (drivers are the origins,
pickups the destinations) or a precomputed `TravelMatrix` of shape (drivers, requests). Pure:
no clock reads (`now_s` is passed in), no I/O besides what the provider does.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

import numpy as np
from ortools.graph.python import min_cost_flow

from matching.status import InvalidProblem, SolveStatus
from matching.travel import LatLon, TravelMatrix, TravelTimeProvider, validate_points

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import NDArray

EXACT_EDGES_PER_SECOND = 500_000  # measured on the 2-core dev machine, flow plus set-up
COST_SCALE = 1000  # flow costs are integers: pickup in milliseconds
MAX_AGING_S = 6 * 3600.0  # waits beyond this earn no more aging credit (keeps costs in int64)


@dataclass(frozen=True)
class Request:
    """A rider waiting for an immediate ride. `waiting_since_s` is on the same clock as `now_s`."""

    id: str
    pickup: LatLon
    seats: int = 1
    wheelchair: bool = False
    assistance: bool = False
    waiting_since_s: float = 0.0


@dataclass(frozen=True)
class Driver:
    """An on-duty driver free to take a ride now, at `position`."""

    id: str
    position: LatLon
    free_seats: int
    wheelchair: bool = False
    assistance: bool = False


@dataclass(frozen=True)
class WaitPriority:
    """How waiting time weighs in the objective (see the module docstring).

    aging_weight: seconds of pickup a request may cost more per second it has waited (0 = none).
    overdue_after_s: from this wait on, a request outranks every non-overdue one (None = never).
    """

    aging_weight: float = 0.5
    overdue_after_s: float | None = 300.0


NO_PRIORITY = WaitPriority(aging_weight=0.0, overdue_after_s=None)


class UnassignedReason(StrEnum):
    """Why a request got no driver in this batch (checked in this order)."""

    NO_DRIVERS = "no_drivers"  # no driver is free at all
    NO_WHEELCHAIR_VEHICLE = "no_wheelchair_vehicle"  # none of the free vehicles takes a wheelchair
    NO_ASSISTANCE_DRIVER = "no_assistance_driver"  # no suitable driver offers assistance
    NOT_ENOUGH_SEATS = "not_enough_seats"  # no suitable driver has that many free seats
    NO_DRIVER_WITHIN_MAX_PICKUP = "no_driver_within_max_pickup"  # suitable ones all too far
    DRIVERS_TAKEN = "drivers_taken"  # eligible drivers exist, all serve requests with better fit


@dataclass(frozen=True)
class Assignment:
    request_id: str
    driver_id: str
    pickup_s: float


@dataclass(frozen=True)
class Unassigned:
    request_id: str
    reason: UnassignedReason


@dataclass(frozen=True)
class AssignmentResult:
    """What a batch decided. `assignments` and `unassigned` follow the order of the input requests.

    method: "min_cost_flow" (exact on the candidate graph), "greedy" (the baseline), or
    "greedy_fallback" (the flow solver failed; greedy's answer is returned, status FEASIBLE).
    candidate_edges: request-driver pairs the solver considered; eligible_edges: all of them.
    """

    status: SolveStatus
    assignments: tuple[Assignment, ...]
    unassigned: tuple[Unassigned, ...]
    total_pickup_s: float
    method: str
    solve_seconds: float = field(default=0.0, compare=False)  # wall clock: not part of the answer
    candidate_edges: int = 0
    eligible_edges: int = 0
    widening_rounds: int = 0
    driver_by_request: dict[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        pairs = {a.request_id: a.driver_id for a in self.assignments}
        object.__setattr__(self, "driver_by_request", pairs)

    @property
    def assigned_count(self) -> int:
        return len(self.assignments)


def assign(
    requests: Sequence[Request],
    drivers: Sequence[Driver],
    *,
    travel: TravelTimeProvider | TravelMatrix,
    max_pickup_s: float,
    now_s: float | None = None,
    priority: WaitPriority = WaitPriority(),  # frozen: a shared default is safe
    candidates_per_request: int | None = 24,
    exact_up_to_edges: int | None = None,
    time_limit_s: float = 1.0,
    seed: int = 0,
) -> AssignmentResult:
    """Assign waiting requests to free drivers (see the module docstring for the objective).

    now_s: the batch time, on the clock of `waiting_since_s`; None means the newest request's
      `waiting_since_s` (waits are then relative to it).
    candidates_per_request: nearest eligible drivers kept per request (and requests per driver)
      when the batch has more than `exact_up_to_edges` eligible pairs; None keeps them all
      (always exact, slow when huge).
    exact_up_to_edges: None sizes it from the time limit (EXACT_EDGES_PER_SECOND x time_limit_s).
    time_limit_s: chooses exact vs pruned and bounds the widening rounds; one flow solve is not
      interruptible, so a solve may overrun it (~0.25 s for a pruned 1,000 x 2,000 batch here).
    seed: accepted for the common solver signature; min-cost flow is deterministic, so the answer
      depends on the inputs (and their order, for ties) only.
    """
    del seed  # deterministic solver: nothing to seed
    started = time.perf_counter()
    if not time_limit_s > 0:
        raise InvalidProblem(f"time_limit_s must be > 0, got {time_limit_s}")
    if candidates_per_request is not None and candidates_per_request < 1:
        raise InvalidProblem(f"candidates_per_request must be >= 1, got {candidates_per_request}")
    _check_priority(priority)
    problem = _Problem.build(requests, drivers, travel, max_pickup_s, now_s)

    eligible_edges = int(problem.eligible.sum())
    if not eligible_edges:
        return problem.result(SolveStatus.OPTIMAL, {}, "min_cost_flow", started, 0, 0, 0)

    k = candidates_per_request
    if exact_up_to_edges is None:
        exact_up_to_edges = int(EXACT_EDGES_PER_SECOND * time_limit_s)
    exact = k is None or eligible_edges <= exact_up_to_edges
    if k is None or exact:
        candidates = problem.eligible.copy()
    else:
        candidates = _nearest(problem.masked, k)
        for r, d in _greedy_pairs(
            problem
        ).items():  # greedy's pairs: the batch can then never do worse
            candidates[r, d] = True

    credits = _credits(problem, priority)
    pairs = _solve_flow(problem, candidates, credits)
    if pairs is None:  # not expected (unit capacities, int64 costs), but never hide it
        greedy = _greedy_pairs(problem)
        return problem.result(
            SolveStatus.FEASIBLE, greedy, "greedy_fallback", started, eligible_edges, 0, 0
        )

    status = SolveStatus.OPTIMAL if exact else SolveStatus.FEASIBLE
    rounds = 0
    while not exact:
        # Pruning may hide a way to serve one more request: an augmenting path through drivers
        # outside the kept lists. Search for one on the full eligible graph; if found, give every
        # request on the search tree all its eligible drivers and solve again.
        tree = _augmenting_tree(problem, pairs)
        if tree is None:
            break  # no augmenting path: the most requests that can be served are served
        if time.perf_counter() - started >= time_limit_s / 2:  # a round costs about one solve
            status = SolveStatus.TIMED_OUT
            break
        candidates[tree] = problem.eligible[tree]
        rounds += 1
        better = _solve_flow(problem, candidates, credits)
        if better is None:
            break
        pairs = better
    return problem.result(
        status, pairs, "min_cost_flow", started, eligible_edges, int(candidates.sum()), rounds
    )


def greedy_assign(
    requests: Sequence[Request],
    drivers: Sequence[Driver],
    *,
    travel: TravelTimeProvider | TravelMatrix,
    max_pickup_s: float,
) -> AssignmentResult:
    """First come, first served: in order of `waiting_since_s` (then input order), each request
    takes its nearest eligible driver still free. The baseline the batch is measured against.
    """
    started = time.perf_counter()
    problem = _Problem.build(requests, drivers, travel, max_pickup_s, None)
    pairs = _greedy_pairs(problem)
    edges = int(problem.eligible.sum())
    return problem.result(SolveStatus.FEASIBLE, pairs, "greedy", started, edges, edges, 0)


@dataclass(frozen=True, eq=False)
class _Problem:
    requests: Sequence[Request]
    drivers: Sequence[Driver]
    seconds: NDArray[np.float64]  # (requests, drivers) pickup seconds; inf = no route
    eligible: NDArray[np.bool_]  # (requests, drivers) every hard constraint holds
    masked: NDArray[np.float64]  # seconds where eligible, else inf
    waited_s: NDArray[np.float64]  # (requests,)

    @property
    def n_requests(self) -> int:
        return len(self.requests)

    @classmethod
    def build(
        cls,
        requests: Sequence[Request],
        drivers: Sequence[Driver],
        travel: TravelTimeProvider | TravelMatrix,
        max_pickup_s: float,
        now_s: float | None,
    ) -> _Problem:
        _validate(requests, drivers, max_pickup_s)
        since = np.array([r.waiting_since_s for r in requests], dtype=np.float64)
        if not np.isfinite(since).all():
            raise InvalidProblem("waiting_since_s must be finite")
        newest = float(since.max()) if since.size else 0.0
        now = newest if now_s is None else float(now_s)
        late = np.flatnonzero(since > now)
        if late.size:
            r = requests[int(late[0])]
            raise InvalidProblem(
                f"request {r.id!r} waits since {r.waiting_since_s}, after now_s={now}"
            )
        seconds = _pickup_seconds(requests, drivers, travel)

        seats = np.array([r.seats for r in requests], dtype=np.int64)
        free = np.array([d.free_seats for d in drivers], dtype=np.int64)
        needs_wc = np.array([r.wheelchair for r in requests], dtype=bool)
        has_wc = np.array([d.wheelchair for d in drivers], dtype=bool)
        needs_as = np.array([r.assistance for r in requests], dtype=bool)
        has_as = np.array([d.assistance for d in drivers], dtype=bool)
        eligible = (
            (free[None, :] >= seats[:, None])
            & (has_wc[None, :] | ~needs_wc[:, None])
            & (has_as[None, :] | ~needs_as[:, None])
            & np.isfinite(seconds)
            & (seconds <= max_pickup_s)
        )
        masked = np.where(eligible, seconds, math.inf)
        return cls(requests, drivers, seconds, eligible, masked, now - since)

    def reason(self, r: int) -> UnassignedReason:
        """Why request r could not be served: the first hard constraint that leaves nobody."""
        if self.eligible[r].any():
            return UnassignedReason.DRIVERS_TAKEN
        request = self.requests[r]
        pool = list(self.drivers)
        if not pool:
            return UnassignedReason.NO_DRIVERS
        if request.wheelchair:
            pool = [d for d in pool if d.wheelchair]
            if not pool:
                return UnassignedReason.NO_WHEELCHAIR_VEHICLE
        if request.assistance:
            pool = [d for d in pool if d.assistance]
            if not pool:
                return UnassignedReason.NO_ASSISTANCE_DRIVER
        if not any(d.free_seats >= request.seats for d in pool):
            return UnassignedReason.NOT_ENOUGH_SEATS
        return UnassignedReason.NO_DRIVER_WITHIN_MAX_PICKUP

    def result(
        self,
        status: SolveStatus,
        pairs: dict[int, int],
        method: str,
        started: float,
        eligible_edges: int,
        candidate_edges: int,
        rounds: int,
    ) -> AssignmentResult:
        assignments = tuple(
            Assignment(self.requests[r].id, self.drivers[d].id, float(self.seconds[r, d]))
            for r, d in sorted(pairs.items())
        )
        unassigned = tuple(
            Unassigned(self.requests[r].id, self.reason(r))
            for r in range(self.n_requests)
            if r not in pairs
        )
        return AssignmentResult(
            status=status,
            assignments=assignments,
            unassigned=unassigned,
            total_pickup_s=float(sum(a.pickup_s for a in assignments)),
            method=method,
            solve_seconds=time.perf_counter() - started,
            candidate_edges=candidate_edges,
            eligible_edges=eligible_edges,
            widening_rounds=rounds,
        )


def _validate(requests: Sequence[Request], drivers: Sequence[Driver], max_pickup_s: float) -> None:
    if math.isnan(max_pickup_s) or max_pickup_s < 0:
        raise InvalidProblem(f"max_pickup_s must be >= 0, got {max_pickup_s}")
    for kind, ids in (("request", [r.id for r in requests]), ("driver", [d.id for d in drivers])):
        seen: set[str] = set()
        for item_id in ids:
            if item_id in seen:
                raise InvalidProblem(f"duplicate {kind} id {item_id!r}")
            seen.add(item_id)
    for r in requests:
        if isinstance(r.seats, bool) or not isinstance(r.seats, int) or r.seats < 1:
            raise InvalidProblem(
                f"request {r.id!r}: seats must be a positive integer, got {r.seats}"
            )
    for d in drivers:
        if isinstance(d.free_seats, bool) or not isinstance(d.free_seats, int) or d.free_seats < 0:
            raise InvalidProblem(
                f"driver {d.id!r}: free_seats must be a non-negative integer, got {d.free_seats}"
            )


def _check_priority(priority: WaitPriority) -> None:
    if not (math.isfinite(priority.aging_weight) and priority.aging_weight >= 0):
        raise InvalidProblem(f"aging_weight must be >= 0, got {priority.aging_weight}")
    after = priority.overdue_after_s
    if after is not None and not (math.isfinite(after) and after >= 0):
        raise InvalidProblem(f"overdue_after_s must be >= 0, got {after}")


def _pickup_seconds(
    requests: Sequence[Request],
    drivers: Sequence[Driver],
    travel: TravelTimeProvider | TravelMatrix,
) -> NDArray[np.float64]:
    """(requests, drivers) seconds from each driver to each pickup."""
    if isinstance(travel, TravelMatrix):
        if travel.shape != (len(drivers), len(requests)):
            raise InvalidProblem(
                f"travel matrix has shape {travel.shape}, expected (drivers, requests) = "
                f"({len(drivers)}, {len(requests)})"
            )
        matrix = travel
    else:
        validate_points([r.pickup for r in requests], "request pickup")
        validate_points([d.position for d in drivers], "driver position")
        matrix = travel.matrix([d.position for d in drivers], [r.pickup for r in requests])
    return np.ascontiguousarray(matrix.seconds.T, dtype=np.float64)


def _greedy_pairs(problem: _Problem) -> dict[int, int]:
    order = sorted(range(problem.n_requests), key=lambda r: problem.requests[r].waiting_since_s)
    taken = np.zeros(len(problem.drivers), dtype=bool)
    pairs: dict[int, int] = {}
    for r in order:
        row = np.where(taken, math.inf, problem.masked[r])
        d = int(np.argmin(row)) if row.size else -1
        if d >= 0 and math.isfinite(row[d]):
            pairs[r] = d
            taken[d] = True
    return pairs


def _nearest(masked: NDArray[np.float64], k: int) -> NDArray[np.bool_]:
    """Boolean (requests, drivers): each request's k nearest eligible drivers, and each driver's
    k nearest eligible requests. The second half matters where demand bunches up: the optimum
    sends drivers from the edge of a hot spot, who are nobody's nearest but have a nearest.
    """
    keep = np.zeros(masked.shape, dtype=bool)
    n_requests, n_drivers = masked.shape
    if k >= n_drivers:
        keep[:] = True
    else:
        nearest = np.argpartition(masked, k - 1, axis=1)[:, :k]
        keep[np.repeat(np.arange(n_requests), k), nearest.ravel()] = True
    if k >= n_requests:
        keep[:] = True
    else:
        nearest = np.argpartition(masked, k - 1, axis=0)[:k, :]
        keep[nearest.ravel(), np.tile(np.arange(n_drivers), k)] = True
    return keep & np.isfinite(masked)


def _augmenting_tree(problem: _Problem, pairs: dict[int, int]) -> NDArray[np.bool_] | None:
    """Requests reached by alternating paths from unserved ones, if such a path ends at a free
    eligible driver (so one more request could be served); None when the matching is maximum
    on the full eligible graph (Berge). Breadth-first, all unserved requests at once.
    """
    n_requests, n_drivers = problem.eligible.shape
    serving = np.full(n_drivers, -1, dtype=np.int64)  # driver -> request it serves
    for r, d in pairs.items():
        serving[d] = r
    frontier = np.ones(n_requests, dtype=bool)
    frontier[list(pairs)] = False
    frontier &= problem.eligible.any(axis=1)
    tree = frontier.copy()
    seen = np.zeros(n_drivers, dtype=bool)
    while frontier.any():
        reached = problem.eligible[frontier].any(axis=0) & ~seen
        if (reached & (serving < 0)).any():
            return tree
        seen |= reached
        frontier = np.zeros(n_requests, dtype=bool)
        frontier[serving[reached]] = True
        frontier &= ~tree
        tree |= frontier
    return None


def _credits(problem: _Problem, priority: WaitPriority) -> NDArray[np.int64]:
    """Per-request credit subtracted from every arc cost of that request (integer ms units)."""
    waited = np.minimum(problem.waited_s, MAX_AGING_S)
    aging = np.rint(priority.aging_weight * waited * COST_SCALE).astype(np.int64)
    credits = aging.copy()
    if priority.overdue_after_s is not None:
        overdue = problem.waited_s >= priority.overdue_after_s
        if overdue.any():
            longest = float(np.max(problem.masked, where=problem.eligible, initial=0.0))
            max_pickup = int(np.ceil(longest * COST_SCALE))
            matched_max = min(problem.n_requests, len(problem.drivers))
            # Larger than any difference in (pickup - aging) between two solutions of equal size,
            # so one more overdue request served always wins.
            tier = (max_pickup + int(aging.max()) + 1) * matched_max + 1
            credits[overdue] += tier
    return credits


def _solve_flow(
    problem: _Problem, candidates: NDArray[np.bool_], credits: NDArray[np.int64]
) -> dict[int, int] | None:
    """Min-cost maximum flow on the candidate pairs; request index -> driver index, or None."""
    req_idx, drv_idx = np.nonzero(candidates)
    n_req, n_drv = candidates.shape
    source, sink = 0, 1 + n_req + n_drv
    pickup = np.rint(problem.seconds[req_idx, drv_idx] * COST_SCALE).astype(np.int64)
    # Every solution serves the same (maximum) number of requests, so adding the same offset to
    # every pair keeps the optimum and makes all costs non-negative.
    offset = int(credits.max()) if credits.size else 0
    cost = pickup + offset - credits[req_idx]

    used_req = np.unique(req_idx)
    used_drv = np.unique(drv_idx)
    tails = np.concatenate(
        [np.full(used_req.size, source), 1 + req_idx, 1 + n_req + used_drv]
    ).astype(np.int32)
    heads = np.concatenate(
        [1 + used_req, 1 + n_req + drv_idx, np.full(used_drv.size, sink)]
    ).astype(np.int32)
    costs = np.concatenate(
        [np.zeros(used_req.size, np.int64), cost, np.zeros(used_drv.size, np.int64)]
    )
    flow = min_cost_flow.SimpleMinCostFlow()
    arcs = flow.add_arcs_with_capacity_and_unit_cost(
        tails, heads, np.ones(tails.size, dtype=np.int64), costs
    )
    flow.set_node_supply(source, int(used_req.size))
    flow.set_node_supply(sink, -int(used_req.size))
    if flow.solve_max_flow_with_min_cost() != flow.OPTIMAL:
        return None
    pair_arcs = arcs[used_req.size : used_req.size + req_idx.size]
    chosen = np.flatnonzero(flow.flows(pair_arcs) > 0)
    return {int(req_idx[i]): int(drv_idx[i]) for i in chosen}
