"""The ledger: balanced journal entries, member accounts and a trial balance. No I/O.

Sign convention: debits are positive, credits negative; every entry sums to zero per unit
(a currency code such as "EUR", or "HOUR" for contribution time).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from eventsourcing.domain import Aggregate, event

from kernel.ids import stable_uuid

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from datetime import datetime
    from uuid import UUID

HOUR = "HOUR"


class ContributionsError(Exception):
    """Base for expected, user-facing failures in the contributions context."""


class UnbalancedEntry(ContributionsError):
    def __init__(self, unit: str, total: Decimal) -> None:
        super().__init__(f"entry does not balance in {unit}: postings sum to {total}")


@dataclass(frozen=True)
class Posting:
    account: str
    amount: Decimal  # debit > 0, credit < 0
    unit: str


def check_balanced(postings: Iterable[Posting]) -> None:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for p in postings:
        totals[p.unit] += p.amount
    for unit, total in totals.items():
        if total != 0:
            raise UnbalancedEntry(unit, total)


def member_account(member_id: str, kind: str) -> str:
    return f"member:{member_id}:{kind}"


class JournalEntry(Aggregate):
    """One balanced entry. Invariant: postings sum to zero in every unit."""

    @staticmethod
    def create_id(source: str, purpose: str) -> UUID:
        return stable_uuid("journal-entry", source, purpose)

    @event("Posted")
    def __init__(
        self,
        source: str,
        purpose: str,
        memo: str,
        at: datetime,
        postings: list[dict[str, str]],
    ) -> None:
        self.source = source
        self.purpose = purpose
        self.memo = memo
        self.at = at
        self.postings = postings

    @classmethod
    def post(
        cls, *, source: str, purpose: str, memo: str, at: datetime, postings: Sequence[Posting]
    ) -> JournalEntry:
        check_balanced(postings)
        return cls(
            source=source,
            purpose=purpose,
            memo=memo,
            at=at,
            postings=[
                {"account": p.account, "amount": str(p.amount), "unit": p.unit} for p in postings
            ],
        )

    def typed_postings(self) -> list[Posting]:
        return [Posting(p["account"], Decimal(p["amount"]), p["unit"]) for p in self.postings]


class MemberAccount(Aggregate):
    """What a member can see of the ledger: every line that credits them, with its reason."""

    @staticmethod
    def create_id(member_id: str) -> UUID:
        return stable_uuid("member-account", member_id)

    @event("Opened")
    def __init__(self, member_id: str) -> None:
        self.member_id = member_id
        self.lines: list[dict[str, str]] = []

    @event("LineAdded")
    def add_line(
        self, entry_id: UUID, account: str, credit: Decimal, unit: str, memo: str, at: datetime
    ) -> None:
        self.lines.append(
            {
                "entry_id": str(entry_id),
                "account": account,
                "credit": str(credit),
                "unit": unit,
                "memo": memo,
                "at": at.isoformat(),
            }
        )

    def total(self, account_kind: str, unit: str) -> Decimal:
        suffix = f":{account_kind}"
        return sum(
            (
                Decimal(line["credit"])
                for line in self.lines
                if line["unit"] == unit and line["account"].endswith(suffix)
            ),
            Decimal(0),
        )


class TrialBalance(Aggregate):
    """Balance of every account of a city's ledger. Invariant: sums to zero per unit."""

    @staticmethod
    def create_id(city: str) -> UUID:
        return stable_uuid("trial-balance", city)

    @event("Opened")
    def __init__(self, city: str) -> None:
        self.city = city
        self.balances: dict[str, str] = {}
        self.entries: list[UUID] = []

    @event("EntryApplied")
    def apply(self, entry_id: UUID, postings: list[dict[str, str]]) -> None:
        for p in postings:
            key = f"{p['unit']}|{p['account']}"
            self.balances[key] = str(Decimal(self.balances.get(key, "0")) + Decimal(p["amount"]))
        self.entries.append(entry_id)

    def balance(self) -> dict[tuple[str, str], Decimal]:
        out = {}
        for key, value in self.balances.items():
            unit, account = key.split("|", 1)
            out[(unit, account)] = Decimal(value)
        return out
