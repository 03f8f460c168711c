"""Pickup-and-delivery routing (dial-a-ride, PDPTW) on OR-Tools routing.

Public API: build a `RoutingProblem` from `Node`, `Request` and `Vehicle`; call `solve` for a
plan or `reoptimise` after a booking is added or cancelled; both return a `RoutingResult`.
"""

from __future__ import annotations

from matching.routing.problem import (
    OPEN,
    Node,
    Promise,
    Request,
    Route,
    RoutingProblem,
    RoutingResult,
    Unserved,
    Vehicle,
    Visit,
)
from matching.routing.reoptimise import reoptimise
from matching.routing.search import SearchOptions
from matching.routing.solver import solve
from matching.status import InvalidProblem, SolveStatus

__all__ = [
    "OPEN",
    "InvalidProblem",
    "Node",
    "Promise",
    "Request",
    "Route",
    "RoutingProblem",
    "RoutingResult",
    "SearchOptions",
    "SolveStatus",
    "Unserved",
    "Vehicle",
    "Visit",
    "reoptimise",
    "solve",
]
