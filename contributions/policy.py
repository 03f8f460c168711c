"""Adopted value equations: one small aggregate per version, each naming the decision behind it.

Version 1 is the city config's `[contributions.equation]` and needs no event. Every later version
is recorded here when a passed decision's `decisions.PolicyChanged` changes the policy path
`contributions.equation` (contributions' consumer applies it, in embedded mode and at scale
alike): its id is the version, so two adoptions of the same version cannot both be stored, and a
decision already adopted is not adopted again.
"""

from __future__ import annotations

from datetime import datetime  # noqa: TC003 (eventsourcing reads event annotations)
from typing import Any

from eventsourcing.domain import Aggregate, event

from contributions.domain import ContributionsError
from kernel.ids import stable_uuid

# The policy path (kernel.policies) a decision changes to ratify a value equation.
EQUATION_PATH = "contributions.equation"


class NotAdopted(ContributionsError):
    """An adoption refused: no decision named, or a start before what is already in force."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class EquationAdoption(Aggregate):
    @staticmethod
    def create_id(city: str, version: int) -> Any:
        return stable_uuid("value-equation", city, str(version))

    class Adopted(Aggregate.Created):
        city: str
        version: int
        equation: dict[str, Any]
        decision_id: str
        effective_from: datetime
        adopted_at: datetime

    @event(Adopted)
    def __init__(
        self,
        city: str,
        version: int,
        equation: dict[str, Any],
        decision_id: str,
        effective_from: datetime,
        adopted_at: datetime,
    ) -> None:
        self.city = city
        self.version = version
        self.equation = equation
        self.decision_id = decision_id
        self.effective_from = effective_from
        self.adopted_at = adopted_at
