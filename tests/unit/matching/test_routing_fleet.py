"""Fleet minimisation outside OR-Tools: the insertion tests, the ejection search, ruin and
recreate, and the solver path that uses them (problems with vehicle fixed costs)."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching.route_check import check_routes
from matching.routing import Node, Request, RoutingProblem, Vehicle, solve
from matching.routing.ejection import minimise_fleet
from matching.routing.insertion import Plan, PlanData
from matching.routing.model import ModelOptions, build_model
from tests.unit.matching._routing_helpers import line_problem

# --- an oracle for the insertion tests, written from the definitions -----------------------


def _feasible(stops: list[int], vehicle: int, data: PlanData) -> bool:
    """Windows, capacity and maximum duration of one route by plain simulation. The shortest
    duration is found by trying every start time at which some window opens or closes on
    arrival (the breakpoints of end time minus start time)."""
    for s in stops:
        if data.is_pickup[s] and (
            data.partner[s] not in stops or stops.index(data.partner[s]) < stops.index(s)
        ):
            return False
    load = 0
    for s in stops[1:-1]:
        load += data.demand[s]
        if load > data.capacity[vehicle]:
            return False
    lo_start, hi_start = data.start_window[vehicle]
    candidates = {lo_start, hi_start}
    offset = 0
    for k in range(1, len(stops)):
        offset += data.transit[stops[k - 1]][stops[k]]
        last = k == len(stops) - 1
        floor, cap = data.end_window[vehicle] if last else (data.lo[stops[k]], data.hi[stops[k]])
        candidates.update((floor - offset, cap - offset))
    best_span = None
    for start in sorted(c for c in candidates if lo_start <= c <= hi_start):
        t, ok = start, True
        for k in range(1, len(stops)):
            last = k == len(stops) - 1
            floor, cap = (
                data.end_window[vehicle] if last else (data.lo[stops[k]], data.hi[stops[k]])
            )
            t = max(floor, t + data.transit[stops[k - 1]][stops[k]])
            if t > cap:
                ok = False
                break
        if ok and (best_span is None or t - start < best_span):
            best_span = t - start
    if best_span is None:
        return False
    limit = data.max_span[vehicle]
    return limit is None or best_span <= limit


def _random_problem(
    rng: random.Random, requests: int, vehicles: int, duration: bool
) -> RoutingProblem:
    nodes = [Node(0, 50.0, 50.0, 0.0, 0.0, 400.0)]
    reqs = []
    for k in range(requests):
        start = rng.uniform(0, 250)
        width = rng.uniform(10, 150)
        nodes.append(
            Node(2 * k + 1, rng.uniform(0, 100), rng.uniform(0, 100), 5.0, start, start + width)
        )
        nodes.append(
            Node(
                2 * k + 2,
                rng.uniform(0, 100),
                rng.uniform(0, 100),
                5.0,
                start,
                start + width + 150,
            )
        )
        reqs.append(Request(f"r{k}", 2 * k + 1, 2 * k + 2, rng.randint(1, 3)))
    fleet = tuple(
        Vehicle(f"v{v}", 0, 0, 4, 250.0 if duration else None, 1000.0) for v in range(vehicles)
    )
    return RoutingProblem(tuple(nodes), tuple(reqs), fleet)


def _all_positions(route_len: int) -> list[tuple[int, int]]:
    return [(i, j) for i in range(route_len - 1) for j in range(i, route_len - 1)]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), duration=st.booleans())
def test_insertions_are_exactly_the_feasible_positions(seed: int, duration: bool) -> None:
    rng = random.Random(seed)
    problem = _random_problem(rng, 7, 2, duration)
    built = build_model(problem, ModelOptions())
    plan = Plan.of(built, [[], []], rng)
    assert plan is not None
    data = plan.data
    pickups = [built.model_node[r.pickup] for r in problem.requests]
    # Build a random feasible plan with the oracle alone.
    for p in pickups[:-2]:
        route = rng.choice(plan.routes)
        options = [
            (i, j)
            for i, j in _all_positions(len(route.stops))
            if _feasible(_with(route.stops, i, p, j, data.partner[p]), route.vehicle, data)
        ]
        if options:
            plan.insert(route, p, *rng.choice(options))
    for route in plan.routes:
        assert route.ok
        for p in pickups[-2:]:
            expected = {
                (i, j)
                for i, j in _all_positions(len(route.stops))
                if _feasible(_with(route.stops, i, p, j, data.partner[p]), route.vehicle, data)
            }
            found = {(i, j) for _, i, j in plan.insertions(route, p)}
            assert found == expected


def _with(stops: list[int], i: int, p: int, j: int, d: int) -> list[int]:
    out = list(stops)
    out.insert(j + 1, d)
    out.insert(i + 1, p)
    return out


# --- the ejection search ------------------------------------------------------------------


def _spread(problem: RoutingProblem) -> list[list[int]]:
    routes = [[r.pickup, r.dropoff] for r in problem.requests]
    return routes + [[] for _ in range(len(problem.vehicles) - len(routes))]


def test_a_plan_the_model_rejects_is_not_taken_as_a_start() -> None:
    problem = line_problem([("A", 1.0, 2.0)], vehicles=1)
    built = build_model(problem, ModelOptions())
    drop_before_pickup = [[problem.requests[0].dropoff, problem.requests[0].pickup]]
    assert Plan.of(built, drop_before_pickup, random.Random(0)) is None


def test_ejection_search_merges_every_route_one_vehicle_can_drive() -> None:
    problem = line_problem(
        [(c, float(2 * k + 1), float(2 * k + 2)) for k, c in enumerate("ABCDEF")],
        vehicles=6,
        capacity=2,
        fixed_cost=100.0,
    )
    built = build_model(problem, ModelOptions())
    plan = Plan.of(built, _spread(problem), random.Random(0))
    assert plan is not None
    assert plan.vehicles_used == 6
    assert minimise_fleet(plan, time_limit=10.0, max_iterations=500)
    assert plan.vehicles_used == 1
    served = sorted(n for stops in plan.node_routes(built) for n in stops)
    assert served == sorted(n for r in problem.requests for n in (r.pickup, r.dropoff))


def test_ejection_search_stops_at_the_fleet_the_windows_need() -> None:
    # A and B must both be picked up around t = 40, 80 apart: one vehicle cannot do both.
    problem = line_problem(
        [("A", 40.0, 41.0), ("B", -40.0, -41.0), ("C", 1.0, 2.0)],
        vehicles=3,
        fixed_cost=100.0,
        windows={40.0: (40.0, 42.0), -40.0: (40.0, 42.0)},
    )
    built = build_model(problem, ModelOptions())
    plan = Plan.of(built, _spread(problem), random.Random(0))
    assert plan is not None
    assert minimise_fleet(plan, time_limit=10.0, max_iterations=300)
    assert plan.vehicles_used == 2
    assert all(route.ok for route in plan.routes)


# --- ruin and recreate --------------------------------------------------------------------


def test_ruin_and_recreate_shortens_a_zigzag_without_adding_vehicles() -> None:
    from matching.routing.ruin_recreate import shorten

    stops = [(c, float(k + 1), float(k + 1) + 0.5) for k, c in enumerate("ABCDEFGH")]
    problem = line_problem(stops, vehicles=3, capacity=8, fixed_cost=100.0)
    built = build_model(problem, ModelOptions())
    # One vehicle visits the requests far, near, far, near...: a long zigzag on the line.
    order = [7, 0, 6, 1, 5, 2, 4, 3]
    zigzag = [
        [n for k in order for n in (problem.requests[k].pickup, problem.requests[k].dropoff)],
        [],
        [],
    ]
    plan = Plan.of(built, zigzag, random.Random(1))
    assert plan is not None
    before = plan.distance
    assert shorten(plan, time_limit=10.0, max_iterations=400)
    assert plan.distance < before
    assert plan.distance >= 2 * 8.5 - 1e-9  # out to the last drop-off and back
    assert plan.vehicles_used == 1
    assert all(route.ok for route in plan.routes)


@pytest.mark.parametrize("seed", [0, 2, 3])
def test_ruin_and_recreate_chains_keep_every_request_and_repeat_for_a_seed(seed: int) -> None:
    from matching.routing.ruin_recreate import shorten

    problem = _random_problem(random.Random(seed), 8, 8, duration=seed == 3)
    built = build_model(problem, ModelOptions())
    first = Plan.of(built, _spread(problem), random.Random(seed))
    second = Plan.of(built, _spread(problem), random.Random(seed))
    assert first is not None
    assert second is not None
    before = first.distance
    # 13 s asks for two chains; the step budget, not the clock, stops each one.
    shortened = [shorten(p, time_limit=13.0, max_iterations=600) for p in (first, second)]
    assert first.snapshot() == second.snapshot()
    assert shortened[0] == shortened[1] == (first.distance < before - 1e-9)
    assert first.distance <= before + 1e-9
    assert first.vehicles_used <= len(problem.requests)
    served = sorted(s for r in first.routes for s in r.stops[1:-1])
    assert served == sorted(
        built.model_node[n] for r in problem.requests for n in (r.pickup, r.dropoff)
    )
    assert all(route.ok for route in first.routes)


# --- through the solver -------------------------------------------------------------------


def test_solve_with_fixed_costs_is_feasible_and_deterministic_under_a_solution_limit() -> None:
    problem = _random_problem(random.Random(3), 10, 6, duration=False)
    a = solve(problem, time_limit=20.0, seed=2, solution_limit=40)
    b = solve(problem, time_limit=20.0, seed=2, solution_limit=40)
    assert a.routes == b.routes
    report = check_routes(problem, a.routes)
    assert report.feasible, report.violations
    assert not a.unserved
