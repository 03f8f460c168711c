"""The ledger's write side: balanced journal entries, one per fact. No I/O.

Sign convention: debits are positive, credits negative; every entry sums to zero per unit
(a currency code such as "EUR", or "HOUR" for contribution time). Balances, a member's lines and
the trial balance are read models over `JournalEntry.Posted` (contributions.projections): no
aggregate here grows with the city's history.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from eventsourcing.domain import Aggregate, event

from kernel.ids import stable_uuid

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from datetime import datetime
    from uuid import UUID

    from kernel.money import Money

HOUR = "HOUR"
# The ledger keeps amounts to this many places (the read side's decimal columns do too); a finer
# amount is refused when it is posted, never when a projection meets it.
AMOUNT_PLACES = 4
MEMBER_PREFIX = "member:"


class ContributionsError(Exception):
    """Base for expected, user-facing failures in the contributions context."""


class UnbalancedEntry(ContributionsError):
    def __init__(self, unit: str, total: Decimal) -> None:
        super().__init__(f"entry does not balance in {unit}: postings sum to {total}")


class InvalidEntry(ContributionsError):
    """An entry the ledger cannot keep exactly: no postings, an amount that is not finite or
    finer than `AMOUNT_PLACES`, a posting without account or unit, a time without a zone."""


@dataclass(frozen=True)
class Posting:
    """One line of a journal entry: `amount` of `unit` on `account` (debit > 0, credit < 0)."""

    account: str
    amount: Decimal
    unit: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal) or not self.amount.is_finite():
            raise InvalidEntry(f"{self.account}: amount {self.amount!r} is not a finite Decimal")
        exponent = self.amount.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -AMOUNT_PLACES:
            raise InvalidEntry(
                f"{self.account}: {self.amount} has more than {AMOUNT_PLACES} decimal places"
            )
        if not self.account or not self.unit:
            raise InvalidEntry("a posting needs an account and a unit")

    @classmethod
    def of(cls, account: str, money: Money) -> Posting:
        """Money posted to an account, in its currency."""
        return cls(account, money.amount, money.currency)


def check_balanced(postings: Iterable[Posting]) -> None:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for p in postings:
        totals[p.unit] += p.amount
    for unit, total in totals.items():
        if total != 0:
            raise UnbalancedEntry(unit, total)


def member_account(member_id: str, kind: str) -> str:
    return f"{MEMBER_PREFIX}{member_id}:{kind}"


def member_of(account: str) -> str | None:
    """The member an account belongs to (`member:<city>:<uuid>:<kind>`), else None."""
    if not account.startswith(MEMBER_PREFIX):
        return None
    city, _, rest = account[len(MEMBER_PREFIX) :].partition(":")
    uuid_part, _, kind = rest.partition(":")
    if not (city and uuid_part and kind):
        return None
    return f"{city}:{uuid_part}"


class JournalEntry(Aggregate):
    """One balanced entry per fact. Invariant: postings sum to zero in every unit.

    Its id is the fact it records (`create_id(source, purpose)`), so the same fact posted twice
    is the same aggregate and cannot be stored twice. It is never changed after it is posted.
    """

    class Posted(Aggregate.Created):
        """Declared (not left to @event) so type checkers and read models can name it.

        v2 stores typed `Posting`s (transcoded by the application); v1 stored dicts of strings.
        """

        class_version = 2

        source: str
        purpose: str
        memo: str
        at: datetime
        postings: list[Posting]

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["postings"] = [
                Posting(p["account"], Decimal(p["amount"]), p["unit"]) for p in state["postings"]
            ]

    @staticmethod
    def create_id(source: str, purpose: str) -> UUID:
        return stable_uuid("journal-entry", source, purpose)

    @event(Posted)
    def __init__(
        self,
        source: str,
        purpose: str,
        memo: str,
        at: datetime,
        postings: list[Posting],
    ) -> None:
        self.source = source
        self.purpose = purpose
        self.memo = memo
        self.at = at
        self.postings = tuple(postings)

    @classmethod
    def post(
        cls, *, source: str, purpose: str, memo: str, at: datetime, postings: Sequence[Posting]
    ) -> JournalEntry:
        if not postings:
            raise InvalidEntry("an entry needs at least one posting")
        if at.tzinfo is None:
            raise InvalidEntry(f"the entry's time {at.isoformat()} has no time zone")
        check_balanced(postings)
        return cls(source=source, purpose=purpose, memo=memo, at=at, postings=list(postings))
