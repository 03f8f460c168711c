"""Build the OR-Tools routing model for a RoutingProblem (data -> model -> dimensions -> constraints
-> objective) and read a solution back into real-valued routes.

Integer scaling: OR-Tools routing wants integer arcs. Times are scaled by TIME_SCALE and every
travel-plus-service transit is rounded UP, window starts UP and window ends, ride-time limits and
route-duration limits DOWN. The model is therefore at least as tight as the real problem, so any
model schedule divided by TIME_SCALE is feasible in exact real arithmetic. Costs are scaled
separately (rounded to nearest): they never decide feasibility.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ortools.constraint_solver import pywrapcp

from matching.routing.problem import Request, Route, RoutingProblem, Visit, VisitKind

TIME_SCALE = 1000
COST_SCALE = 100_000


def _up(value: float) -> int:
    # The tiny allowance stops float noise (3.0000000000004) from costing a whole tick.
    return math.ceil(value * TIME_SCALE - 1e-7)


def _down(value: float) -> int:
    return math.floor(value * TIME_SCALE + 1e-7)


@dataclass(frozen=True)
class ModelOptions:
    """Knobs of the model that change the objective, not the constraints."""

    drop_penalty: float | None = None  # None: every request must be served
    span_weight: float = 0.0  # cost per time unit of route duration, discourages idle waiting
    # Requests that may never be dropped even when drop_penalty is set (promised rides).
    mandatory: frozenset[str] = frozenset()
    # Polishing phase for fleets with fixed costs: at most this many vehicles, fixed costs left
    # out of the objective (see solver._polish_distance for why).
    max_vehicles: int | None = None
    ignore_fixed_costs: bool = False


@dataclass
class BuiltModel:
    """The OR-Tools objects plus the maps needed to read a solution back."""

    problem: RoutingProblem
    manager: pywrapcp.RoutingIndexManager
    routing: pywrapcp.RoutingModel
    time: pywrapcp.RoutingDimension
    node_ids: list[int]  # model node -> problem node id
    model_node: dict[int, int]  # problem node id -> model node
    request_of_node: dict[int, Request]
    droppable: bool  # the model has disjunctions (always true: see build_model)
    # The penalty of leaving out one stop that must be served: an objective at or above it
    # means some mandatory request is out of the plan.
    must_serve_penalty: int = 0
    # transit[a][b]: the model's integer time from model node a to b (service at a + travel,
    # rounded up), for searches outside OR-Tools that must agree with it (see ejection.py).
    transit: list[list[int]] = field(default_factory=list)


def horizon_of(problem: RoutingProblem) -> float:
    """A finite end of time for open windows: nothing useful can happen after it."""
    finite = [n.latest for n in problem.nodes if math.isfinite(n.latest)]
    slack = sum(n.service for n in problem.nodes)
    slack += sum(
        max((problem.travel(a.id, b.id) for b in problem.nodes), default=0.0) for a in problem.nodes
    )
    base = max([*finite, *(n.earliest for n in problem.nodes)])
    return base + slack if not finite or len(finite) < len(problem.nodes) else base


def tightened_windows(problem: RoutingProblem, horizon: float) -> dict[int, tuple[float, float]]:
    """Service windows of request stops narrowed by what the other stop of the pair implies.

    Cordeau-style preprocessing: a drop-off cannot start before its pickup's window opens plus
    service and direct travel; with a ride-time limit a pickup cannot start much before its
    drop-off window opens; nothing starts before the earliest vehicle can get there. The feasible
    set is unchanged, but insertion heuristics and propagation stop trying hopeless slots, which
    on tight dial-a-ride instances decides whether a first plan is found at all.
    """
    out: dict[int, tuple[float, float]] = {}
    first_start = min(
        problem.node(v.start).earliest + problem.node(v.start).service for v in problem.vehicles
    )
    last_end = max(min(problem.node(v.end).latest, horizon) for v in problem.vehicles)
    for r in problem.requests:
        p, d = problem.node(r.pickup), problem.node(r.dropoff)
        direct = problem.travel(r.pickup, r.dropoff)
        reach_p = min(
            problem.node(v.start).earliest
            + problem.node(v.start).service
            + problem.travel(v.start, r.pickup)
            for v in problem.vehicles
        )
        back_d = max(
            min(problem.node(v.end).latest, horizon) - problem.travel(r.dropoff, v.end)
            for v in problem.vehicles
        )
        ep, lp = max(p.earliest, reach_p, first_start), min(p.latest, horizon)
        ed, ld = max(d.earliest, first_start), min(d.latest, back_d - d.service, last_end)
        for _ in range(2):
            ed = max(ed, ep + p.service + direct)
            lp = min(lp, ld - p.service - direct)
            if r.max_ride_time is not None:
                ep = max(ep, ed - p.service - r.max_ride_time)
                ld = min(ld, lp + p.service + r.max_ride_time)
        out[r.pickup] = (ep, lp)
        out[r.dropoff] = (ed, ld)
    return out


def build_model(problem: RoutingProblem, options: ModelOptions) -> BuiltModel:
    # ---- data: the nodes the model routes over (depots first, then request stops) ----
    node_ids: list[int] = []
    model_node: dict[int, int] = {}

    def add(node_id: int) -> int:
        if node_id not in model_node:
            model_node[node_id] = len(node_ids)
            node_ids.append(node_id)
        return model_node[node_id]

    starts = [add(v.start) for v in problem.vehicles]
    ends = [add(v.end) for v in problem.vehicles]
    request_of_node: dict[int, Request] = {}
    for r in problem.requests:
        add(r.pickup)
        add(r.dropoff)
        request_of_node[r.pickup] = r
        request_of_node[r.dropoff] = r
    n = len(node_ids)
    nodes = [problem.node(i) for i in node_ids]
    travel = [[problem.travel(a, b) for b in node_ids] for a in node_ids]
    horizon_real = horizon_of(problem)
    horizon = _up(horizon_real) + 1
    # transit = service at the origin + travel, rounded up as one number (see module docstring).
    transit = [[_up(nodes[i].service + travel[i][j]) for j in range(n)] for i in range(n)]
    arc_cost = [[round(travel[i][j] * COST_SCALE) for j in range(n)] for i in range(n)]
    demand = [0] * n
    for r in problem.requests:
        demand[model_node[r.pickup]] = r.load
        demand[model_node[r.dropoff]] = -r.load

    # ---- model ----
    manager = pywrapcp.RoutingIndexManager(n, len(problem.vehicles), starts, ends)
    routing = pywrapcp.RoutingModel(manager)
    solver = routing.solver()

    # Matrices and vectors live on the C++ side: a Python callback per arc evaluation would
    # make the local search several times slower.
    cost_idx = routing.RegisterTransitMatrix(arc_cost)
    time_idx = routing.RegisterTransitMatrix(transit)
    demand_idx = routing.RegisterUnaryTransitVector(demand)

    # ---- variables / dimensions ----
    routing.AddDimensionWithVehicleCapacity(
        demand_idx, 0, [v.capacity for v in problem.vehicles], True, "load"
    )
    # Slack up to the horizon: vehicles may wait anywhere; start times are free, not zero.
    routing.AddDimension(time_idx, horizon, horizon, False, "time")
    time = routing.GetDimensionOrDie("time")

    # ---- constraints ----
    windows = tightened_windows(problem, horizon_real)
    for model_i, node in enumerate(nodes):
        if node.id in request_of_node:
            lo_real, hi_real = windows[node.id]
            lo, hi = _up(lo_real), min(_down(hi_real), horizon)
            if hi < lo:  # tightening proved the request cannot be served: keep the raw window
                lo, hi = _up(node.earliest), min(_down(min(node.latest, horizon_real)), horizon)
            time.CumulVar(manager.NodeToIndex(model_i)).SetRange(lo, max(lo, hi))
    for v, vehicle in enumerate(problem.vehicles):
        for index, node_id in ((routing.Start(v), vehicle.start), (routing.End(v), vehicle.end)):
            node = problem.node(node_id)
            hi = min(_down(node.latest), horizon) if math.isfinite(node.latest) else horizon
            time.CumulVar(index).SetRange(_up(node.earliest), hi)
        if vehicle.max_duration is not None:
            time.SetSpanUpperBoundForVehicle(_down(vehicle.max_duration), v)
        if not options.ignore_fixed_costs:
            routing.SetFixedCostOfVehicle(round(vehicle.fixed_cost * COST_SCALE), v)

    # Dropping: with no drop penalty a request must be served, but the model still gets a
    # disjunction with a penalty larger than any plan's cost. That lets the search start from a
    # partial plan on tight instances (else it often finds no first solution at all); the caller
    # sees any request still out as unserved, never a silently shorter plan.
    upper = sum(max(row) for row in arc_cost) + sum(
        round(v.fixed_cost * COST_SCALE) for v in problem.vehicles
    )
    big = 100 * (upper + 1)
    for r in problem.requests:
        p = manager.NodeToIndex(model_node[r.pickup])
        d = manager.NodeToIndex(model_node[r.dropoff])
        routing.AddPickupAndDelivery(p, d)
        if r.vehicles is not None:
            # The vehicle variable's domain (-1: not served, which the disjunction prices);
            # SetAllowedVehiclesForIndex's Span argument does not cross this SWIG binding.
            allowed = [-1] + [k for k, v in enumerate(problem.vehicles) if v.id in r.vehicles]
            routing.VehicleVar(p).SetValues(allowed)
            routing.VehicleVar(d).SetValues(allowed)
        solver.Add(routing.VehicleVar(p) == routing.VehicleVar(d))
        solver.Add(routing.ActiveVar(p) == routing.ActiveVar(d))
        solver.Add(time.CumulVar(p) <= time.CumulVar(d))
        if options.drop_penalty is not None and r.id not in options.mandatory:
            penalty = round(options.drop_penalty * COST_SCALE / 2)
        else:
            penalty = big
        routing.AddDisjunction([p], penalty)
        routing.AddDisjunction([d], penalty)
        if r.max_ride_time is not None:
            # ride = start(drop) - (start(pickup) + service(pickup)) <= L
            limit = _down(r.max_ride_time + problem.node(r.pickup).service)
            # As a node precedence cumul(p) >= cumul(d) - limit the local-search filters know it
            # in C++ (a Python limit callback measured slower) ...
            time.AddNodePrecedence(d, p, -limit)
            # ... and stated in the CP model, so the final schedule is guaranteed to respect it.
            slack = solver.IntConst(horizon) * (1 - routing.ActiveVar(p))
            solver.Add(time.CumulVar(d) - time.CumulVar(p) <= limit + slack)

    if options.max_vehicles is not None:
        routing.SetMaximumNumberOfActiveVehicles(options.max_vehicles)

    # ---- objective ----
    routing.SetArcCostEvaluatorOfAllVehicles(cost_idx)
    if options.span_weight > 0:
        coefficient = max(1, round(options.span_weight * COST_SCALE / TIME_SCALE))
        time.SetSpanCostCoefficientForAllVehicles(coefficient)
    for v in range(len(problem.vehicles)):
        # Ask the finaliser for late starts and early ends: tight schedules, no idle waiting.
        routing.AddVariableMaximizedByFinalizer(time.CumulVar(routing.Start(v)))
        routing.AddVariableMinimizedByFinalizer(time.CumulVar(routing.End(v)))

    return BuiltModel(
        problem, manager, routing, time, node_ids, model_node, request_of_node, True, big, transit
    )


def routes_of(built: BuiltModel, assignment: pywrapcp.Assignment) -> list[list[int]]:
    """Problem node ids visited by each vehicle (depots excluded), in order."""
    out: list[list[int]] = []
    routing, manager = built.routing, built.manager
    for v in range(len(built.problem.vehicles)):
        index = assignment.Value(routing.NextVar(routing.Start(v)))
        stops: list[int] = []
        while not routing.IsEnd(index):
            stops.append(built.node_ids[manager.IndexToNode(index)])
            index = assignment.Value(routing.NextVar(index))
        out.append(stops)
    return out


def interpret(built: BuiltModel, assignment: pywrapcp.Assignment) -> list[Route]:
    """Used vehicles' routes with real times: service start = model cumul / TIME_SCALE, arrival =
    previous service start + service + real travel (never later than the service start)."""
    problem, routing, manager, time = built.problem, built.routing, built.manager, built.time
    routes: list[Route] = []
    for v, vehicle in enumerate(problem.vehicles):
        if routing.IsEnd(assignment.Value(routing.NextVar(routing.Start(v)))):
            continue
        visits: list[Visit] = []
        load = 0
        distance = 0.0
        index = routing.Start(v)
        prev_id: int | None = None
        prev_done = 0.0
        while True:
            node_id = built.node_ids[manager.IndexToNode(index)]
            node = problem.node(node_id)
            start = assignment.Min(time.CumulVar(index)) / TIME_SCALE
            kind: VisitKind
            request = built.request_of_node.get(node_id)
            if routing.IsStart(index):
                kind, arrival = "start", start
            else:
                if prev_id is None:  # unreachable: only a start index has no predecessor
                    raise RuntimeError("route without a start")
                leg = problem.travel(prev_id, node_id)
                distance += leg
                arrival = prev_done + leg
                if routing.IsEnd(index):
                    kind = "end"
                elif request is not None and request.pickup == node_id:
                    kind = "pickup"
                    load += request.load
                else:
                    kind = "dropoff"
                    load -= request.load if request is not None else 0
            visits.append(
                Visit(
                    node_id,
                    kind,
                    request.id if request is not None and kind in ("pickup", "dropoff") else None,
                    arrival,
                    start,
                    load,
                )
            )
            if routing.IsEnd(index):
                break
            prev_id, prev_done = node_id, start + node.service
            index = assignment.Value(routing.NextVar(index))
        routes.append(Route(vehicle.id, tuple(visits), distance))
    return routes
