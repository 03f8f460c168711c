"""Command side of contributions, and its policy on other services' events."""

from __future__ import annotations

import logging
from functools import singledispatchmethod
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.application import ProcessingEvent
from eventsourcing.persistence import IntegrityError, Transcoding

from contributions import privacy
from contributions.accounting import ContributionDays, LocalDays, Validations, ValueAccounting
from contributions.activity import CityActivity
from contributions.crediting import ContributionRules, service_rules
from contributions.domain import ContributionsError, JournalEntry, Posting, member_account
from contributions.inbound import RideCompleted, RideFeeCharged
from contributions.policy import EQUATION_PATH
from contributions.projections import Ledger
from contributions.value_accounting import ValueAccountingCommands
from kernel.events import TolerantModel
from kernel.eventstore import FederationApplication
from kernel.personal import open_personal_data
from kernel.policies import PolicyChanged, PolicyLog
from kernel.readside.freshness import read_after

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from eventsourcing.persistence import JSONTranscoder

    from kernel.cities import CityConfig
    from kernel.config import Settings
    from kernel.money import Money
    from kernel.time import Clock


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


class Contributions(ValueAccountingCommands, FederationApplication):
    """The ledger: one journal entry per fact; balances and lines are the `Ledger` read model.

    No command loads or writes an aggregate that grows with history: posting a fact looks up
    whether its entry exists (by the fact's id) and saves one small, never-changed aggregate.
    Credits come from every service's contribution rules (contributions.crediting); logged work,
    equations, periods, distributions and contests are in contributions.value_accounting.
    """

    service = "contributions"
    read_models = (Ledger, ContributionDays, ValueAccounting, CityActivity, Validations)
    # The policy versions decisions adopted (decisions.PolicyChanged), so `policies()` and
    # `policy_version(at)` name them (kernel.policies).
    inbound_read_models = (PolicyLog,)

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        city: CityConfig | None = None,
        env: dict[str, str] | None = None,
        rules: ContributionRules | None = None,
    ) -> None:
        # Every service's rules, unless a caller (a test, a benchmark) names its own.
        self.rules = service_rules() if rules is None else rules
        super().__init__(settings, clock=clock, city=city, env=env)
        # The chart's and the shares' days are the city's own dates (a ride at 00:30 in
        # Brussels is that day's), so a period closes at local midnight.
        for model in self.models.values():
            if isinstance(model, LocalDays):
                model.zone = self.zone
        # After the store is open (a vault beside its file or schema): what members write.
        self.personal = open_personal_data(self.settings, self.service)

    def close(self) -> None:
        super().close()
        self.personal.close()

    def export_member(self, member_id: str) -> dict[str, Any]:
        """Everything contributions holds about a member, for their export (privacy.py)."""
        return privacy.export_member(self, member_id)

    def erase_member(self, member_id: str) -> list[str]:
        """Erase what the member wrote here (their vault); amounts stay (contributions.privacy)."""
        return privacy.erase_member(self, member_id)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(PostingAsDict())

    @singledispatchmethod
    def react(self, event: Any, processing: ProcessingEvent[UUID]) -> None:
        """Credit what a service's contribution rules say an event stands behind; ignore the
        rest (what this context has no stake in)."""
        if isinstance(event, TolerantModel):
            self._credit(event, processing)

    def _credit(self, event: TolerantModel, processing: ProcessingEvent[UUID]) -> None:
        entries = (
            self._new_entry(
                source=credit.source,
                purpose=credit.purpose,
                memo=credit.memo,
                at=credit.at,
                postings=credit.postings(),
            )
            for credit in self.rules.credits(event)
        )
        processing.collect_events(*(e for e in entries if e is not None))

    @react.register
    def when_ride_completed_credit_driver(
        self, event: RideCompleted, processing: ProcessingEvent[UUID]
    ) -> None:
        source = f"{event.city}/rides/{event.ride_id}"
        fare = event.fare_money()
        # A solidarity fare: the rider pays the rest, the common fund its part (a debit of the
        # commons fund, visible in the ledger); the split is that of the whole fare.
        fund = event.fund_money()
        fare_postings = [Posting.of(FARES_COLLECTED, fare - fund)]
        if fund.amount:
            fare_postings.append(Posting.of(SPLIT_ACCOUNTS["common_fund"], fund))
        fare_postings += self._split_postings(event.split_money(), event.driver_id)
        entry = self._new_entry(
            source=source,
            purpose="fare-split",
            memo=f"fare of ride {event.ride_id}: {fare}",
            at=event.occurred_at,
            postings=fare_postings,
        )
        if entry is not None:
            processing.collect_events(entry)
        # The driver's hours: the rides spec's contribution rule (kernel.valueflows).
        self._credit(event, processing)

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

    @react.register
    def when_an_equation_is_ratified_adopt_it(
        self, event: PolicyChanged, processing: ProcessingEvent[UUID]
    ) -> None:
        """A passed decision that changes `contributions.equation` adopts it as the next
        equation version, from the decision's start. Idempotent by the decision: a redelivered
        or replayed `PolicyChanged` finds its version and adopts nothing."""
        for change in event.changes:
            if change.get("path") != EQUATION_PATH or change.get("value") is None:
                continue
            try:
                version, adoption = self.equation_adoption(
                    change["value"], event.decision_id, event.effective_from
                )
            except ContributionsError as exc:
                # Decisions validated the equation against the config's schema before the vote,
                # so this is a producer's bug: recorded as consumed (no crash loop), and loud.
                log.error(
                    "decision %s: equation not adopted (%s)", event.decision_id, exc, exc_info=True
                )
                continue
            if adoption is not None:
                log.info(
                    "value equation v%d adopted by decision %s (policy version %d)",
                    version.version,
                    event.decision_id,
                    event.policy_version,
                )
                processing.collect_events(adoption)

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

    def activity(self, seen: str | None = None) -> tuple[CityActivity, str]:
        """The city's activity per day once it has applied `seen`, and its position (as
        `ledger`)."""
        self.catch_up(CityActivity)
        return self.read_model(CityActivity), read_after(self, CityActivity, seen)
