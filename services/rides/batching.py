"""Batch matching of immediate rides: one decision per batch window, recorded with its inputs.

Every window (the city's `[rides.matching] batch_window_seconds`, default 2 s) the rides still
waiting are matched against the drivers free now with `matching.assignment.assign`: as many
riders served as possible, overdue riders first (the bound on any rider's wait), then the least
total pickup time, under seats and wheelchair access. A driver who passed on a ride (declined
it, or let its offer lapse) is never offered that ride again; nothing else follows from it.

`plan_batch` is pure: the requests, the drivers, the travel times and `now` in, a `Decision`
out. The application records the decision as one `Batch.Decided` event before it makes any
offer, holding what the batch considered (requests and their waits, drivers, each rider's
nearest candidates with their pickup estimates) and its objective (riders served, total pickup,
and what nearest-first dispatch would have done with the same batch). An offer's reason is
written from that record, so neither a driver reading it nor a replay ever runs the solver again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime  # noqa: TC003 (eventsourcing reads event annotations at runtime)
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np
from eventsourcing.domain import Aggregate, event

from matching.assignment import Driver as FreeDriver
from matching.assignment import Request as WaitingRequest
from matching.assignment import WaitPriority, assign, greedy_assign
from matching.travel import TravelMatrix

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from uuid import UUID

    from matching.travel import TravelTimeProvider

# Candidates kept per rider in the decision's record: enough to say why, bounded per rider.
CANDIDATES_KEPT = 3
# The reason a request nobody could reach gets when every driver in reach had passed on it.
ALL_PASSED = "every_driver_in_reach_passed"


@dataclass(frozen=True)
class BatchRequest:
    ride_id: str
    pickup: tuple[float, float]
    seats: int
    wheelchair: bool
    waited_s: float


@dataclass(frozen=True)
class BatchDriver:
    member_id: str
    position: tuple[float, float]
    seats: int
    wheelchair: bool


@dataclass(frozen=True)
class Offer:
    ride_id: str
    driver_id: str
    pickup_s: float
    # The rider's nearest suitable drivers as the batch saw them: (driver, pickup seconds).
    candidates: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class Unmatched:
    ride_id: str
    reason: str
    waited_s: float


@dataclass(frozen=True)
class Decision:
    """What one batch decided, and what it weighed."""

    requests: tuple[BatchRequest, ...]
    drivers: tuple[str, ...]
    offers: tuple[Offer, ...]
    unmatched: tuple[Unmatched, ...]
    objective: dict[str, Any]


def plan_batch(
    requests: Sequence[BatchRequest],
    drivers: Sequence[BatchDriver],
    *,
    passed: Mapping[str, set[str]],
    travel: TravelTimeProvider,
    max_pickup_s: float,
    priority: WaitPriority,
) -> Decision:
    """Match the waiting requests to the free drivers (see the module docstring)."""
    if not requests:
        return Decision((), tuple(d.member_id for d in drivers), (), (), _objective(0, 0.0, 0, 0.0))
    # The solver's clock: every request waits since `now - waited_s`, with now = the longest wait.
    now_s = max(r.waited_s for r in requests)
    asks = [
        WaitingRequest(
            r.ride_id,
            pickup=r.pickup,
            seats=r.seats,
            wheelchair=r.wheelchair,
            waiting_since_s=now_s - r.waited_s,
        )
        for r in requests
    ]
    free = [
        FreeDriver(d.member_id, position=d.position, free_seats=d.seats, wheelchair=d.wheelchair)
        for d in drivers
    ]
    if free:
        times = travel.matrix([d.position for d in drivers], [r.pickup for r in requests])
        seconds = np.array(times.seconds, dtype=np.float64, copy=True)
    else:
        seconds = np.zeros((0, len(requests)), dtype=np.float64)
    # A driver who passed on a ride cannot reach it, as far as this batch is concerned.
    column = {r.ride_id: j for j, r in enumerate(requests)}
    row = {d.member_id: i for i, d in enumerate(drivers)}
    blocked = np.zeros(seconds.shape, dtype=bool)
    for ride_id, who in passed.items():
        for member in who:
            if ride_id in column and member in row:
                blocked[row[member], column[ride_id]] = True
    seconds[blocked] = math.inf
    matrix = TravelMatrix(seconds=seconds)
    result = assign(
        asks, free, travel=matrix, max_pickup_s=max_pickup_s, now_s=now_s, priority=priority
    )
    nearest_first = greedy_assign(asks, free, travel=matrix, max_pickup_s=max_pickup_s)

    offers = tuple(
        Offer(
            a.request_id,
            a.driver_id,
            a.pickup_s,
            _candidates(
                seconds[:, column[a.request_id]],
                requests[column[a.request_id]],
                drivers,
                max_pickup_s,
            ),
        )
        for a in result.assignments
    )
    by_id = {r.ride_id: r for r in requests}
    unmatched = []
    for u in result.unassigned:
        reason = u.reason.value
        j = column[u.request_id]
        if free and reason == "no_driver_within_max_pickup" and blocked[:, j].any():
            reason = ALL_PASSED
        unmatched.append(Unmatched(u.request_id, reason, by_id[u.request_id].waited_s))
    objective = _objective(
        result.assigned_count,
        result.total_pickup_s,
        nearest_first.assigned_count,
        nearest_first.total_pickup_s,
    )
    objective.update(method=result.method, status=result.status.value)
    return Decision(
        tuple(requests), tuple(d.member_id for d in drivers), offers, tuple(unmatched), objective
    )


def _candidates(
    column: np.ndarray[Any, Any],
    request: BatchRequest,
    drivers: Sequence[BatchDriver],
    max_pickup_s: float,
) -> tuple[tuple[str, float], ...]:
    suitable = [
        (float(column[i]), d.member_id)
        for i, d in enumerate(drivers)
        if d.seats >= request.seats
        and (d.wheelchair or not request.wheelchair)
        and math.isfinite(column[i])
        and column[i] <= max_pickup_s
    ]
    suitable.sort()
    return tuple((member, round(s, 1)) for s, member in suitable[:CANDIDATES_KEPT])


def _objective(served: int, total_s: float, nf_served: int, nf_total_s: float) -> dict[str, Any]:
    return {
        "served": served,
        "total_pickup_s": round(total_s, 1),
        "nearest_first_served": nf_served,
        "nearest_first_total_pickup_s": round(nf_total_s, 1),
    }


def offer_reason(
    decision_at: datetime, decision: Decision, offer: Offer, *, seats: int, wheelchair: bool
) -> str:
    """Why this ride came to this driver, in words the driver can check against the record."""
    needs = f"{seats} seat(s)" + (", wheelchair access" if wheelchair else "")
    minutes = _min(offer.pickup_s)
    others = [f"{_min(s)} min" for member, s in offer.candidates if member != offer.driver_id]
    nearest = offer.candidates[0][0] == offer.driver_id if offer.candidates else True
    o = decision.objective
    why = (
        "you were the nearest on-duty driver with " + needs
        if nearest
        else f"a nearer driver was needed for another rider; you were next with {needs}"
    )
    return (
        f"batch at {decision_at:%H:%M:%S}: {why}, {minutes} min to pickup"
        + (f" (others: {', '.join(others)})" if others else "")
        + f"; {o['served']} of {len(decision.requests)} riders matched to "
        f"{len(decision.drivers)} free drivers with {_min(o['total_pickup_s'])} min of pickup "
        f"in all (nearest-first: {o['nearest_first_served']} riders, "
        f"{_min(o['nearest_first_total_pickup_s'])} min)"
    )


def _min(seconds: float) -> Decimal:
    return Decimal(seconds / 60).quantize(Decimal("0.1"))


class Batch(Aggregate):
    """One batch decision, recorded once and never changed: its inputs summarised and its result.

    Bounded: one event, sized by the batch (the requests waiting and the drivers free in one
    window), never by the city's history.
    """

    class Decided(Aggregate.Created):
        at: datetime
        policy: str
        requests: list[dict[str, Any]]
        drivers: list[str]
        offers: list[dict[str, Any]]
        unmatched: list[dict[str, Any]]
        objective: dict[str, Any]

    @event(Decided)
    def __init__(
        self,
        at: datetime,
        policy: str,
        requests: list[dict[str, Any]],
        drivers: list[str],
        offers: list[dict[str, Any]],
        unmatched: list[dict[str, Any]],
        objective: dict[str, Any],
    ) -> None:
        self.at = at
        self.policy = policy
        self.requests = requests
        self.drivers = drivers
        self.offers = offers
        self.unmatched = unmatched
        self.objective = objective

    @classmethod
    def record(cls, at: datetime, decision: Decision, policy: str = "batch") -> Batch:
        return cls(
            at=at,
            policy=policy,
            requests=[
                {
                    "ride_id": r.ride_id,
                    "waited_s": round(r.waited_s, 1),
                    "seats": r.seats,
                    "wheelchair": r.wheelchair,
                }
                for r in decision.requests
            ],
            drivers=list(decision.drivers),
            offers=[
                {
                    "ride_id": o.ride_id,
                    "driver_id": o.driver_id,
                    "pickup_s": round(o.pickup_s, 1),
                    "candidates": [[m, s] for m, s in o.candidates],
                }
                for o in decision.offers
            ],
            unmatched=[
                {"ride_id": u.ride_id, "reason": u.reason, "waited_s": round(u.waited_s, 1)}
                for u in decision.unmatched
            ],
            objective=dict(decision.objective),
        )

    def offer_for(self, ride_id: UUID | str) -> dict[str, Any] | None:
        return next((o for o in self.offers if o["ride_id"] == str(ride_id)), None)
