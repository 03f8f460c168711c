"""The city model's large-neighbourhood search, forced on for a small roster."""

from __future__ import annotations

import pytest

from bench.city_week import generate, greedy_first_fit
from matching.roster_check import check_roster
from matching.rostering import model
from matching.rostering.model import solve_roster


@pytest.fixture
def lns_always(monkeypatch: pytest.MonkeyPatch) -> None:
    # The LNS normally starts at 5,000 pairs; forcing it on keeps the test small and fast.
    monkeypatch.setattr(model, "LNS_MIN_PAIRS", 0)


@pytest.mark.usefixtures("lns_always")
def test_lns_answer_is_legal_and_no_worse_than_the_hint() -> None:
    problem = generate(3, n_workers=30, n_shifts=150)
    hint = greedy_first_fit(problem)
    hinted = check_roster(problem, hint)
    result = solve_roster(problem, time_limit_s=6, seed=0, num_workers=1, hint=hint)
    assert result.status.has_solution
    assert result.stages[0][0] == "coverage"
    report = check_roster(problem, result.assignments)
    assert report.ok, report.violations
    assert result.objective is not None
    assert result.objective.unfilled == report.unfilled
    assert result.objective.max_shortfall_permille == report.max_shortfall_permille
    assert report.unfilled <= hinted.unfilled


def test_city_generator_is_seeded_and_mostly_coverable() -> None:
    a, b = generate(11, n_workers=60, n_shifts=400), generate(11, n_workers=60, n_shifts=400)
    assert a == b
    assert a != generate(12, n_workers=60, n_shifts=400)
    seats = sum(s.demand for s in a.shifts)
    # Realistic for a co-op: first-fit already fills most seats, but not all of them.
    filled = len(greedy_first_fit(a))
    assert 0.75 * seats <= filled < seats


def test_city_rest_rule_changes_only_the_rule() -> None:
    gig, board = generate(11, 40, 200), generate(11, 40, 200, min_rest_hours=11)
    assert gig.rules.min_rest_hours == 1.0  # the gig board's rule stays the default
    assert board.rules.min_rest_hours == 11.0
    assert (gig.shifts, gig.workers) == (board.shifts, board.workers)
    # The baseline obeys whichever rule the board set; the gig roster breaks the 11 h rule.
    assert check_roster(board, greedy_first_fit(board)).ok
    assert not check_roster(board, greedy_first_fit(gig)).ok
    with pytest.raises(ValueError, match="min_rest_hours"):
        generate(11, 5, 10, min_rest_hours=-1)
