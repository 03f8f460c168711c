"""Property: whatever the sequence of bookings and cancellations, no plan the planner offers puts
a vehicle over its seats or wheelchair places or breaks a promise made earlier.

Each plan is checked by `matching.route_check` on a problem the test builds itself from the
windows it promised (not the planner's), and its loads are counted here."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching.route_check import check_routes
from services.rides.scheduling.model import Booking, FleetVehicle, Plan, Spot, StopRef
from services.rides.scheduling.planner import Planner
from services.rides.scheduling.timeline import Travel

VAN = FleetVehicle(
    "van",
    seats=7,
    wheelchair_places=1,
    depot=Spot(51.05, 3.72),
    day_start=420,
    day_end=1140,
    max_route=600,
)
TRAVEL = Travel(detour_factor=1.3, speed_kmh=40)


@dataclass(frozen=True)
class Node:
    id: int
    x: float
    y: float
    service: float
    earliest: float
    latest: float


@dataclass(frozen=True)
class Req:
    id: str
    pickup: int
    dropoff: int
    load: int
    max_ride_time: float


@dataclass(frozen=True)
class Veh:
    id: str
    start: int
    end: int
    capacity: int
    max_duration: float
    fixed_cost: float = 0.0


@dataclass(frozen=True)
class Problem:
    nodes: tuple[Node, ...]
    requests: tuple[Req, ...]
    vehicles: tuple[Veh, ...]
    travel_times: tuple[tuple[float, ...], ...]


@dataclass(frozen=True)
class V:
    node: int
    service_start: float


@dataclass(frozen=True)
class R:
    vehicle: str
    visits: tuple[V, ...]


def promised_problem(promised: dict[str, Booking]) -> tuple[Problem, dict[tuple[str, str], int]]:
    spots = [VAN.depot]
    nodes = [Node(0, 0, 0, 0, VAN.day_start, VAN.day_end)]
    requests, ids = [], {}
    for b in promised.values():
        for kind, spot, (lo, hi) in (
            ("pickup", b.pickup, b.pickup_window),
            ("dropoff", b.dropoff, b.dropoff_window),
        ):
            ids[(b.ride_id, kind)] = len(nodes)
            nodes.append(Node(len(nodes), 0, 0, b.service, lo, hi))
            spots.append(spot)
        requests.append(
            Req(
                b.ride_id,
                ids[(b.ride_id, "pickup")],
                ids[(b.ride_id, "dropoff")],
                b.seats,
                b.max_ride,
            )
        )
    matrix = tuple(tuple(TRAVEL.minutes(a, c) for c in spots) for a in spots)
    vehicle = Veh("van", 0, 0, VAN.seats + VAN.wheelchair_places, VAN.max_route)
    return Problem(tuple(nodes), tuple(requests), (vehicle,), matrix), ids


def assert_keeps_promises(plan: Plan, promised: dict[str, Booking]) -> None:
    problem, ids = promised_problem(promised)
    routes = [
        R(v, tuple(V(0 if s.ride_id is None else ids[(s.ride_id, s.kind)], s.at) for s in stops))
        for v, stops in plan.routes.items()
    ]
    report = check_routes(problem, routes)
    assert report.feasible, report.violations
    assert set(report.served) == set(promised)
    for stops in plan.routes.values():
        seats = chairs = 0
        for s in stops:
            if s.ride_id is None:
                continue
            b = promised[s.ride_id]
            sign = 1 if s.kind == "pickup" else -1
            seats += sign * (b.seats - (1 if b.wheelchair else 0))
            chairs += sign * (1 if b.wheelchair else 0)
            assert seats <= VAN.seats
            assert chairs <= VAN.wheelchair_places


bookings = st.builds(
    lambda k, lat, lon, dlat, start, seats, chair: (
        k,
        Spot(51.05 + lat, 3.72 + lon),
        Spot(51.05 + dlat, 3.72),
        start,
        seats,
        chair,
    ),
    st.integers(0, 10_000),
    st.floats(-0.06, 0.06),
    st.floats(-0.08, 0.08),
    st.floats(-0.03, 0.03),
    st.integers(8 * 4, 16 * 4).map(lambda q: q * 15.0),
    st.integers(1, 3),
    st.booleans(),
)
steps = st.lists(st.one_of(bookings, st.integers(0, 20)), min_size=3, max_size=9)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps)
def test_no_plan_breaks_a_promise_or_overloads_the_van(sequence: list[object]) -> None:
    planner = Planner([VAN], TRAVEL, time_limit=0.2)
    promised: dict[str, Booking] = {}
    orders: dict[str, list[StopRef]] = {}
    for n, step in enumerate(sequence):
        if isinstance(step, int):
            if not promised:
                continue
            gone = sorted(promised)[step % len(promised)]
            plan = planner.replan(list(promised.values()), orders, remove=gone)
            assert plan is not None  # taking a booking out always leaves a plan
            del promised[gone]
        else:
            assert isinstance(step, tuple)
            pickup: Spot = step[1]
            dropoff: Spot = step[2]
            start: float = step[3]
            seats: int = step[4]
            chair: bool = step[5]
            direct = TRAVEL.minutes(pickup, dropoff)
            max_ride = direct * 2 + 15
            service = 2.0 + (5 if chair else 0)
            b = Booking(
                f"r{n}",
                pickup,
                dropoff,
                seats,
                chair,
                (start, start + 30),
                (start, start + 30 + service + max_ride),
                max_ride,
                service,
            )
            plan = planner.replan(list(promised.values()), orders, add=b)
            if plan is None:
                continue  # refused: nothing changes
            promised[b.ride_id] = b
        assert_keeps_promises(plan, promised)
        orders = plan.orders()
