"""Re-plan from a current plan when bookings are added or cancelled, keeping every promise."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from matching.routing.problem import (
    Node,
    Promise,
    Request,
    Route,
    RoutingProblem,
    RoutingResult,
)
from matching.routing.search import SearchOptions
from matching.routing.solver import solve_with
from matching.status import InvalidProblem

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence


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
    return solve_with(
        new_problem,
        time_limit=time_limit,
        seed=seed,
        drop_penalty=drop_penalty,
        solution_limit=solution_limit,
        search=search or SearchOptions(),
        initial=initial,
        mandatory=frozenset(served_now),
    )
