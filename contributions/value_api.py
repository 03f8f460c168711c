"""GraphQL for open value accounting: logging and validating work, equations and their
simulation, periods, statements, contests and the board's period report.

Every answer is a union of its result and typed problems that changed nothing. Who may call is
the matrix (kernel.permissions); what depends on the row (one's own line, one's own work) is
checked by the commands and answered as its own type. Lists are cursor-paged connections.
An equation is never adopted here: only a recorded decision adopts one
(`Contributions.adopt_equation`, when contributions consumes a ratifying `decisions.PolicyChanged`).
"""

from __future__ import annotations

from datetime import date, datetime  # noqa: TC003 (strawberry resolves annotations at runtime)
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import strawberry
from starlette.concurrency import run_in_threadpool
from strawberry.types import Info  # noqa: TC002

from contributions import contests, distribution, equations, logged, periods, policy
from contributions.api import LedgerLineView
from contributions.application import Contributions
from contributions.crediting import logged_type
from contributions.equations import ValueEquation, share_of
from contributions.written import InvalidText
from kernel.api import (
    Context,
    InvalidInput,
    NotAuthenticated,
    NotAuthorized,
    NotFound,
    Problem,
)
from kernel.connections import Connection, connection
from kernel.paging import Page, page_request
from kernel.problems import call, shared_problem
from kernel.readside.freshness import position_token, written

if TYPE_CHECKING:
    from collections.abc import Callable

    from contributions import shares as shares_mod
    from contributions import value_accounting as va

T = TypeVar("T")


# -- problems ------------------------------------------------------------------------------------
@strawberry.type(description="Nobody validates their own contribution.")
class CannotValidateOwnWork(Problem):
    contribution_id: str


@strawberry.type(description="The caller has validated this contribution already.")
class AlreadyValidated(Problem):
    contribution_id: str


@strawberry.type(description="The contribution has every validation it needs; it counts.")
class AlreadyCounted(Problem):
    contribution_id: str


@strawberry.type(description="The period is not in the state this needs (closing twice).")
class PeriodNotInState(Problem):
    period_key: str
    state: str


@strawberry.type(description="Only the member whose account a line is on may contest it.")
class NotYourLine(Problem):
    entry_id: str
    line: int


@strawberry.type(description="This line is contested already.")
class AlreadyContested(Problem):
    contest_id: str


@strawberry.type(description="This contest was reviewed already; its outcome stands.")
class AlreadyReviewed(Problem):
    contest_id: str


Refusals = NotAuthenticated | NotAuthorized
Common = InvalidInput | NotFound | NotAuthenticated | NotAuthorized


def _problem(exc: Exception, **ids: Any) -> Problem | None:
    """The typed answer for an expected failure of a command, or None if it is not one."""
    shared = shared_problem(exc, "contributions", id_field=ids.get("field", "id"))
    if shared is not None:
        return shared
    message = str(exc)
    if isinstance(
        exc,
        logged.InvalidContribution
        | equations.InvalidEquation
        | policy.NotAdopted
        | contests.InvalidReview
        | InvalidText,
    ):
        return InvalidInput(message=message, field=exc.field)
    if isinstance(exc, distribution.InvalidSurplus):
        return InvalidInput(message=message, field="surplus")
    if isinstance(exc, periods.InvalidPeriod):
        return InvalidInput(message=message, field="period")
    if isinstance(exc, logged.OwnContribution):
        return CannotValidateOwnWork(message=message, contribution_id=ids.get("contribution", ""))
    if isinstance(exc, logged.AlreadyValidated):
        return AlreadyValidated(message=message, contribution_id=ids.get("contribution", ""))
    if isinstance(exc, logged.AlreadyCounted):
        return AlreadyCounted(message=message, contribution_id=ids.get("contribution", ""))
    if isinstance(exc, periods.PeriodNotOpen | periods.PeriodNotClosed):
        return PeriodNotInState(message=message, period_key=exc.key, state=exc.state)
    if isinstance(exc, periods.PeriodAlreadyOpen):
        return PeriodNotInState(message=message, period_key=exc.key, state="open")
    if isinstance(exc, contests.NotYourLine):
        return NotYourLine(message=message, entry_id=ids.get("entry", ""), line=ids.get("line", 0))
    if isinstance(exc, contests.AlreadyContested):
        return AlreadyContested(message=message, contest_id=exc.contest_id)
    if isinstance(exc, contests.AlreadyReviewed):
        return AlreadyReviewed(message=message, contest_id=ids.get("contest", ""))
    if isinstance(
        exc, logged.ContributionNotFound | contests.LineNotFound | contests.ContestNotFound
    ):
        return NotFound(message=message)
    return None


async def _call(work: Callable[[], T], **ids: Any) -> T | Any:
    return await call(work, lambda exc: _problem(exc, **ids))


# -- types ---------------------------------------------------------------------------------------
@strawberry.enum
class ReviewOutcome(Enum):
    KEPT = "kept"
    CHANGED = "changed"
    REMOVED = "removed"


@strawberry.type(description="A contribution type in the ValueFlows vocabulary.")
class ContributionTypeView:
    key: str = strawberry.field(description="`<action>/<resource>`, e.g. work/driving.")
    action: str
    resource: str
    unit: str
    logged: bool = strawberry.field(description="Logged by members and validated by peers.")


@strawberry.type(name="LoggedContribution")
class LoggedView:
    id: str
    member_id: str
    kind: str
    type: str
    hours: Decimal
    worked_on: date
    logged_at: datetime
    required: int = strawberry.field(description="Validations it needs (the city's config).")
    validators: list[str]
    status: str = strawberry.field(description="pending, or counted once validated.")
    note: str | None = strawberry.field(
        default=None,
        description="What the member wrote about the work (kept in their vault; null once erased).",
    )

    @classmethod
    def of(cls, r: va.LoggedRecord) -> LoggedView:
        return cls(
            id=r.id,
            member_id=r.member_id,
            kind=r.kind,
            type=logged_type(r.kind).key,
            hours=r.hours,
            worked_on=r.worked_on,
            logged_at=r.logged_at,
            required=r.required,
            validators=r.validators,
            status=r.status,
            note=r.note,
        )


@strawberry.type(name="LoggedContributionConnection")
class LoggedConnection(Connection[LoggedView]):
    """Made concrete: a union tells its members apart by their class (Connection.of)."""


@strawberry.type
class LoggedChanged:
    contribution: LoggedView
    position: str


@strawberry.type
class TypeAmount:
    type: str
    amount: Decimal


@strawberry.type(name="ValueEquation")
class EquationView:
    version: int
    weights: list[TypeAmount]
    caps: list[TypeAmount]
    half_life_days: int | None
    effective_from: datetime | None = strawberry.field(description="None: from the start.")
    decision_id: str | None = strawberry.field(description="None: the city config's version 1.")

    @classmethod
    def of(cls, v: equations.EquationVersion) -> EquationView:
        eq = v.equation
        return cls(
            version=v.version,
            weights=[TypeAmount(type=k, amount=a) for k, a in sorted(eq.weights.items())],
            caps=[TypeAmount(type=k, amount=a) for k, a in sorted(eq.caps.items())],
            half_life_days=eq.half_life_days,
            effective_from=v.effective_from,
            decision_id=v.decision_id,
        )


@strawberry.type
class ValueEquations:
    in_force: EquationView
    versions: list[EquationView] = strawberry.field(description="Oldest first.")


@strawberry.input
class TypeAmountInput:
    type: str
    amount: Decimal


@strawberry.input(description="A proposed equation: weights, caps (per member and period), decay.")
class EquationInput:
    weights: list[TypeAmountInput]
    caps: list[TypeAmountInput] = strawberry.field(default_factory=list)
    half_life_days: int | None = None

    def to_equation(self) -> ValueEquation:
        return ValueEquation.of(
            {w.type: w.amount for w in self.weights},
            {c.type: c.amount for c in self.caps},
            self.half_life_days,
        )


@strawberry.type
class SimulatedShareView:
    member_id: str
    current_points: Decimal
    current_share: Decimal
    proposed_points: Decimal
    proposed_share: Decimal
    change: Decimal


@strawberry.type
class SimulationView:
    period: str
    current_version: int = strawberry.field(description="The equation in force, by version.")
    current_total: Decimal
    proposed_total: Decimal
    shares: Connection[SimulatedShareView] = strawberry.field(description="By member id.")


@strawberry.type(name="Period")
class PeriodView:
    period: str
    kind: str
    first_day: date
    last_day: date
    state: str = strawberry.field(description="open, closed or distributed.")
    equation_version: int | None = strawberry.field(description="The version its shares used.")
    total_points: Decimal
    members: int
    currency: str | None
    surplus: Decimal
    levy: Decimal
    levy_percent: Decimal
    unclaimed: Decimal

    @classmethod
    def of(cls, r: va.PeriodRecord) -> PeriodView:
        return cls(**vars(r))


@strawberry.type(name="PeriodConnection")
class PeriodConnection(Connection[PeriodView]):
    """Made concrete: a union tells its members apart by their class (Connection.of)."""


@strawberry.type
class PeriodChanged:
    period: PeriodView
    position: str


@strawberry.type(name="MemberShare")
class MemberShareView:
    member_id: str
    points: Decimal
    share: Decimal
    dividend: Decimal


@strawberry.type(name="Contest")
class ContestView:
    contest_id: str
    member_id: str
    entry_id: str
    line: int
    account: str
    unit: str
    credited: Decimal
    status: str = strawberry.field(description="in_review or decided.")
    opened_at: datetime
    outcome: str | None = strawberry.field(description="kept, changed or removed.")
    quantity: Decimal | None = strawberry.field(description="What the line credits after review.")
    reviewer: str | None
    reviewed_at: datetime | None
    reason: str | None = strawberry.field(
        default=None,
        description="Why the member contested the line (kept in their vault; null once erased).",
    )

    @classmethod
    def of(cls, r: va.ContestRecord) -> ContestView:
        return cls(**vars(r))


@strawberry.type(name="ContestConnection")
class ContestConnection(Connection[ContestView]):
    """Made concrete: a union tells its members apart by their class (Connection.of)."""


@strawberry.type
class ContestChanged:
    contest: ContestView
    position: str


@strawberry.type(name="Statement")
class StatementView:
    member_id: str
    period: str
    state: str
    equation_version: int | None = strawberry.field(
        description="The version the shares use: frozen at close, else the one in force."
    )
    points: Decimal
    share: Decimal
    dividend: Decimal
    by_type: list[TypeAmount]
    lines: Connection[LedgerLineView] = strawberry.field(description="Dated in the period.")
    contests: list[ContestView] = strawberry.field(
        description="The member's contests, oldest first."
    )


@strawberry.type
class TypeTotal:
    type: str
    points: Decimal
    members: int


@strawberry.type(name="Distribution")
class DistributionView:
    currency: str | None
    surplus: Decimal
    levy_percent: Decimal
    levy: Decimal = strawberry.field(description="To the commons fund, first.")
    to_members: Decimal
    unclaimed: Decimal = strawberry.field(description="To the commons when nobody had points.")


@strawberry.type(name="ProtocolShare")
class ProtocolShareView:
    period: str
    currency: str
    revenue: Decimal
    percent: Decimal
    owed: Decimal = strawberry.field(description="Owed upstream under the city's agreement.")
    set_aside: Decimal = strawberry.field(description="What the ledger set aside for it.")
    difference: Decimal

    @classmethod
    def of(cls, s: shares_mod.ProtocolShare) -> ProtocolShareView:
        return cls(
            period=s.period,
            currency=s.owed.currency,
            revenue=s.revenue.amount,
            percent=s.percent,
            owed=s.owed.amount,
            set_aside=s.set_aside.amount,
            difference=s.difference.amount,
        )


@strawberry.type
class FrequencyBucket:
    credits: str = strawberry.field(description="How many contributions: 1, 2-5, 6-20, 21+.")
    members: int


@strawberry.type(name="Participation")
class ParticipationView:
    contributors: int
    credits: int
    credits_per_contributor: Decimal
    active_days: int = strawberry.field(description="Member-days with a contribution.")
    by_frequency: list[FrequencyBucket]
    by_type: list[TypeAmount] = strawberry.field(description="Contributors per type.")


@strawberry.type
class PeriodReport:
    period: PeriodView
    frozen: bool = strawberry.field(description="Shares frozen at close (else live, in force).")
    shares: Connection[MemberShareView] = strawberry.field(description="By member id.")
    by_type: list[TypeTotal]
    distribution: DistributionView | None
    protocol_share: ProtocolShareView
    participation: ParticipationView


@strawberry.type
class ContributionTypes:
    types: list[ContributionTypeView]


TypesResult = Annotated[
    ContributionTypes | NotAuthenticated | NotAuthorized,
    strawberry.union("ContributionTypesResult"),
]


LoggedResult = Annotated[
    LoggedChanged | CannotValidateOwnWork | AlreadyValidated | AlreadyCounted | Common,
    strawberry.union("LoggedContributionResult"),
]
LoggedListResult = Annotated[
    LoggedConnection | InvalidInput | NotAuthenticated | NotAuthorized,
    strawberry.union("LoggedContributionsResult"),
]
EquationsResult = Annotated[
    ValueEquations | NotAuthenticated | NotAuthorized, strawberry.union("ValueEquationsResult")
]
SimulationResult = Annotated[
    SimulationView | InvalidInput | NotAuthenticated | NotAuthorized,
    strawberry.union("SimulationResult"),
]
PeriodResult = Annotated[
    PeriodChanged | PeriodNotInState | Common, strawberry.union("PeriodChangeResult")
]
PeriodsResult = Annotated[
    PeriodConnection | InvalidInput | NotAuthenticated | NotAuthorized,
    strawberry.union("PeriodsResult"),
]
StatementResult = Annotated[
    StatementView | PeriodNotInState | InvalidInput | NotAuthenticated | NotAuthorized,
    strawberry.union("StatementResult"),
]
ReportResult = Annotated[
    PeriodReport | PeriodNotInState | InvalidInput | NotAuthenticated | NotAuthorized,
    strawberry.union("PeriodReportResult"),
]
ContestResult = Annotated[
    ContestChanged | NotYourLine | AlreadyContested | AlreadyReviewed | Common,
    strawberry.union("ContestResult"),
]
ContestsResult = Annotated[
    ContestConnection | InvalidInput | NotAuthenticated | NotAuthorized,
    strawberry.union("ContestsResult"),
]


def _as_of(app: Contributions) -> str:
    return position_token(app.service, app.head())


def _types(app: Contributions) -> list[ContributionTypeView]:
    found = {
        t.key: ContributionTypeView(
            key=t.key, action=t.action.value, resource=t.resource, unit=t.unit, logged=False
        )
        for t in app.rules.types
    }
    for kind in app.city.contributions.logged_kinds:
        t = logged_type(kind)
        found[t.key] = ContributionTypeView(
            key=t.key, action=t.action.value, resource=t.resource, unit=t.unit, logged=True
        )
    return [found[k] for k in sorted(found)]


def report_of(app: Contributions, key: str, first: int | None, after: str | None) -> PeriodReport:
    """The board's report of one period (GraphQL `periodReport`, and the CSV routes)."""
    request = page_request(first, after, arity=1)
    period = app.period(key)
    frozen = period.state != "open"
    as_of = _as_of(app)
    if frozen:
        page = app.member_shares(key, request)
        by_type = [
            TypeTotal(type=r["type"], points=r["points"], members=r["rows"])
            for r in app.points_by_type(key)
        ]
    else:
        page, by_type = _live_shares(app, key, request)
    shares = connection(page, lambda s: MemberShareView(**vars(s)), as_of=as_of, after=after)
    made = None
    if period.state == "distributed":
        made = DistributionView(
            currency=period.currency,
            surplus=period.surplus,
            levy_percent=period.levy_percent,
            levy=period.levy,
            to_members=period.surplus - period.levy - period.unclaimed,
            unclaimed=period.unclaimed,
        )
    p = app.participation(key)
    return PeriodReport(
        period=PeriodView.of(period),
        frozen=frozen,
        shares=shares,
        by_type=by_type,
        distribution=made,
        protocol_share=ProtocolShareView.of(app.protocol_share(key)),
        participation=ParticipationView(
            contributors=p.contributors,
            credits=p.credits,
            credits_per_contributor=p.credits_per_contributor,
            active_days=p.active_days,
            by_frequency=[FrequencyBucket(credits=k, members=v) for k, v in p.by_frequency.items()],
            by_type=[TypeAmount(type=k, amount=Decimal(v)) for k, v in p.by_type.items()],
        ),
    )


def _live_shares(
    app: Contributions, key: str, request: Any
) -> tuple[Page[va.MemberShare], list[TypeTotal]]:
    """An open period's shares as they stand, under the equation in force on its last day."""
    from contributions.periods import PeriodSpan
    from contributions.shares import period_points
    from contributions.value_accounting import MemberShare

    span = PeriodSpan.parse(key)
    points = period_points(
        app.contribution_days(), app.equation_in_force(span.last_day).equation, span
    )
    total = sum((p.total for p in points.values()), Decimal(0))
    members = sorted(m for m in points if request.after is None or m > request.after[0])
    shown = members[: request.first]
    from kernel.paging import encode_cursor

    page = Page(
        items=[
            MemberShare(m, points[m].total, share_of(points[m].total, total), Decimal(0))
            for m in shown
        ],
        cursors=[encode_cursor([m]) for m in shown],
        has_next=len(members) > request.first,
    )
    per_type: dict[str, tuple[Decimal, int]] = {}
    for p in points.values():
        for kind, amount in p.by_type.items():
            got, n = per_type.get(kind, (Decimal(0), 0))
            per_type[kind] = (got + amount, n + 1)
    by_type = [TypeTotal(type=k, points=v[0], members=v[1]) for k, v in sorted(per_type.items())]
    return page, by_type


@strawberry.type
class ValueAccountingQuery:
    @strawberry.field(
        description="Every contribution type: what services credit, what members log."
    )
    async def contribution_types(self, info: Info[Context, None]) -> TypesResult:
        return ContributionTypes(types=_types(info.context.app(Contributions)))

    @strawberry.field(description="The value equation in force and every adopted version.")
    async def value_equations(self, info: Info[Context, None]) -> EquationsResult:
        app = info.context.app(Contributions)

        def read() -> ValueEquations:
            versions = app.equation_versions()
            return ValueEquations(
                in_force=EquationView.of(app.equation_in_force()),
                versions=[EquationView.of(v) for v in versions],
            )

        return await run_in_threadpool(read)

    @strawberry.field(
        description="Logged work waiting for validation (oldest first); or the caller's own."
    )
    async def logged_contributions(
        self,
        info: Info[Context, None],
        mine: bool = False,
        first: int | None = None,
        after: str | None = None,
    ) -> LoggedListResult:
        app, who = info.context.app(Contributions), info.context.caller.member_id

        def read() -> LoggedConnection:
            request = page_request(first, after, arity=2)
            page = (
                app.logged_page(request, member_id=who)
                if mine
                else app.logged_page(request, status="pending")
            )
            return LoggedConnection.of(
                connection(page, LoggedView.of, as_of=_as_of(app), after=after)
            )

        return await _call(read)

    @strawberry.field(
        description=(
            "Every member's points and share in a period under the equation in force and under "
            "a proposed one, side by side (nothing is saved)."
        )
    )
    async def simulate_equation(
        self,
        info: Info[Context, None],
        period: str,
        equation: EquationInput,
        first: int | None = None,
        after: str | None = None,
    ) -> SimulationResult:
        app = info.context.app(Contributions)

        def read() -> SimulationView:
            request = page_request(first, after, arity=1)
            found = app.simulate_equation(equation.to_equation(), period)
            rows = [
                r for r in found.rows if request.after is None or r.member_id > request.after[0]
            ]
            from kernel.paging import encode_cursor

            shown = rows[: request.first]
            page = Page(
                shown, [encode_cursor([r.member_id]) for r in shown], len(rows) > request.first
            )
            return SimulationView(
                period=found.period,
                current_version=found.current_version,
                current_total=found.current_total,
                proposed_total=found.proposed_total,
                shares=connection(
                    page,
                    lambda r: SimulatedShareView(
                        member_id=r.member_id,
                        current_points=r.current_points,
                        current_share=r.current_share,
                        proposed_points=r.proposed_points,
                        proposed_share=r.proposed_share,
                        change=r.change,
                    ),
                    as_of=_as_of(app),
                    after=after,
                ),
            )

        return await _call(read)

    @strawberry.field(description="Accounting periods, newest first.")
    async def periods(
        self, info: Info[Context, None], first: int | None = None, after: str | None = None
    ) -> PeriodsResult:
        app = info.context.app(Contributions)

        def read() -> PeriodConnection:
            request = page_request(first, after, arity=2)
            page = app.periods(request)
            return PeriodConnection.of(
                connection(page, PeriodView.of, as_of=_as_of(app), after=after)
            )

        return await _call(read)

    @strawberry.field(
        description=(
            "The caller's statement for a period: their points, share and dividend, their "
            "ledger lines dated in it (newest first) and their contests with outcomes."
        )
    )
    async def my_statement(
        self,
        info: Info[Context, None],
        period: str,
        first: int | None = None,
        after: str | None = None,
    ) -> StatementResult:
        app, who = info.context.app(Contributions), info.context.caller.member_id

        def read() -> StatementView:
            from contributions.projections import LINE_ORDER

            request = page_request(first, after, arity=len(LINE_ORDER))
            found = app.period(period)
            lines = app.statement_lines(who, period, request)
            version: int | None
            if found.state == "open":
                points, by_type, total, version = _live_member(app, period, who)
                dividend = Decimal(0)
            else:
                rows = app.member_shares(period, page_request(1, None, arity=1), member_id=who)
                mine = rows.items[0] if rows.items else None
                points = mine.points if mine else Decimal(0)
                dividend = mine.dividend if mine else Decimal(0)
                total, version = found.total_points, found.equation_version
                by_type = {r["type"]: r["points"] for r in app.points_by_type(period, who)}
            contest_page = app.contests(page_request(100, None, arity=2), member_id=who)
            return StatementView(
                member_id=who,
                period=period,
                state=found.state,
                equation_version=version,
                points=points,
                share=share_of(points, total),
                dividend=dividend,
                by_type=[TypeAmount(type=k, amount=v) for k, v in sorted(by_type.items())],
                lines=connection(lines, LedgerLineView.from_line, as_of=_as_of(app), after=after),
                contests=[ContestView.of(c) for c in contest_page.items],
            )

        return await _call(read)

    @strawberry.field(
        description=(
            "The board's report of a period: shares per member (paged) and per type, the "
            "distribution and levy, the protocol co-op's share, participation."
        )
    )
    async def period_report(
        self,
        info: Info[Context, None],
        period: str,
        first: int | None = None,
        after: str | None = None,
    ) -> ReportResult:
        app = info.context.app(Contributions)
        return await _call(lambda: report_of(app, period, first, after))

    @strawberry.field(description="Contests, oldest first (default: those in review).")
    async def contests(
        self,
        info: Info[Context, None],
        in_review: bool = True,
        first: int | None = None,
        after: str | None = None,
    ) -> ContestsResult:
        app = info.context.app(Contributions)

        def read() -> ContestConnection:
            request = page_request(first, after, arity=2)
            page = app.contests(request, status="in_review" if in_review else None)
            return ContestConnection.of(
                connection(page, ContestView.of, as_of=_as_of(app), after=after)
            )

        return await _call(read)


def _live_member(
    app: Contributions, key: str, member: str
) -> tuple[Decimal, dict[str, Decimal], Decimal, int]:
    from contributions.periods import PeriodSpan
    from contributions.shares import period_points

    span = PeriodSpan.parse(key)
    version = app.equation_in_force(span.last_day)
    points = period_points(app.contribution_days(), version.equation, span)
    total = sum((p.total for p in points.values()), Decimal(0))
    mine = points.get(member)
    return (
        mine.total if mine else Decimal(0),
        dict(mine.by_type) if mine else {},
        total,
        version.version,
    )


@strawberry.input
class LogContributionInput:
    kind: str = strawberry.field(description="care, governance, code, translation, meeting, ...")
    hours: Decimal
    worked_on: date
    note: str = strawberry.field(
        default="",
        description=(
            "What was done, for the peers who validate it (at most 500 characters). Personal "
            "data: kept in the member's vault, never in an event; erased with their data."
        ),
    )


@strawberry.type
class ValueAccountingMutation:
    @strawberry.mutation(description="Log work no service sees; it counts once peers validate it.")
    async def log_contribution(
        self, info: Info[Context, None], input: LogContributionInput
    ) -> LoggedResult:
        app, who = info.context.app(Contributions), info.context.caller.member_id

        def run() -> LoggedChanged:
            found = app.log_contribution(who, input.kind, input.hours, input.worked_on, input.note)
            return LoggedChanged(contribution=LoggedView.of(found), position=written(app))

        return await _call(run)

    @strawberry.mutation(description="Validate a peer's logged work (never one's own, once).")
    async def validate_contribution(
        self, info: Info[Context, None], contribution_id: str
    ) -> LoggedResult:
        app, who = info.context.app(Contributions), info.context.caller.member_id

        def run() -> LoggedChanged:
            found = app.validate_contribution(contribution_id, who)
            return LoggedChanged(contribution=LoggedView.of(found), position=written(app))

        return await _call(run, contribution=contribution_id)

    @strawberry.mutation(description="Contest one of the caller's ledger lines; it goes to review.")
    async def contest_line(
        self,
        info: Info[Context, None],
        entry_id: str,
        line: int,
        reason: Annotated[
            str,
            strawberry.argument(
                description=(
                    "Why (at most 500 characters). Personal data: kept in the member's vault, "
                    "never in an event; erased with their data."
                )
            ),
        ] = "",
    ) -> ContestResult:
        app, who = info.context.app(Contributions), info.context.caller.member_id

        def run() -> ContestChanged:
            found = app.contest_line(who, entry_id, line, reason)
            return ContestChanged(contest=ContestView.of(found), position=written(app))

        return await _call(run, entry=entry_id, line=line)

    @strawberry.mutation(
        description=(
            "Record a contest's outcome: kept, changed (to `quantity`) or removed. A change is "
            "an adjusting entry dated now: it shows in the member's next statement."
        )
    )
    async def review_contest(
        self,
        info: Info[Context, None],
        contest_id: str,
        outcome: ReviewOutcome,
        quantity: Decimal | None = None,
    ) -> ContestResult:
        app, who = info.context.app(Contributions), info.context.caller.member_id

        def run() -> ContestChanged:
            found = app.review_contest(contest_id, contests.Outcome(outcome.value), quantity, who)
            return ContestChanged(contest=ContestView.of(found), position=written(app))

        return await _call(run, contest=contest_id)

    @strawberry.mutation(description="Open a period: a month 2026-11, a quarter 2026-Q4, a year.")
    async def open_period(self, info: Info[Context, None], period: str) -> PeriodResult:
        app = info.context.app(Contributions)
        return await _call(
            lambda: PeriodChanged(
                period=PeriodView.of(app.open_period(period)), position=written(app)
            )
        )

    @strawberry.mutation(
        description="Close a period: shares computed under the equation in force, and frozen."
    )
    async def close_period(self, info: Info[Context, None], period: str) -> PeriodResult:
        app = info.context.app(Contributions)
        return await _call(
            lambda: PeriodChanged(
                period=PeriodView.of(app.close_period(period)), position=written(app)
            )
        )

    @strawberry.mutation(
        description=(
            "Distribute a closed period's surplus: the development levy to the commons fund "
            "first, then members by share, exact to the cent (largest remainder)."
        )
    )
    async def distribute_surplus(
        self, info: Info[Context, None], period: str, surplus: Decimal
    ) -> PeriodResult:
        app = info.context.app(Contributions)
        return await _call(
            lambda: PeriodChanged(
                period=PeriodView.of(app.distribute_surplus(period, surplus)), position=written(app)
            )
        )
