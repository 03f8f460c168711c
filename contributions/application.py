"""Command side of contributions, and its policy on other services' events."""

from __future__ import annotations

import logging
from decimal import Decimal
from functools import singledispatchmethod
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.application import ProcessingEvent
from eventsourcing.persistence import IntegrityError, Transcoding

from contributions.domain import HOUR, JournalEntry, Posting, member_account
from contributions.inbound import RideCompleted, RideFeeCharged
from contributions.projections import Ledger
from kernel.eventstore import FederationApplication
from kernel.readside.freshness import read_after

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from eventsourcing.persistence import JSONTranscoder

    from kernel.money import Money


# Where each part of a fare's split is credited. The driver's part is their own account.
SPLIT_ACCOUNTS = {
    "coop": "coop:fund",
    "common_fund": "commons:fund",
    "protocol": "protocol:rides",
}
FARES_COLLECTED = "rides:fares-collected"
FEES_COLLECTED = "rides:fees-collected"
CONTRIBUTIONS_RECOGNISED = "contributions:recognised"
log = logging.getLogger(__name__)


class PostingAsDict(Transcoding):
    """A posting as stored in `JournalEntry.Posted`: its amount stays a Decimal (the library's
    own transcoding keeps it exact), never a string the ledger parses back."""

    type = Posting
    name = "contributions.Posting"

    def encode(self, obj: Posting) -> dict[str, Any]:
        return {"account": obj.account, "amount": obj.amount, "unit": obj.unit}

    def decode(self, data: dict[str, Any]) -> Posting:
        return Posting(data["account"], data["amount"], data["unit"])


class Contributions(FederationApplication):
    """The ledger: one journal entry per fact; balances and lines are the `Ledger` read model.

    No command loads or writes an aggregate that grows with history: posting a fact looks up
    whether its entry exists (by the fact's id) and saves one small, never-changed aggregate.
    """

    service = "contributions"
    read_models = (Ledger,)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(PostingAsDict())

    @singledispatchmethod
    def react(self, event: Any, processing: ProcessingEvent[UUID]) -> None:
        """Ignore what this context has no stake in."""

    @react.register
    def when_ride_completed_credit_driver(
        self, event: RideCompleted, processing: ProcessingEvent[UUID]
    ) -> None:
        hours = (event.driver_minutes / 60).quantize(Decimal("0.01"))
        source = f"{event.city}/rides/{event.ride_id}"
        fare = event.fare_money()
        # A solidarity fare: the rider pays the rest, the common fund its part (a debit of the
        # commons fund, visible in the ledger); the split is that of the whole fare.
        fund = event.fund_money()
        fare_postings = [Posting.of(FARES_COLLECTED, fare - fund)]
        if fund.amount:
            fare_postings.append(Posting.of(SPLIT_ACCOUNTS["common_fund"], fund))
        fare_postings += self._split_postings(event.split_money(), event.driver_id)
        entries = [
            self._new_entry(
                source=source,
                purpose="fare-split",
                memo=f"fare of ride {event.ride_id}: {fare}",
                at=event.occurred_at,
                postings=fare_postings,
            ),
            self._new_entry(
                source=source,
                purpose="driving-hours",
                memo=f"{hours} h driving for ride {event.ride_id} ({event.distance_km} km)",
                at=event.occurred_at,
                postings=[
                    Posting(CONTRIBUTIONS_RECOGNISED, hours, HOUR),
                    Posting(member_account(event.driver_id, "hours:driving"), -hours, HOUR),
                ],
            ),
        ]
        processing.collect_events(*(e for e in entries if e is not None))

    @react.register
    def when_a_fee_is_charged_post_it(
        self, event: RideFeeCharged, processing: ProcessingEvent[UUID]
    ) -> None:
        source = f"{event.city}/rides/{event.ride_id}"
        postings = [Posting.of(FEES_COLLECTED, event.amount_money())]
        postings += self._split_postings(event.split_money(), event.driver_id)
        entry = self._new_entry(
            source=source,
            purpose=f"fee-{event.kind}",
            memo=f"{event.kind} fee of ride {event.ride_id}: {event.amount_money()} ({event.rule})",
            at=event.occurred_at,
            postings=postings,
        )
        if entry is not None:
            processing.collect_events(entry)

    @staticmethod
    def _split_postings(split: dict[str, Money], driver_id: str | None) -> list[Posting]:
        postings = []
        for part, amount in split.items():
            if part == "driver" and driver_id is not None:
                account = member_account(driver_id, "earnings")
            else:
                account = SPLIT_ACCOUNTS.get(part, f"unallocated:{part}")
            postings.append(Posting.of(account, -amount))
        return postings

    def post_entry(
        self, *, source: str, purpose: str, memo: str, at: datetime, postings: Sequence[Posting]
    ) -> UUID:
        """Post one balanced entry for a fact; posting the same fact again changes nothing."""
        entry = self._new_entry(source=source, purpose=purpose, memo=memo, at=at, postings=postings)
        if entry is not None:
            try:
                self.save(entry)
            except IntegrityError:
                log.info("journal entry %s/%s was posted meanwhile; skipping", source, purpose)
        return JournalEntry.create_id(source, purpose)

    def _new_entry(
        self, *, source: str, purpose: str, memo: str, at: datetime, postings: Sequence[Posting]
    ) -> JournalEntry | None:
        """The entry for a fact not posted yet, or None if it was."""
        if JournalEntry.create_id(source, purpose) in self.repository:
            # Already posted (the same fact reached us under another position, e.g. from a
            # restored source store): entries are idempotent by what they record.
            log.info("journal entry %s/%s already posted; skipping", source, purpose)
            return None
        return JournalEntry.post(
            source=source, purpose=purpose, memo=memo, at=at, postings=postings
        )

    # -- queries --------------------------------------------------------------------------------
    def ledger(self, seen: str | None = None) -> tuple[Ledger, str]:
        """The ledger's read model once it has applied `seen` (a `contributions@N` token), and
        the position it had applied: raises `InvalidPage` for a bad token, `NotCaughtUp` if it
        does not get there within the bound."""
        # Queries help the ledger's runner along in their own thread (as parked messages do), so
        # a read is as fresh as the store even where no runner thread runs yet.
        self.catch_up(Ledger)
        return self.read_model(Ledger), read_after(self, Ledger, seen)
