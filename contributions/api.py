"""GraphQL for contributions: a member's credits, the board's trial balance and account
balances, all read from tables (the `Ledger` read model; the board's parked messages are
gateway/parked.py's).

Lists are Relay connections (`first`, `after`, `seen`). Roles are checked by the Guard from
`kernel.permissions.MATRIX`; what depends on the row (a member sees only their own accounts)
is checked here. Bad paging arguments are `InvalidInput` naming the field; a `seen` the read
model does not reach in time is `NotCaughtUp`.
"""

from __future__ import annotations

from datetime import date, datetime  # noqa: TC003 (strawberry resolves annotations at runtime)
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, TypeVar

import strawberry
from strawberry.types import Info  # noqa: TC002 (strawberry reads resolver hints at runtime)

from contributions.activity import MAX_DAYS, BadRange, RangeTooLong
from contributions.application import Contributions
from contributions.domain import member_of
from contributions.projections import ACCOUNT_ORDER, LINE_ORDER, Ledger
from kernel.api import (
    Context,
    InvalidInput,
    NotAuthenticated,
    NotAuthorized,
    NotCaughtUp,
    NotFound,
    Problem,
)
from kernel.connections import Connection, connection
from kernel.paging import page_request
from kernel.problems import call, shared_problem

if TYPE_CHECKING:
    from collections.abc import Callable

    from contributions import activity, projections

T = TypeVar("T")


@strawberry.type(name="LedgerLine")
class LedgerLineView:
    entry_id: str
    line: int = strawberry.field(description="The line's place in its entry (to contest it).")
    account: str
    amount: Decimal = strawberry.field(description="Debits positive, credits negative.")
    credit: Decimal = strawberry.field(description="What the account was credited (-amount).")
    unit: str
    memo: str
    at: datetime

    @classmethod
    def from_line(cls, line: projections.LedgerLine) -> LedgerLineView:
        return cls(
            entry_id=line.entry_id,
            line=line.line,
            account=line.account,
            amount=line.amount,
            credit=-line.amount,
            unit=line.unit,
            memo=line.memo,
            at=line.at,
        )


@strawberry.type
class Credits:
    member_id: str
    hours_driving: Decimal
    earnings: Decimal
    currency: str
    lines: Connection[LedgerLineView] = strawberry.field(description="Newest first.")


@strawberry.type(name="AccountBalance")
class AccountBalanceView:
    account: str
    unit: str
    balance: Decimal = strawberry.field(description="Debits positive, credits negative.")
    as_of: str | None = None

    @classmethod
    def from_row(
        cls, row: projections.AccountBalance, as_of: str | None = None
    ) -> AccountBalanceView:
        return cls(account=row.account, unit=row.unit, balance=row.balance, as_of=as_of)


@strawberry.type
class UnitTotal:
    unit: str
    debits: Decimal
    credits: Decimal = strawberry.field(description="The credits' total, as a positive amount.")
    entries: int
    balanced: bool


@strawberry.type(name="TrialBalance")
class TrialBalanceView:
    city: str
    entries: int
    balanced: bool = strawberry.field(description="True when every unit's debits equal credits.")
    units: list[UnitTotal]
    accounts: Connection[AccountBalanceView] = strawberry.field(
        description="Every account's balance, by unit then account."
    )


@strawberry.type(
    description="The city's ledger in aggregate: totals per unit, never an account (regulator)."
)
class LedgerTotals:
    city: str
    entries: int
    balanced: bool
    units: list[UnitTotal]
    as_of: str


@strawberry.type(description="One day's figures; a day without any is zeros.")
class ActivityDay:
    day: date = strawberry.field(description="The city's local date.")
    rides: int = strawberry.field(description="Rides completed (their fares were collected).")
    fares: Decimal = strawberry.field(description="Fares collected, in `currency`.")
    earnings: Decimal = strawberry.field(
        description="Credited to members' accounts in `currency` (drivers' parts of the fares)."
    )
    hours: Decimal = strawberry.field(description="Hours of contribution credited to members.")

    @classmethod
    def of(cls, day: activity.ActivityDay) -> ActivityDay:
        return cls(
            day=day.day, rides=day.rides, fares=day.fares, earnings=day.earnings, hours=day.hours
        )


@strawberry.type(
    description="Rides, fares and credits per day, from the ledger (the trial balance's "
    "figures, day by day): totals only, no account, no member."
)
class CityActivity:
    city: str
    currency: str
    time_zone: str = strawberry.field(description="The zone the days are dates in.")
    days: list[ActivityDay] = strawberry.field(description="Every day of the range, in order.")
    total: ActivityDay = strawberry.field(description="The range's sums (`day` is its last).")
    as_of: str


@strawberry.type(
    name="RangeTooLong",
    description=f"A range of more days than one read holds (at most {MAX_DAYS}).",
)
class RangeTooLongProblem(Problem):
    max_days: int
    days_asked: int


Refusals = NotAuthenticated | NotAuthorized
ReadProblems = InvalidInput | NotCaughtUp
CreditsResult = Annotated[Credits | ReadProblems | Refusals, strawberry.union("CreditsResult")]
TrialBalanceResult = Annotated[
    TrialBalanceView | ReadProblems | Refusals, strawberry.union("TrialBalanceResult")
]
AccountBalanceResult = Annotated[
    AccountBalanceView | NotFound | ReadProblems | Refusals,
    strawberry.union("AccountBalanceResult"),
]
LedgerTotalsResult = Annotated[
    LedgerTotals | ReadProblems | Refusals, strawberry.union("LedgerTotalsResult")
]
LedgerLinesResult = Annotated[
    Connection[LedgerLineView] | ReadProblems | Refusals, strawberry.union("LedgerLinesResult")
]
CityActivityResult = Annotated[
    CityActivity | RangeTooLongProblem | ReadProblems | Refusals,
    strawberry.union("CityActivityResult"),
]


async def _read(app: Contributions, read: Callable[[], T]) -> T | InvalidInput | NotCaughtUp:
    """Run a read in a thread; bad paging arguments and a read model behind `seen` are typed."""
    return await call(read, lambda exc: shared_problem(exc, app.service))


def _unit_totals(ledger: Ledger) -> list[UnitTotal]:
    return [
        UnitTotal(
            unit=u.unit, debits=u.debits, credits=u.credits, entries=u.entries, balanced=u.balanced
        )
        for u in ledger.units()
    ]


@strawberry.type
class ContributionsQuery:
    @strawberry.field(
        description="The caller's credits: totals, and their ledger lines, newest first."
    )
    async def my_credits(
        self,
        info: Info[Context, None],
        first: int | None = None,
        after: str | None = None,
        seen: str | None = None,
    ) -> CreditsResult:
        member = info.context.caller.member_id
        app = info.context.app(Contributions)

        def read() -> Credits:
            request = page_request(first, after, arity=len(LINE_ORDER))
            ledger, as_of = app.ledger(seen)
            totals = ledger.member_totals(member, app.city.currency)
            page = ledger.member_lines(member, request)
            return Credits(
                member_id=member,
                hours_driving=totals.hours_driving,
                earnings=totals.earnings,
                currency=app.city.currency,
                lines=connection(page, LedgerLineView.from_line, as_of=as_of, after=after),
            )

        return await _read(app, read)

    @strawberry.field(description="The city's trial balance: totals per unit and every account.")
    async def trial_balance(
        self,
        info: Info[Context, None],
        first: int | None = None,
        after: str | None = None,
        seen: str | None = None,
    ) -> TrialBalanceResult:
        app = info.context.app(Contributions)

        def read() -> TrialBalanceView:
            request = page_request(first, after, arity=len(ACCOUNT_ORDER))
            ledger, as_of = app.ledger(seen)
            units = _unit_totals(ledger)
            page = ledger.accounts(request)
            return TrialBalanceView(
                city=app.city.id,
                entries=ledger.entries(),
                balanced=all(u.balanced for u in units),
                units=units,
                accounts=connection(page, AccountBalanceView.from_row, as_of=as_of, after=after),
            )

        return await _read(app, read)

    @strawberry.field(
        description="The city's ledger in aggregate (totals per unit): what a regulator sees."
    )
    async def ledger_totals(
        self, info: Info[Context, None], seen: str | None = None
    ) -> LedgerTotalsResult:
        app = info.context.app(Contributions)

        def read() -> LedgerTotals:
            ledger, as_of = app.ledger(seen)
            units = _unit_totals(ledger)
            return LedgerTotals(
                city=app.city.id,
                entries=ledger.entries(),
                balanced=all(u.balanced for u in units),
                units=units,
                as_of=as_of,
            )

        return await _read(app, read)

    @strawberry.field(
        description=(
            "One account's balance in one unit. A member may ask for their own accounts "
            "(member:<their id>:...); the board for any."
        )
    )
    async def account_balance(
        self, info: Info[Context, None], account: str, unit: str, seen: str | None = None
    ) -> AccountBalanceResult:
        caller = info.context.caller
        if not caller.has("board") and member_of(account) != caller.member_id:
            return NotAuthorized(
                message="only the board sees accounts other than one's own",
                required_role="board",
            )
        app = info.context.app(Contributions)

        def read() -> AccountBalanceView | NotFound:
            ledger, as_of = app.ledger(seen)
            found = ledger.account(account, unit)
            if found is None:
                return NotFound(message=f"nothing was ever posted to {account} in {unit}")
            return AccountBalanceView.from_row(found, as_of)

        return await _read(app, read)

    @strawberry.field(
        description="Every line of the ledger, newest first; only one account's if `account` "
        "is given (an account of `trialBalance`)."
    )
    async def ledger_lines(
        self,
        info: Info[Context, None],
        account: str | None = None,
        first: int | None = None,
        after: str | None = None,
        seen: str | None = None,
    ) -> LedgerLinesResult:
        app = info.context.app(Contributions)

        def read() -> Connection[LedgerLineView]:
            request = page_request(first, after, arity=len(LINE_ORDER))
            ledger, as_of = app.ledger(seen)
            page = ledger.lines_page(request, account=account)
            return connection(page, LedgerLineView.from_line, as_of=as_of, after=after)

        return await _read(app, read)

    @strawberry.field(
        description=f"Rides completed, fares collected and credits per day, from `from` to "
        f"`to` inclusive (the city's dates; at most {MAX_DAYS} days): the board's chart."
    )
    async def city_activity(
        self,
        info: Info[Context, None],
        from_: Annotated[date, strawberry.argument(name="from")],
        to: date,
        seen: str | None = None,
    ) -> CityActivityResult:
        app = info.context.app(Contributions)

        def read() -> CityActivity | RangeTooLongProblem | InvalidInput:
            model, as_of = app.activity(seen)
            try:
                days = model.days(from_, to, currency=app.city.currency)
            except RangeTooLong as exc:
                return RangeTooLongProblem(message=str(exc), max_days=MAX_DAYS, days_asked=exc.days)
            except BadRange as exc:
                return InvalidInput(message=str(exc), field=exc.field)
            return CityActivity(
                city=app.city.id,
                currency=app.city.currency,
                time_zone=app.city.timezone,
                days=[ActivityDay.of(d) for d in days],
                total=ActivityDay(
                    day=to,
                    rides=sum(d.rides for d in days),
                    fares=sum((d.fares for d in days), Decimal(0)),
                    earnings=sum((d.earnings for d in days), Decimal(0)),
                    hours=sum((d.hours for d in days), Decimal(0)),
                ),
                as_of=as_of,
            )

        return await _read(app, read)
