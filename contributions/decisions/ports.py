"""The port through which a passed decision adopts a value equation in contributions.

Decisions never imports the contributions service (services talk through events, and the
gateway is the one composition root). When a decision changing `contributions.equation`
passes, the decisions application calls the `EquationAdoption` the gateway wired in, after it
has stored the decision's result and the new policy version (so the adoption can always be
traced to a recorded decision). Until contributions offers `adopt_equation`, no adapter is
wired and the change is adopted as a policy change alone: contributions reads the equation in
force from `kernel.policies.Policies` (`config.contributions.equation`), named by version.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

EQUATION_PATH = "contributions.equation"


class EquationAdoption(Protocol):
    def adopt_equation(
        self, equation: Mapping[str, Any], decision_id: str, effective_from: datetime
    ) -> None:
        """Adopt `equation` (as the city config holds it: version, weights, caps, decay) from
        `effective_from`, as ratified by `decision_id`. Must be idempotent by decision id: a
        retried close calls it again."""
        ...
