"""Batch ride assignment: hard constraints, reasons, priority, batch vs greedy, properties."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.assignment import (
    NO_PRIORITY,
    AssignmentResult,
    Driver,
    Request,
    UnassignedReason,
    WaitPriority,
    assign,
    greedy_assign,
)
from matching.status import InvalidProblem, SolveStatus
from matching.travel import HaversineProvider, InvalidCoordinates, TravelMatrix

HERE = (51.05, 3.72)  # positions are unused when a matrix is given


def by_request(*rows: list[float | None]) -> TravelMatrix:
    """Pickup seconds written one row per request (easier to read); the solver wants drivers x
    requests, so transpose."""
    return TravelMatrix.from_rows([list(col) for col in zip(*rows, strict=True)])


def req(rid: str, **kw: object) -> Request:
    return Request(rid, HERE, **kw)  # type: ignore[arg-type]


def drv(did: str, free_seats: int = 4, **kw: object) -> Driver:
    return Driver(did, HERE, free_seats, **kw)  # type: ignore[arg-type]


def pairs(result: AssignmentResult) -> dict[str, str]:
    return dict(result.driver_by_request)


def reasons(result: AssignmentResult) -> dict[str, UnassignedReason]:
    return {u.request_id: u.reason for u in result.unassigned}


# --- each hard constraint: breaking it would be cheaper, the solver does not ------------------


def test_seats_are_respected():
    result = assign(
        [req("r", seats=3)],
        [drv("small", 2), drv("big", 4)],
        travel=by_request([10, 100]),
        max_pickup_s=600,
    )
    assert pairs(result) == {"r": "big"}
    assert result.status is SolveStatus.OPTIMAL
    assert result.total_pickup_s == 100


def test_wheelchair_needs_an_accessible_vehicle():
    result = assign(
        [req("r", wheelchair=True)],
        [drv("car"), drv("wav", wheelchair=True)],
        travel=by_request([10, 100]),
        max_pickup_s=600,
    )
    assert pairs(result) == {"r": "wav"}


def test_assistance_needs_a_driver_who_offers_it():
    result = assign(
        [req("r", assistance=True)],
        [drv("plain"), drv("helper", assistance=True)],
        travel=by_request([10, 100]),
        max_pickup_s=600,
    )
    assert pairs(result) == {"r": "helper"}


def test_max_pickup_is_a_hard_limit_inclusive():
    result = assign(
        [req("near"), req("far")],
        [drv("a"), drv("b")],
        travel=by_request([600, None], [None, 601]),
        max_pickup_s=600,
    )
    assert pairs(result) == {"near": "a"}
    assert reasons(result) == {"far": UnassignedReason.NO_DRIVER_WITHIN_MAX_PICKUP}


def test_a_driver_serves_at_most_one_request():
    result = assign(
        [req("r1"), req("r2")],
        [drv("d")],
        travel=by_request([10], [20]),
        max_pickup_s=600,
    )
    assert pairs(result) == {"r1": "d"}
    assert reasons(result) == {"r2": UnassignedReason.DRIVERS_TAKEN}


def test_serving_more_requests_beats_a_shorter_total():
    # r1 alone would take d1 (1 s); serving both needs r1 -> d2 (500 s).
    result = assign(
        [req("r1"), req("r2")],
        [drv("d1"), drv("d2")],
        travel=by_request([1, 500], [2, None]),
        max_pickup_s=600,
    )
    assert pairs(result) == {"r1": "d2", "r2": "d1"}


def test_unreachable_pairs_are_never_used():
    result = assign(
        [req("r")], [drv("island")], travel=by_request([None]), max_pickup_s=float("inf")
    )
    assert reasons(result) == {"r": UnassignedReason.NO_DRIVER_WITHIN_MAX_PICKUP}


# --- reasons -----------------------------------------------------------------------------------


def test_reasons_name_the_first_constraint_that_leaves_nobody():
    requests = [
        req("wheel", wheelchair=True),
        req("help", assistance=True),
        req("crowd", seats=5),
        req("far"),
        req("ok"),
    ]
    drivers = [drv("car", 4)]
    matrix = by_request([10], [10], [10], [900], [10])
    result = assign(requests, drivers, travel=matrix, max_pickup_s=600)
    assert pairs(result) == {"ok": "car"}
    assert reasons(result) == {
        "wheel": UnassignedReason.NO_WHEELCHAIR_VEHICLE,
        "help": UnassignedReason.NO_ASSISTANCE_DRIVER,
        "crowd": UnassignedReason.NOT_ENOUGH_SEATS,
        "far": UnassignedReason.NO_DRIVER_WITHIN_MAX_PICKUP,
    }
    assert [u.request_id for u in result.unassigned] == ["wheel", "help", "crowd", "far"]


def test_no_drivers_at_all():
    result = assign([req("r")], [], travel=TravelMatrix(seconds=np.zeros((0, 1))), max_pickup_s=600)
    assert reasons(result) == {"r": UnassignedReason.NO_DRIVERS}
    assert result.status is SolveStatus.OPTIMAL


def test_wheelchair_vehicle_without_assistance():
    result = assign(
        [req("r", wheelchair=True, assistance=True)],
        [drv("wav", wheelchair=True), drv("helper", assistance=True)],
        travel=by_request([10, 10]),
        max_pickup_s=600,
    )
    assert reasons(result) == {"r": UnassignedReason.NO_ASSISTANCE_DRIVER}


def test_no_requests():
    result = assign([], [drv("d")], travel=TravelMatrix.from_rows([[]]), max_pickup_s=600)
    assert result.assignments == ()
    assert result.unassigned == ()


# --- batch vs greedy ---------------------------------------------------------------------------


def test_batch_beats_greedy_on_the_classic_conflict():
    # A arrives first and greedily takes X, the only driver B can reach in time.
    requests = [req("A", waiting_since_s=0), req("B", waiting_since_s=1)]
    drivers = [drv("X"), drv("Y")]
    matrix = by_request([120, 240], [180, 1200])
    greedy = greedy_assign(requests, drivers, travel=matrix, max_pickup_s=900)
    batch = assign(requests, drivers, travel=matrix, max_pickup_s=900)
    assert pairs(greedy) == {"A": "X"}
    assert reasons(greedy) == {"B": UnassignedReason.DRIVERS_TAKEN}
    assert pairs(batch) == {"A": "Y", "B": "X"}
    assert batch.total_pickup_s == 420


def test_batch_lowers_total_pickup_when_greedy_serves_everyone_too():
    requests = [req("A", waiting_since_s=0), req("B", waiting_since_s=1)]
    drivers = [drv("X"), drv("Y")]
    matrix = by_request([120, 240], [180, 800])
    greedy = greedy_assign(requests, drivers, travel=matrix, max_pickup_s=900)
    batch = assign(requests, drivers, travel=matrix, max_pickup_s=900, priority=NO_PRIORITY)
    assert greedy.total_pickup_s == 920
    assert batch.total_pickup_s == 420


# --- waiting priority --------------------------------------------------------------------------


def test_an_overdue_request_gets_the_last_driver_even_if_farther():
    requests = [req("old", waiting_since_s=0), req("new", waiting_since_s=590)]
    matrix = by_request([500], [10])
    result = assign(
        requests,
        [drv("d")],
        travel=matrix,
        max_pickup_s=600,
        now_s=600,
        priority=WaitPriority(aging_weight=0.0, overdue_after_s=300),
    )
    assert pairs(result) == {"old": "d"}
    no_priority = assign(
        requests, [drv("d")], travel=matrix, max_pickup_s=600, now_s=600, priority=NO_PRIORITY
    )
    assert pairs(no_priority) == {"new": "d"}


def test_aging_lets_the_older_request_win_a_close_call():
    requests = [req("old", waiting_since_s=0), req("new", waiting_since_s=100)]
    matrix = by_request([60], [20])  # 40 s worse pickup, 100 s longer wait
    aged = assign(
        requests,
        [drv("d")],
        travel=matrix,
        max_pickup_s=600,
        now_s=100,
        priority=WaitPriority(aging_weight=0.5, overdue_after_s=None),
    )
    assert pairs(aged) == {"old": "d"}
    clear = by_request([200], [20])  # 180 s worse: more than the 50 s credit
    assert pairs(
        assign(
            requests,
            [drv("d")],
            travel=clear,
            max_pickup_s=600,
            now_s=100,
            priority=WaitPriority(aging_weight=0.5, overdue_after_s=None),
        )
    ) == {"new": "d"}


def test_priority_never_costs_a_served_request():
    requests = [req("old", waiting_since_s=0), req("new", waiting_since_s=500)]
    drivers = [drv("d1"), drv("d2")]
    matrix = by_request([10, 20], [None, 30])
    result = assign(requests, drivers, travel=matrix, max_pickup_s=600, now_s=600)
    assert result.assigned_count == 2


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("requests", "drivers", "kwargs", "message"),
    [
        ([req("r", seats=0)], [drv("d")], {}, "seats"),
        ([req("r", seats=-1)], [drv("d")], {}, "seats"),
        ([req("r"), req("r")], [drv("d")], {}, "duplicate request id 'r'"),
        ([req("r")], [drv("d"), drv("d")], {}, "duplicate driver id 'd'"),
        ([req("r")], [drv("d", -1)], {}, "free_seats"),
        ([req("r")], [drv("d")], {"max_pickup_s": -1}, "max_pickup_s"),
        ([req("r", waiting_since_s=10)], [drv("d")], {"now_s": 5}, "after now_s"),
        ([req("r")], [drv("d")], {"time_limit_s": 0}, "time_limit_s"),
        ([req("r")], [drv("d")], {"candidates_per_request": 0}, "candidates_per_request"),
        ([req("r")], [drv("d")], {"priority": WaitPriority(aging_weight=-1)}, "aging_weight"),
    ],
)
def test_bad_input_raises_invalid_problem(requests, drivers, kwargs, message):
    n_req, n_drv = len(requests), len(drivers)
    matrix = TravelMatrix.from_rows([[10.0] * n_req for _ in range(n_drv)])
    with pytest.raises(InvalidProblem, match=message):
        assign(requests, drivers, travel=matrix, **{"max_pickup_s": 600, **kwargs})


def test_matrix_of_the_wrong_shape_is_rejected():
    with pytest.raises(InvalidProblem, match=r"expected \(drivers, requests\) = \(2, 1\)"):
        assign([req("r")], [drv("a"), drv("b")], travel=by_request([1]), max_pickup_s=600)


def test_bad_coordinates_with_a_provider():
    with pytest.raises(InvalidCoordinates, match="request pickup 0"):
        assign(
            [Request("r", (91.0, 3.7))],
            [drv("d")],
            travel=HaversineProvider(),
            max_pickup_s=600,
        )


# --- with a provider, at size, determinism ------------------------------------------------------


def city(seed: int, n_requests: int, n_drivers: int) -> tuple[list[Request], list[Driver]]:
    rng = random.Random(seed)

    def point() -> tuple[float, float]:
        return (51.0 + rng.random() * 0.1, 3.65 + rng.random() * 0.15)

    requests = [
        Request(
            f"r{i}",
            point(),
            seats=rng.choice([1, 1, 2, 3]),
            wheelchair=rng.random() < 0.1,
            assistance=rng.random() < 0.1,
            waiting_since_s=rng.uniform(0, 400),
        )
        for i in range(n_requests)
    ]
    drivers = [
        Driver(
            f"d{i}",
            point(),
            free_seats=rng.choice([1, 2, 3, 4]),
            wheelchair=rng.random() < 0.15,
            assistance=rng.random() < 0.3,
        )
        for i in range(n_drivers)
    ]
    return requests, drivers


def test_haversine_provider_end_to_end_is_deterministic():
    requests, drivers = city(7, 60, 50)
    runs = [
        assign(requests, drivers, travel=HaversineProvider(), max_pickup_s=420, now_s=400, seed=s)
        for s in (1, 1, 2)
    ]
    assert runs[0] == runs[1] == runs[2]
    assert runs[0].assigned_count > 0


def test_pruned_graph_never_does_worse_than_greedy_and_widens_for_unserved():
    requests, drivers = city(3, 150, 120)
    matrix = HaversineProvider().matrix([d.position for d in drivers], [r.pickup for r in requests])
    greedy = greedy_assign(requests, drivers, travel=matrix, max_pickup_s=600)
    exact = assign(
        requests, drivers, travel=matrix, max_pickup_s=600, now_s=400, priority=NO_PRIORITY
    )
    pruned = assign(
        requests,
        drivers,
        travel=matrix,
        max_pickup_s=600,
        now_s=400,
        priority=NO_PRIORITY,
        candidates_per_request=1,
        exact_up_to_edges=0,
        time_limit_s=5,
    )
    assert exact.status is SolveStatus.OPTIMAL
    assert pruned.status is SolveStatus.FEASIBLE
    assert pruned.candidate_edges < pruned.eligible_edges
    assert greedy.assigned_count <= pruned.assigned_count <= exact.assigned_count
    assert pruned.widening_rounds >= 1
    assert exact.total_pickup_s <= pruned.total_pickup_s + 1e-6
    if pruned.assigned_count == greedy.assigned_count:
        assert pruned.total_pickup_s <= greedy.total_pickup_s + 1e-6
    check_invariants(requests, drivers, matrix, 600, pruned)


def test_widening_stops_at_the_time_limit_with_a_timed_out_status():
    requests, drivers = city(3, 150, 120)
    matrix = HaversineProvider().matrix([d.position for d in drivers], [r.pickup for r in requests])
    hurried = assign(
        requests,
        drivers,
        travel=matrix,
        max_pickup_s=600,
        now_s=400,
        candidates_per_request=1,
        exact_up_to_edges=0,
        time_limit_s=1e-9,
    )
    assert hurried.status is SolveStatus.TIMED_OUT
    assert hurried.status.has_solution
    assert hurried.widening_rounds == 0
    check_invariants(requests, drivers, matrix, 600, hurried)


# --- properties --------------------------------------------------------------------------------


def check_invariants(
    requests: list[Request],
    drivers: list[Driver],
    matrix: TravelMatrix,
    max_pickup_s: float,
    result: AssignmentResult,
) -> None:
    r_index = {r.id: i for i, r in enumerate(requests)}
    d_index = {d.id: j for j, d in enumerate(drivers)}
    used = [a.driver_id for a in result.assignments]
    assert len(used) == len(set(used)), "a driver was assigned twice"
    served = {a.request_id for a in result.assignments}
    assert served.isdisjoint(u.request_id for u in result.unassigned)
    assert served | {u.request_id for u in result.unassigned} == set(r_index)
    for a in result.assignments:
        r, d = requests[r_index[a.request_id]], drivers[d_index[a.driver_id]]
        assert d.free_seats >= r.seats
        assert d.wheelchair or not r.wheelchair
        assert d.assistance or not r.assistance
        seconds = float(matrix.seconds[d_index[d.id], r_index[r.id]])
        assert seconds <= max_pickup_s
        assert a.pickup_s == seconds
    for u in result.unassigned:
        r = requests[r_index[u.request_id]]
        eligible = [
            d
            for j, d in enumerate(drivers)
            if d.free_seats >= r.seats
            and (d.wheelchair or not r.wheelchair)
            and (d.assistance or not r.assistance)
            and float(matrix.seconds[j, r_index[r.id]]) <= max_pickup_s
        ]
        assert (u.reason is UnassignedReason.DRIVERS_TAKEN) == bool(eligible)
        if u.reason is UnassignedReason.DRIVERS_TAKEN:
            # every eligible driver is busy with someone else, else the batch was not maximal
            assert all(d.id in used for d in eligible)


@st.composite
def instances(draw: st.DrawFn, max_requests: int = 7, max_drivers: int = 7):
    n_req = draw(st.integers(0, max_requests))
    n_drv = draw(st.integers(0, max_drivers))
    requests = [
        Request(
            f"r{i}",
            HERE,
            seats=draw(st.integers(1, 3)),
            wheelchair=draw(st.booleans()),
            assistance=draw(st.booleans()),
            waiting_since_s=draw(st.integers(0, 600)),
        )
        for i in range(n_req)
    ]
    drivers = [
        Driver(
            f"d{j}",
            HERE,
            free_seats=draw(st.integers(0, 4)),
            wheelchair=draw(st.booleans()),
            assistance=draw(st.booleans()),
        )
        for j in range(n_drv)
    ]
    cell = st.one_of(st.none(), st.floats(0, 1000, allow_nan=False))
    rows = [[draw(cell) for _ in range(n_req)] for _ in range(n_drv)]
    seconds = np.array(
        [[np.inf if v is None else v for v in row] for row in rows], dtype=np.float64
    ).reshape(n_drv, n_req)
    matrix = TravelMatrix(seconds=seconds)
    max_pickup = draw(st.sampled_from([300.0, 600.0, 1000.0]))
    return requests, drivers, matrix, max_pickup


@settings(deadline=None, max_examples=150)
@given(instances())
def test_property_batch_is_valid_and_never_worse_than_greedy(instance):
    requests, drivers, matrix, max_pickup = instance
    greedy = greedy_assign(requests, drivers, travel=matrix, max_pickup_s=max_pickup)
    batch = assign(requests, drivers, travel=matrix, max_pickup_s=max_pickup, priority=NO_PRIORITY)
    prioritised = assign(requests, drivers, travel=matrix, max_pickup_s=max_pickup, now_s=600)
    for result in (greedy, batch, prioritised):
        check_invariants(requests, drivers, matrix, max_pickup, result)
    assert batch.status is SolveStatus.OPTIMAL
    assert batch.assigned_count >= greedy.assigned_count
    assert prioritised.assigned_count == batch.assigned_count
    if batch.assigned_count == greedy.assigned_count:
        assert batch.total_pickup_s <= greedy.total_pickup_s + 1e-3 * batch.assigned_count


@settings(deadline=None, max_examples=100)
@given(instances())
def test_property_pruned_graph_is_valid_and_never_worse_than_greedy(instance):
    requests, drivers, matrix, max_pickup = instance
    greedy = greedy_assign(requests, drivers, travel=matrix, max_pickup_s=max_pickup)
    pruned = assign(
        requests,
        drivers,
        travel=matrix,
        max_pickup_s=max_pickup,
        priority=NO_PRIORITY,
        candidates_per_request=1,
        exact_up_to_edges=0,
    )
    check_invariants(requests, drivers, matrix, max_pickup, pruned)
    assert pruned.assigned_count >= greedy.assigned_count
    if pruned.assigned_count == greedy.assigned_count:
        assert pruned.total_pickup_s <= greedy.total_pickup_s + 1e-3 * pruned.assigned_count


@settings(deadline=None, max_examples=100)
@given(instances(max_requests=4, max_drivers=4))
def test_property_exact_matches_brute_force(instance):
    requests, drivers, matrix, max_pickup = instance
    result = assign(requests, drivers, travel=matrix, max_pickup_s=max_pickup, priority=NO_PRIORITY)
    best = brute_force(requests, drivers, matrix, max_pickup)
    assert result.assigned_count == best[0]
    assert result.total_pickup_s == pytest.approx(best[1], abs=1e-2)


def brute_force(requests, drivers, matrix, max_pickup) -> tuple[int, float]:
    """(most served, least total pickup among those) by trying every matching."""
    best = (0, 0.0)
    slots = [None, *range(len(drivers))]
    for choice in itertools.product(slots, repeat=len(requests)):
        taken = [d for d in choice if d is not None]
        if len(taken) != len(set(taken)):
            continue
        total, ok = 0.0, True
        for i, d in enumerate(choice):
            if d is None:
                continue
            r, dv = requests[i], drivers[d]
            seconds = float(matrix.seconds[d, i])
            if (
                dv.free_seats < r.seats
                or (r.wheelchair and not dv.wheelchair)
                or (r.assistance and not dv.assistance)
                or seconds > max_pickup
            ):
                ok = False
                break
            total += seconds
        if ok and (len(taken) > best[0] or (len(taken) == best[0] and total < best[1])):
            best = (len(taken), total)
    return best
