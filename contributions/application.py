"""Command side of contributions, and its policy on other services' events."""

from __future__ import annotations

import logging
from decimal import Decimal
from functools import singledispatchmethod
from typing import TYPE_CHECKING, Any
from uuid import UUID
from zoneinfo import ZoneInfo

from eventsourcing.application import ProcessingEvent
from eventsourcing.persistence import IntegrityError, Transcoding

from contributions.activity import CityActivity
from contributions.domain import HOUR, JournalEntry, Posting, member_account
from contributions.inbound import RideCompleted
from contributions.projections import Ledger
from kernel.eventstore import FederationApplication
from kernel.readside.freshness import read_after

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from eventsourcing.persistence import JSONTranscoder


# Where each part of a fare's split is credited. The driver's part is their own account.
SPLIT_ACCOUNTS = {
    "coop": "coop:fund",
    "common_fund": "commons:fund",
    "protocol": "protocol:rides",
}
FARES_COLLECTED = "rides:fares-collected"
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
    read_models = (Ledger, CityActivity)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The chart's days are the city's own dates (a ride at 00:30 in Brussels is that day's).
        self.read_model(CityActivity).zone = ZoneInfo(self.city.timezone)

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
        fare_postings = [Posting.of(FARES_COLLECTED, fare)]
        for part, amount in event.split_money().items():
            account = (
                member_account(event.driver_id, "earnings")
                if part == "driver"
                else SPLIT_ACCOUNTS.get(part, f"unallocated:{part}")
            )
            fare_postings.append(Posting.of(account, -amount))
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

    def activity(self, seen: str | None = None) -> tuple[CityActivity, str]:
        """The city's activity per day once it has applied `seen`, and its position (as
        `ledger`)."""
        self.catch_up(CityActivity)
        return self.read_model(CityActivity), read_after(self, CityActivity, seen)
