"""Command side of contributions, and its policy on other services' events."""

from __future__ import annotations

import logging
from decimal import Decimal
from functools import singledispatchmethod
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, ProcessingEvent

from contributions.domain import (
    HOUR,
    JournalEntry,
    MemberAccount,
    Posting,
    TrialBalance,
    member_account,
)
from contributions.inbound import RideCompleted
from kernel.eventstore import FederationApplication
from kernel.indexes import Index

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime


# Where each part of a fare's split is credited. The driver's part is their own account.
SPLIT_ACCOUNTS = {
    "coop": "coop:fund",
    "common_fund": "commons:fund",
    "protocol": "protocol:rides",
}
FARES_COLLECTED = "rides:fares-collected"
CONTRIBUTIONS_RECOGNISED = "contributions:recognised"
log = logging.getLogger(__name__)


class Contributions(FederationApplication):
    service = "contributions"
    snapshotting_intervals = {  # noqa: RUF012 (the library declares it)
        Index: 100,
        TrialBalance: 100,
        MemberAccount: 100,
    }

    @singledispatchmethod
    def react(self, event: Any, processing: ProcessingEvent[UUID]) -> None:
        """Ignore what this context has no stake in."""

    @react.register
    def when_ride_completed_credit_driver(
        self, event: RideCompleted, processing: ProcessingEvent[UUID]
    ) -> None:
        hours = (event.driver_minutes / 60).quantize(Decimal("0.01"))
        source = f"{event.city}/rides/{event.ride_id}"
        fare_postings = [Posting(FARES_COLLECTED, event.fare, event.currency)]
        for part, amount in event.split.items():
            account = (
                member_account(event.driver_id, "earnings")
                if part == "driver"
                else SPLIT_ACCOUNTS.get(part, f"unallocated:{part}")
            )
            fare_postings.append(Posting(account, -amount, event.currency))
        self._post(
            processing,
            source=source,
            purpose="fare-split",
            memo=f"fare of ride {event.ride_id}: {event.fare} {event.currency}",
            at=event.occurred_at,
            postings=fare_postings,
        )
        self._post(
            processing,
            source=source,
            purpose="driving-hours",
            memo=f"{hours} h driving for ride {event.ride_id} ({event.distance_km} km)",
            at=event.occurred_at,
            postings=[
                Posting(CONTRIBUTIONS_RECOGNISED, hours, HOUR),
                Posting(member_account(event.driver_id, "hours:driving"), -hours, HOUR),
            ],
        )

    def _post(
        self,
        processing: ProcessingEvent[UUID],
        *,
        source: str,
        purpose: str,
        memo: str,
        at: datetime,
        postings: Sequence[Posting],
    ) -> None:
        if JournalEntry.create_id(source, purpose) in self.repository:
            # Already posted (the same fact reached us under another position, e.g. from a
            # restored source store): entries are idempotent by what they record.
            log.info("journal entry %s/%s already posted; skipping", source, purpose)
            return
        entry = JournalEntry.post(
            source=source, purpose=purpose, memo=memo, at=at, postings=postings
        )
        balance = self._pending(processing, TrialBalance.create_id(self.city.id)) or TrialBalance(
            self.city.id
        )
        balance.apply(entry.id, entry.postings)
        touched: list[Any] = [entry, balance]
        for posting in postings:
            if posting.account.startswith("member:"):
                member_id = posting.account.split(":")[1] + ":" + posting.account.split(":")[2]
                account = self._pending(processing, MemberAccount.create_id(member_id))
                account = account or MemberAccount(member_id)
                account.add_line(entry.id, posting.account, -posting.amount, posting.unit, memo, at)
                touched.append(account)
        processing.collect_events(*touched)

    def _pending(self, processing: ProcessingEvent[UUID], aggregate_id: UUID) -> Any:
        """An aggregate already changed in this processing event, else from the store."""
        for aggregate in processing.aggregates.values():
            if aggregate.id == aggregate_id:
                return aggregate
        try:
            return self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None

    # -- queries --------------------------------------------------------------------------------
    def account_of(self, member_id: str) -> MemberAccount | None:
        found: MemberAccount | None = self._pending_free(MemberAccount.create_id(member_id))
        return found

    def trial_balance(self) -> TrialBalance | None:
        found: TrialBalance | None = self._pending_free(TrialBalance.create_id(self.city.id))
        return found

    def _pending_free(self, aggregate_id: UUID) -> Any:
        try:
            return self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
