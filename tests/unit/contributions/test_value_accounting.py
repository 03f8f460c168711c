"""Open value accounting on a real application (in-memory store, SQLite read models): logged work
and its validation, equations (and their adoption by a decision), closing, distribution,
contests. Every refusal is typed and changes nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contributions.application import Contributions
from contributions.contests import AlreadyContested, InvalidReview, NotYourLine, Outcome
from contributions.distribution import distribute, largest_remainder
from contributions.equations import InvalidEquation, ValueEquation
from contributions.logged import (
    AlreadyCounted,
    AlreadyValidated,
    InvalidContribution,
    OwnContribution,
)
from contributions.periods import InvalidPeriod, PeriodNotClosed, PeriodNotOpen, PeriodSpan
from contributions.policy import NotAdopted
from kernel.ids import new_member_id
from kernel.money import Money
from kernel.paging import page_request
from kernel.time import FixedClock
from tests.support.ledger import CITY, completed, consume

A, B, C, D = (new_member_id("demo") for _ in range(4))  # type: ignore[arg-type]
NOV = datetime(2026, 11, 10, 12, tzinfo=UTC)


def new_app(at: datetime = NOV) -> tuple[Contributions, FixedClock]:
    from kernel.config import Settings

    clock = FixedClock(at)
    return Contributions(Settings(persistence="popo"), city=CITY, clock=clock), clock


def counted_work(app: Contributions, member: str, kind: str, hours: str) -> str:
    logged = app.log_contribution(member, kind, Decimal(hours), date(2026, 11, 9))
    validators = [m for m in (A, B, C, D) if m != member][: CITY.contributions.validators]
    for peer in validators:
        app.validate_contribution(logged.id, peer)
    return logged.id


def state(app: Contributions) -> tuple[int, object]:
    ledger, _ = app.ledger()
    return app.head(), [(u.unit, u.debits, u.credits) for u in ledger.units()]


# -- logged work -------------------------------------------------------------------------------
def test_logged_work_counts_only_once_enough_peers_validate_it() -> None:
    app, _ = new_app()
    logged = app.log_contribution(A, "care", Decimal("3.5"), date(2026, 11, 9))
    assert logged.status == "pending"
    assert logged.required == 2
    pending = app.logged_page(page_request(10, None, arity=2), status="pending")
    assert [r.id for r in pending.items] == [logged.id]

    app.validate_contribution(logged.id, B)
    assert app.contribution_days().view.rows_of_generation("member_days", 1) == []
    after = app.validate_contribution(logged.id, C)

    assert after.status == "counted"
    assert after.validators == [B, C]
    rows = app.contribution_days().view.rows_of_generation("member_days", 1)
    assert [(r["member_id"], r["type"], r["quantity"]) for r in rows] == [
        (A, "work/care", Decimal("3.5"))
    ]
    ledger, _ = app.ledger()
    assert all(u.balanced for u in ledger.units())


@pytest.mark.parametrize(
    ("kind", "hours", "worked_on", "field"),
    [
        ("care", "-1", date(2026, 11, 9), "hours"),
        ("care", "0", date(2026, 11, 9), "hours"),
        ("care", "25", date(2026, 11, 9), "hours"),
        ("care", "1.001", date(2026, 11, 9), "hours"),
        ("gardening", "1", date(2026, 11, 9), "kind"),
        ("care", "1", date(2026, 12, 1), "workedOn"),
    ],
)
def test_bad_logged_work_is_refused_by_field_and_changes_nothing(
    kind: str, hours: str, worked_on: date, field: str
) -> None:
    app, _ = new_app()
    before = state(app)
    with pytest.raises(InvalidContribution) as refused:
        app.log_contribution(A, kind, Decimal(hours), worked_on)
    assert refused.value.field == field
    assert state(app) == before


def test_nobody_validates_their_own_work_or_validates_twice() -> None:
    app, _ = new_app()
    logged = app.log_contribution(A, "code", Decimal(2), date(2026, 11, 9))
    before = state(app)
    with pytest.raises(OwnContribution):
        app.validate_contribution(logged.id, A)
    app.validate_contribution(logged.id, B)
    middle = state(app)
    with pytest.raises(AlreadyValidated):
        app.validate_contribution(logged.id, B)
    assert state(app) == middle != before
    app.validate_contribution(logged.id, C)
    done = state(app)
    with pytest.raises(AlreadyCounted):
        app.validate_contribution(logged.id, D)
    assert state(app) == done
    assert app.logged(logged.id).validators == [B, C]


# -- equations ---------------------------------------------------------------------------------
def test_an_equation_weights_caps_and_decays() -> None:
    eq = ValueEquation.of({"work/driving": 1, "work/care": 2}, {"work/care": 5}, half_life_days=10)
    last = date(2026, 11, 30)
    points = eq.points(
        [
            (A, "work/driving", last, Decimal(4)),  # counts fully on the last day
            (A, "work/driving", last - timedelta(days=10), Decimal(4)),  # one half-life: 2
            (B, "work/care", last, Decimal(8)),  # capped at 5, weight 2
            (B, "work/code", last, Decimal(8)),  # no weight: counts nothing
        ],
        last,
    )
    assert points[A].total == Decimal(6)
    assert points[B].by_type == {"work/care": Decimal(10), "work/code": Decimal(0)}


@pytest.mark.parametrize(
    ("weights", "caps", "half_life", "field"),
    [
        ({"work/driving": -1}, {}, None, "weights.work/driving"),
        ({"work/driving": 1}, {"work/care": -2}, None, "caps.work/care"),
        ({"play/driving": 1}, {}, None, "weights.play/driving"),
        ({"driving": 1}, {}, None, "weights.driving"),
        ({"work/driving": "lots"}, {}, None, "weights.work/driving"),
        ({"work/driving": 1}, {}, 0, "halfLifeDays"),
        ({}, {}, None, "weights"),
    ],
)
def test_a_bad_equation_is_refused_naming_its_part(
    weights: dict[str, object], caps: dict[str, object], half_life: int | None, field: str
) -> None:
    with pytest.raises(InvalidEquation) as refused:
        ValueEquation.of(weights, caps, half_life)
    assert refused.value.field == field


def test_an_equation_is_adopted_by_a_decision_and_computations_name_its_version() -> None:
    app, _ = new_app()
    assert app.equation_in_force().version == 1
    proposed = ValueEquation.of({"work/driving": 2, "work/care": 1})
    before = state(app)
    with pytest.raises(NotAdopted):
        app.adopt_equation(proposed, "", datetime(2026, 12, 1, tzinfo=UTC))
    with pytest.raises(InvalidEquation):
        app.adopt_equation({"weights": {"work/driving": "-1"}}, "d-1", NOV)
    assert state(app) == before

    adopted = app.adopt_equation(proposed, "decision-7", datetime(2026, 12, 1, tzinfo=UTC))
    again = app.adopt_equation(proposed, "decision-7", datetime(2026, 12, 1, tzinfo=UTC))

    assert (adopted.version, again.version, again.decision_id) == (2, 2, "decision-7")
    assert app.equation_in_force(date(2026, 11, 30)).version == 1
    assert app.equation_in_force(date(2026, 12, 1)).version == 2
    with pytest.raises(NotAdopted):  # a later version cannot start before the one in force
        app.adopt_equation(proposed, "decision-8", datetime(2026, 11, 1, tzinfo=UTC))


def test_a_proposed_equation_is_simulated_beside_the_current_one() -> None:
    app, _ = new_app()
    consume(app, completed(A, 2000, Decimal(120), at=NOV), 1)  # 2 h driving
    counted_work(app, B, "care", "2")  # 2 h care, weight 1.5 in the demo city
    simulation = app.simulate_equation(ValueEquation.of({"work/driving": 1}), "2026-11")
    assert simulation.current_version == 1
    rows = {r.member_id: r for r in simulation.rows}
    assert rows[A].current_points == Decimal(2)
    assert rows[B].current_points == Decimal(3)
    assert rows[A].current_share == Decimal("0.4")
    assert rows[B].current_share == Decimal("0.6")
    assert rows[A].proposed_share == Decimal(1)
    assert rows[B].proposed_share == Decimal(0)


# -- periods and distribution ------------------------------------------------------------------
def test_a_period_closes_once_freezing_shares_under_the_equation_in_force() -> None:
    app, _clock = new_app()
    consume(app, completed(A, 2000, Decimal(60), at=NOV), 1)
    for _ in range(2):
        counted_work(app, B, "meeting", "15")  # 30 h, capped at 20 h, weight 0.5
    app.open_period("2026-11")
    with pytest.raises(PeriodNotClosed):
        app.distribute_surplus("2026-11", Decimal(100))
    closed = app.close_period("2026-11")
    before = state(app)
    with pytest.raises(PeriodNotOpen):
        app.close_period("2026-11")
    assert state(app) == before

    assert (closed.state, closed.equation_version, closed.members) == ("closed", 1, 2)
    shares = {
        s.member_id: s for s in app.member_shares("2026-11", page_request(10, None, arity=1)).items
    }
    assert shares[A].points == Decimal(1)
    assert shares[B].points == Decimal(10)
    # Work counted after the close does not change the frozen shares.
    consume(app, completed(A, 2000, Decimal(600), at=NOV), 2)
    again = app.member_shares("2026-11", page_request(10, None, arity=1)).items
    assert [s.points for s in again] == [shares[m].points for m in sorted(shares)]


def test_the_distribution_takes_the_levy_then_pays_members_to_the_cent() -> None:
    app, _ = new_app()
    consume(app, completed(A, 2000, Decimal(60), at=NOV), 1)
    consume(app, completed(B, 2000, Decimal(120), at=NOV), 2)
    consume(app, completed(C, 2000, Decimal(120), at=NOV), 3)
    app.open_period("2026-11")
    app.close_period("2026-11")
    done = app.distribute_surplus("2026-11", Decimal("1000.00"))

    assert (done.state, done.levy, done.surplus) == ("distributed", Decimal(100), Decimal(1000))
    paid = {
        s.member_id: s.dividend
        for s in app.member_shares("2026-11", page_request(10, None, arity=1)).items
    }
    assert paid == {A: Decimal(180), B: Decimal(360), C: Decimal(360)}
    ledger, _ = app.ledger()
    assert ledger.balance("commons:fund", "EUR") < 0  # credited the levy (and fare parts)
    assert ledger.balance("coop:surplus", "EUR") == Decimal(1000)
    assert all(u.balanced for u in ledger.units())
    with pytest.raises(PeriodNotClosed):
        app.distribute_surplus("2026-11", Decimal("1000.00"))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cents=st.integers(min_value=0, max_value=10**9),
    points=st.lists(st.decimals(min_value=0, max_value=10**6, places=4), min_size=1, max_size=30),
    levy=st.decimals(min_value=0, max_value=100, places=2),
)
def test_a_distribution_is_exact_and_sums_to_the_surplus(
    cents: int, points: list[Decimal], levy: Decimal
) -> None:
    surplus = Money.from_minor(cents, "EUR")
    members = {f"demo:m{i:03d}": p for i, p in enumerate(points)}
    made = distribute(surplus, members, levy)
    assert made.total == surplus
    assert all(m.amount >= 0 and m == Money(m.amount, "EUR") for m in made.dividends.values())
    assert abs(Fraction(made.levy.minor) - Fraction(cents) * Fraction(levy) / 100) <= Fraction(1, 2)
    whole = sum(members.values())
    rest = cents - made.levy.minor
    for member, amount in made.dividends.items():
        exact = (
            Fraction(rest) * Fraction(members[member]) / Fraction(whole) if whole else Fraction(0)
        )
        assert abs(amount.minor - exact) < 1  # never more than a cent from the exact part


def test_largest_remainder_breaks_ties_by_member_id_whatever_the_order() -> None:
    weights = {"demo:c": Fraction(1), "demo:a": Fraction(1), "demo:b": Fraction(1)}
    assert largest_remainder(100, weights) == {"demo:a": 34, "demo:b": 33, "demo:c": 33}
    assert largest_remainder(100, dict(reversed(weights.items()))) == {
        "demo:a": 34,
        "demo:b": 33,
        "demo:c": 33,
    }


def test_the_protocol_share_is_computed_from_the_citys_ledger_per_period() -> None:
    app, _ = new_app()
    consume(app, completed(A, 2000, Decimal(60), at=NOV), 1)
    consume(app, completed(A, 3050, Decimal(60), at=NOV), 2)
    consume(app, completed(A, 9999, Decimal(60), at=datetime(2026, 12, 2, tzinfo=UTC)), 3)
    share = app.protocol_share("2026-11")
    assert share.revenue == Money.of("50.50", "EUR")
    assert share.owed == Money.of("0.50", "EUR")  # 1 % of 50.50 is 0.505, half-even
    assert share.set_aside == Money.of("0.50", "EUR")  # the fare split's protocol parts


def test_period_keys_are_months_quarters_or_years() -> None:
    assert PeriodSpan.parse("2026-Q4").first_day == date(2026, 10, 1)
    for bad in ("2026-13", "2026-Q5", "november", "26-11"):
        with pytest.raises(InvalidPeriod):
            PeriodSpan.parse(bad)


# -- contests ----------------------------------------------------------------------------------
def test_a_contested_line_is_reviewed_and_the_outcome_shows_in_the_next_statement() -> None:
    app, clock = new_app()
    consume(app, completed(A, 2000, Decimal(120), at=NOV), 1)
    lines = app.statement_lines(A, "2026-11", page_request(10, None, arity=3)).items
    hours = next(x for x in lines if x.unit == "HOUR")
    line_no = app.read_model(__import__("contributions.projections").projections.Ledger).view.get(
        "lines", {"entry_id": hours.entry_id, "line": 1}
    )
    assert line_no is not None
    assert line_no["member_id"] == A
    before = state(app)
    with pytest.raises(NotYourLine):
        app.contest_line(B, hours.entry_id, 1)
    assert state(app) == before
    contest = app.contest_line(A, hours.entry_id, 1)
    with pytest.raises(AlreadyContested):
        app.contest_line(A, hours.entry_id, 1)
    with pytest.raises(InvalidReview):
        app.review_contest(contest.contest_id, Outcome.CHANGED, None, B)
    with pytest.raises(InvalidReview):
        app.review_contest(contest.contest_id, Outcome.KEPT, None, A)  # not one's own

    clock.advance(timedelta(days=25))  # reviewed in December
    decided = app.review_contest(contest.contest_id, Outcome.CHANGED, Decimal("1.5"), B)

    assert (decided.status, decided.outcome, decided.quantity) == (
        "decided",
        "changed",
        Decimal("1.5"),
    )
    december = app.statement_lines(A, "2026-12", page_request(10, None, arity=3)).items
    assert [(x.amount, x.unit) for x in december] == [(Decimal("0.50"), "HOUR")]
    ledger, _ = app.ledger()
    assert ledger.member_totals(A, "EUR").hours_driving == Decimal("1.50")
    assert all(u.balanced for u in ledger.units())


def test_a_decayed_share_from_sql_equals_the_equation_applied_day_by_day() -> None:
    app, _ = new_app()
    for i, (who, minutes) in enumerate([(A, 60), (A, 90), (B, 30), (B, 240)]):
        at = datetime(2026, 11, 2 + 9 * i, 8, tzinfo=UTC)
        consume(app, completed(who, 1500, Decimal(minutes), at=at), i + 1)
    eq = ValueEquation.of({"work/driving": "1.5"}, {"work/driving": "3"}, half_life_days=7)
    simulation = app.simulate_equation(eq, "2026-11")

    last = date(2026, 11, 30)
    rows = [
        (r["member_id"], r["type"], date.fromisoformat(r["day"]), r["quantity"])
        for r in app.contribution_days().view.rows_of_generation("member_days", 1)
    ]
    by_hand = eq.points(rows, last)
    assert {r.member_id: r.proposed_points for r in simulation.rows} == {
        m: p.total for m, p in by_hand.items()
    }
