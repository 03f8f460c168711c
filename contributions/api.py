"""GraphQL for contributions: a member's credits, the board's trial balance, parked messages."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

import strawberry
from starlette.concurrency import run_in_threadpool
from strawberry.types import Info  # noqa: TC002 (strawberry reads resolver hints at runtime)

from contributions.application import Contributions
from contributions.domain import HOUR
from kernel.api import Context, NotAuthenticated, NotAuthorized


@strawberry.type
class LedgerLine:
    entry_id: str
    account: str
    credit: Decimal
    unit: str
    memo: str
    at: datetime


@strawberry.type
class Credits:
    member_id: str
    hours_driving: Decimal
    earnings: Decimal
    currency: str
    lines: list[LedgerLine]


@strawberry.type
class AccountBalance:
    account: str
    unit: str
    balance: Decimal = strawberry.field(description="Debits positive, credits negative.")


@strawberry.type
class TrialBalanceView:
    city: str
    entries: int
    accounts: list[AccountBalance]
    balanced: bool = strawberry.field(description="True when every unit sums to zero.")


@strawberry.type
class ParkedMessageView:
    id: str
    reason: str
    topic: str
    partition: int
    offset: int
    event_type: str | None
    source_log: str | None


@strawberry.type
class ParkedList:
    messages: list[ParkedMessageView]


Guard = NotAuthenticated | NotAuthorized
CreditsResult = Annotated[Credits | Guard, strawberry.union("CreditsResult")]
TrialBalanceResult = Annotated[TrialBalanceView | Guard, strawberry.union("TrialBalanceResult")]
ParkedResult = Annotated[ParkedList | Guard, strawberry.union("ParkedResult")]


@strawberry.type
class ContributionsQuery:
    @strawberry.field(description="The caller's contribution credits and earnings, line by line.")
    async def my_credits(self, info: Info[Context, None]) -> CreditsResult:
        who = info.context.require("member")
        if isinstance(who, NotAuthenticated | NotAuthorized):
            return who
        app = info.context.app(Contributions)
        account = await run_in_threadpool(app.account_of, who.member_id)
        currency = app.city.currency
        lines = account.lines if account else []
        return Credits(
            member_id=who.member_id,
            hours_driving=account.total("hours:driving", HOUR) if account else Decimal(0),
            earnings=account.total("earnings", currency) if account else Decimal(0),
            currency=currency,
            lines=[
                LedgerLine(
                    entry_id=line["entry_id"],
                    account=line["account"],
                    credit=Decimal(line["credit"]),
                    unit=line["unit"],
                    memo=line["memo"],
                    at=datetime.fromisoformat(line["at"]),
                )
                for line in lines
            ],
        )

    @strawberry.field(description="Every account's balance in this city's ledger (board).")
    async def trial_balance(self, info: Info[Context, None]) -> TrialBalanceResult:
        who = info.context.require("board")
        if isinstance(who, NotAuthenticated | NotAuthorized):
            return who
        app = info.context.app(Contributions)
        tb = await run_in_threadpool(app.trial_balance)
        balances = tb.balance() if tb else {}
        per_unit: dict[str, Decimal] = {}
        for (unit, _), amount in balances.items():
            per_unit[unit] = per_unit.get(unit, Decimal(0)) + amount
        return TrialBalanceView(
            city=app.city.id,
            entries=len(tb.entries) if tb else 0,
            accounts=[
                AccountBalance(account=account, unit=unit, balance=amount)
                for (unit, account), amount in sorted(balances.items())
            ],
            balanced=all(total == 0 for total in per_unit.values()),
        )

    @strawberry.field(description="Messages the contributions consumer parked (board).")
    async def parked_messages(self, info: Info[Context, None]) -> ParkedResult:
        who = info.context.require("board")
        if isinstance(who, NotAuthenticated | NotAuthorized):
            return who
        parked = await run_in_threadpool(info.context.app(Contributions).parked_messages)
        return ParkedList(
            messages=[
                ParkedMessageView(
                    id=str(p.id),
                    reason=p.reason,
                    topic=p.topic,
                    partition=p.partition,
                    offset=p.offset,
                    event_type=p.event_type,
                    source_log=p.source_log,
                )
                for p in parked
            ]
        )
