"""The status every solver result carries, so an infeasible model is never hidden."""

from __future__ import annotations

from enum import StrEnum


class SolveStatus(StrEnum):
    """Outcome of a solve.

    OPTIMAL: proven optimal. FEASIBLE: a solution, optimality not proven, search finished or
    stopped by a limit other than time. TIMED_OUT: the time limit was hit; the result holds the
    best solution found, if any. INFEASIBLE: proven that no solution satisfies the hard constraints.
    """

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    TIMED_OUT = "timed_out"
    INFEASIBLE = "infeasible"

    @property
    def has_solution(self) -> bool:
        return self in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE, SolveStatus.TIMED_OUT)


class InvalidProblem(ValueError):
    """A solver input breaks a rule the solver states (e.g. a window that ends before it starts).

    The message names the offending item and the rule, so a caller can show it as it is.
    """
