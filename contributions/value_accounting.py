"""The commands and queries of open value accounting, on the `Contributions` application.

Kept apart from the ledger's consumption (contributions.application) so each file is one concept:
logged work and its validation, equations and their adoption, periods and their close, the
distribution of surplus, contests. Every command saves small aggregates (never one that grows
with the city's history) and reads the tables it decides on after catching them up.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Any
from uuid import UUID
from zoneinfo import ZoneInfo

from eventsourcing.application import AggregateNotFoundError

from contributions import written
from contributions.accounting import (
    CONTEST_ORDER,
    LOGGED_ORDER,
    ContributionDays,
    ValueAccounting,
)
from contributions.contests import (
    AlreadyContested,
    Contest,
    ContestNotFound,
    LineNotFound,
    NotYourLine,
    Outcome,
)
from contributions.crediting import CONTRIBUTIONS_RECOGNISED, logged_type
from contributions.distribution import Distribution, InvalidSurplus, distribute
from contributions.domain import JournalEntry, Posting, member_account
from contributions.equations import EquationVersion, ValueEquation
from contributions.logged import ContributionNotFound, LoggedWork
from contributions.periods import (
    Period,
    PeriodAlreadyOpen,
    PeriodNotOpen,
    PeriodSpan,
    end_of_day,
)
from contributions.policy import EquationAdoption, NotAdopted
from contributions.projections import Ledger, tidy
from contributions.shares import (
    Participation,
    ProtocolShare,
    Simulation,
    participation,
    period_points,
    protocol_share,
    simulate,
)
from kernel.eventstore import FederationApplication
from kernel.money import Money, MoneyError
from kernel.paging import Page, PageRequest, encode_cursor

if TYPE_CHECKING:
    from contributions.projections import LedgerLine
    from kernel.personal import PersonalData
    from kernel.readside import Row

log = logging.getLogger(__name__)
ADJUSTMENTS = "contributions:adjustments"
SURPLUS = "coop:surplus"
COMMONS = "commons:fund"
DIVIDEND = "dividend"
CHUNK = 2_000


@dataclass(frozen=True)
class LoggedRecord:
    id: str
    member_id: str
    kind: str
    hours: Decimal
    worked_on: date
    logged_at: datetime
    required: int
    validators: list[str]
    status: str
    # What the member wrote about the work (from their vault; None if nothing, or erased).
    note: str | None = None


@dataclass(frozen=True)
class PeriodRecord:
    period: str
    kind: str
    first_day: date
    last_day: date
    state: str
    equation_version: int | None
    total_points: Decimal
    members: int
    currency: str | None
    surplus: Decimal
    levy: Decimal
    levy_percent: Decimal
    unclaimed: Decimal


@dataclass(frozen=True)
class MemberShare:
    member_id: str
    points: Decimal
    share: Decimal
    dividend: Decimal


@dataclass(frozen=True)
class ContestRecord:
    contest_id: str
    member_id: str
    entry_id: str
    line: int
    account: str
    unit: str
    credited: Decimal
    status: str
    opened_at: datetime
    outcome: str | None
    quantity: Decimal | None
    reviewer: str | None
    reviewed_at: datetime | None
    # Why the member contested the line (from their vault; None if nothing, or erased).
    reason: str | None = None


def _logged(row: Row) -> LoggedRecord:
    return LoggedRecord(
        id=row["id"],
        member_id=row["member_id"],
        kind=row["kind"],
        hours=row["hours"].quantize(Decimal("0.01")),
        worked_on=date.fromisoformat(row["worked_on"]),
        logged_at=row["logged_at"],
        required=row["required"],
        validators=list(row["validators"]),
        status=row["status"],
    )


def _period(row: Row) -> PeriodRecord:
    currency = row["currency"] or "XXX"
    return PeriodRecord(
        period=row["period"],
        kind=row["kind"],
        first_day=date.fromisoformat(row["first_day"]),
        last_day=date.fromisoformat(row["last_day"]),
        state=row["state"],
        equation_version=row["equation_version"],
        total_points=row["total_points"],
        members=row["members"],
        currency=row["currency"],
        surplus=tidy(row["surplus"], currency),
        levy=tidy(row["levy"], currency),
        levy_percent=row["levy_percent"],
        unclaimed=tidy(row["unclaimed"], currency),
    )


def _contest(row: Row) -> ContestRecord:
    return ContestRecord(**row)


def _page(rows: list[Row], request: PageRequest, order: tuple[str, ...]) -> Page[Row]:
    shown = rows[: request.first]
    return Page(
        items=shown,
        cursors=[encode_cursor([r[c] for c in order]) for r in shown],
        has_next=len(rows) > request.first,
    )


class ValueAccountingCommands(FederationApplication):
    """The value-accounting half of `Contributions` (which adds the ledger's consumption)."""

    # What members write (notes, contest reasons): their vaults (contributions.written).
    personal: PersonalData

    @cached_property
    def zone(self) -> ZoneInfo:
        """The city's time zone: days and periods are its local calendar."""
        return ZoneInfo(self.city.timezone)

    # -- logged work ----------------------------------------------------------------------------
    def log_contribution(
        self, member_id: str, kind: str, hours: Decimal, worked_on: date, note: str = ""
    ) -> LoggedRecord:
        """Log work; `note` (what was done, for the peers who validate it) goes to the member's
        vault, never into the event."""
        note = written.checked("note", note)
        policy = self.city.contributions
        work = LoggedWork.log(
            member_id=member_id,
            kind=kind,
            hours=hours,
            worked_on=worked_on,
            now=self.clock.now(),
            kinds=policy.logged_kinds,
            max_hours=policy.max_logged_hours,
            required=policy.validators,
        )
        self.save(work)
        if note:
            self.personal.put(member_id, written.vault_field(written.NOTE, work.id), note)
        return self.logged(str(work.id))

    def validate_contribution(self, contribution_id: str, by: str) -> LoggedRecord:
        """`by` validates logged work; with the last validation needed it counts: its hours are
        posted to the ledger in the same save, dated now (a closed period never changes)."""
        work = self._logged_work(contribution_id)
        now = self.clock.now()
        counts = work.validate(by, now)
        entries: list[JournalEntry] = []
        if counts:
            kind = logged_type(work.kind)
            entries.append(
                JournalEntry.post(
                    source=f"{self.city.id}/contributions/{work.id}",
                    purpose="logged-work",
                    memo=(
                        f"{work.hours} h {kind.key} logged for {work.worked_on}, validated by "
                        f"{len(work.validators)} peers (contribution {work.id})"
                    ),
                    at=now,
                    postings=[
                        Posting(CONTRIBUTIONS_RECOGNISED, work.hours, kind.unit),
                        Posting(
                            member_account(work.member_id, f"contrib:{kind.key}"),
                            -work.hours,
                            kind.unit,
                        ),
                    ],
                )
            )
        self.save(work, *entries)
        return self.logged(contribution_id)

    def _logged_work(self, contribution_id: str) -> LoggedWork:
        try:
            found: Any = self.repository.get(UUID(contribution_id))
        except (ValueError, AggregateNotFoundError):
            raise ContributionNotFound(f"no logged contribution {contribution_id}") from None
        if not isinstance(found, LoggedWork):
            raise ContributionNotFound(f"no logged contribution {contribution_id}")
        return found

    def accounting(self) -> ValueAccounting:
        self.catch_up(ValueAccounting)
        return self.read_model(ValueAccounting)

    def contribution_days(self) -> ContributionDays:
        self.catch_up(ContributionDays)
        return self.read_model(ContributionDays)

    def logged(self, contribution_id: str) -> LoggedRecord:
        row = self.accounting().view.get("logged", {"id": contribution_id})
        if row is None:
            raise ContributionNotFound(f"no logged contribution {contribution_id}")
        return self._with_note(_logged(row))

    def _with_note(self, record: LoggedRecord) -> LoggedRecord:
        field = written.vault_field(written.NOTE, UUID(record.id))
        return replace(record, note=self.personal.get(record.member_id, field))

    def logged_page(
        self,
        request: PageRequest,
        *,
        status: str | None = None,
        member_id: str | None = None,
    ) -> Page[LoggedRecord]:
        """Logged work, oldest first: pending (for peers to validate), or one member's."""
        where: dict[str, Any] = {}
        if status is not None:
            where["status"] = status
        if member_id is not None:
            where["member_id"] = member_id
        rows = self.accounting().view.select(
            "logged",
            where=where,
            order_by=LOGGED_ORDER,
            after=request.after,
            limit=request.first + 1,
        )
        page = _page(rows, request, LOGGED_ORDER)
        return Page([self._with_note(_logged(r)) for r in page.items], page.cursors, page.has_next)

    # -- equations ------------------------------------------------------------------------------
    def equation_versions(self) -> list[EquationVersion]:
        """Every version, oldest first; version 1 is the city config's."""
        first = EquationVersion(
            1, ValueEquation.starting(self.city.contributions.equation), None, None
        )
        rows = self.accounting().view.select("equations", order_by=("version",))
        return [first] + [
            EquationVersion(
                r["version"],
                ValueEquation.from_data(r["equation"]),
                r["effective_from"],
                r["decision_id"],
            )
            for r in rows
        ]

    def equation_in_force(self, on: datetime | date | None = None) -> EquationVersion:
        """The newest version whose start is on or before `on` (default: now; a date: the end of
        that day in the city's time zone)."""
        if on is None:
            on = self.clock.now()
        if isinstance(on, date) and not isinstance(on, datetime):
            on = end_of_day(on, self.zone)
        found = None
        for version in self.equation_versions():
            if version.effective_from is None or version.effective_from <= on:
                found = version
        assert found is not None  # noqa: S101 (version 1 is always in force)
        return found

    def adopt_equation(
        self,
        equation: ValueEquation | dict[str, Any],
        decision_id: str,
        effective_from: datetime,
    ) -> EquationVersion:
        """Adopt a value equation by a recorded decision, in force from `effective_from`.

        The one way an equation changes: contributions' consumer calls this (through
        `equation_adoption`) when `decisions.PolicyChanged` ratifies an equation. The equation
        gets the next version number. Adopting again for a decision already adopted returns
        that version and changes nothing (a redelivered decision). Raises `InvalidEquation`
        (negative weights, ...) or `NotAdopted`.
        """
        version, adoption = self.equation_adoption(equation, decision_id, effective_from)
        if adoption is not None:
            self.save(adoption)  # a concurrent adoption of the same version fails here
            log.info("value equation v%d adopted by decision %s", version.version, decision_id)
        return version

    def equation_adoption(
        self,
        equation: ValueEquation | dict[str, Any],
        decision_id: str,
        effective_from: datetime,
    ) -> tuple[EquationVersion, EquationAdoption | None]:
        """The version `decision_id` adopts and the aggregate to save for it (None when that
        decision was adopted already); saves nothing. Raises as `adopt_equation`."""
        if not isinstance(equation, ValueEquation):
            equation = ValueEquation.from_data(equation)
        if not decision_id or not decision_id.strip():
            raise NotAdopted("decisionId", "an equation is adopted only by a recorded decision")
        if effective_from.tzinfo is None:
            raise NotAdopted("effectiveFrom", "give the start with its time zone")
        versions = self.equation_versions()
        for existing in versions:
            if existing.decision_id == decision_id:
                return existing, None
        latest = versions[-1]
        if latest.effective_from is not None and effective_from < latest.effective_from:
            raise NotAdopted(
                "effectiveFrom",
                f"version {latest.version} starts {latest.effective_from.isoformat()}; "
                "a later version cannot start before it",
            )
        version = latest.version + 1
        adoption = EquationAdoption(
            city=self.city.id,
            version=version,
            equation=equation.as_data(),
            decision_id=decision_id,
            effective_from=effective_from,
            adopted_at=self.clock.now(),
        )
        return EquationVersion(version, equation, effective_from, decision_id), adoption

    def simulate_equation(self, proposed: ValueEquation, key: str) -> Simulation:
        """Every member's share in period `key` under the equation in force on its last day and
        under `proposed`, side by side (nothing is saved)."""
        span = PeriodSpan.parse(key)
        current = self.equation_in_force(span.last_day)
        return simulate(self.contribution_days(), current, proposed, span)

    # -- periods --------------------------------------------------------------------------------
    def open_period(self, key: str) -> PeriodRecord:
        PeriodSpan.parse(key)
        period_id = Period.create_id(self.city.id, key)
        if period_id in self.repository:
            raise PeriodAlreadyOpen(key)
        self.save(Period(city=self.city.id, key=key, opened_at=self.clock.now()))
        return self.period(key)

    def close_period(self, key: str) -> PeriodRecord:
        """Compute every member's points under the equation in force on the period's last day,
        and freeze them. Closing twice is refused (`PeriodNotOpen`)."""
        period = self._period(key)
        if period.state.value != "open":
            raise PeriodNotOpen(key, period.state.value)
        span = period.span
        version = self.equation_in_force(span.last_day)
        points = period_points(self.contribution_days(), version.equation, span)
        period.close(
            self.clock.now(),
            version.version,
            {m: {k: v for k, v in p.by_type.items() if v} for m, p in points.items() if p.total},
        )
        self.save(period)
        return self.period(key)

    def distribute_surplus(self, key: str, surplus: Decimal) -> PeriodRecord:
        """The levy to the commons fund first, then every member by frozen points, exact to the
        cent; posted to the ledger from `coop:surplus` in the same save as the period's record."""
        try:
            money = Money(surplus, self.city.currency)
        except MoneyError as exc:
            raise InvalidSurplus(str(exc)) from None
        period = self._period(key)
        levy_percent = self.city.contributions.levy_percent
        points = {
            r["member_id"]: r["points"]
            for r in self.accounting().view.select("period_members", where={"period": key})
        }
        made = distribute(money, points, levy_percent)
        period.distribute(self.clock.now(), made, levy_percent)
        self.save(period, *self._distribution_entries(key, made))
        return self.period(key)

    def _distribution_entries(self, key: str, made: Distribution) -> list[JournalEntry]:
        source = f"{self.city.id}/contributions/period/{key}"
        now = self.clock.now()
        entries = []
        to_commons = made.levy + made.to_commons_unclaimed
        if to_commons.amount:
            entries.append(
                JournalEntry.post(
                    source=source,
                    purpose="levy",
                    memo=f"development levy of {key} ({made.levy}) to the commons fund",
                    at=now,
                    postings=[Posting.of(SURPLUS, to_commons), Posting.of(COMMONS, -to_commons)],
                )
            )
        paid = [(m, a) for m, a in sorted(made.dividends.items()) if a.amount]
        for i in range(0, len(paid), CHUNK):
            chunk = paid[i : i + CHUNK]
            total = sum((a for _, a in chunk), Money.zero(made.surplus.currency))
            entries.append(
                JournalEntry.post(
                    source=source,
                    purpose=f"dividends-{i // CHUNK}",
                    memo=f"patronage dividend of {key}",
                    at=now,
                    postings=[
                        Posting.of(SURPLUS, total),
                        *(Posting.of(member_account(m, DIVIDEND), -a) for m, a in chunk),
                    ],
                )
            )
        return entries

    def _period(self, key: str) -> Period:
        PeriodSpan.parse(key)
        try:
            found: Any = self.repository.get(Period.create_id(self.city.id, key))
        except AggregateNotFoundError:
            raise PeriodNotOpen(key, "not opened") from None
        assert isinstance(found, Period)  # noqa: S101 (its id is the key)
        return found

    def period(self, key: str) -> PeriodRecord:
        PeriodSpan.parse(key)
        row = self.accounting().view.get("periods", {"period": key})
        if row is None:
            raise PeriodNotOpen(key, "not opened")
        return _period(row)

    def periods(self, request: PageRequest) -> Page[PeriodRecord]:
        rows = self.accounting().view.select(
            "periods",
            order_by=("first_day", "period"),
            descending=True,
            after=request.after,
            limit=request.first + 1,
        )
        page = _page(rows, request, ("first_day", "period"))
        return Page([_period(r) for r in page.items], page.cursors, page.has_next)

    def member_shares(
        self, key: str, request: PageRequest, member_id: str | None = None
    ) -> Page[MemberShare]:
        """Frozen shares of a closed period, by member id (or just one member's)."""
        period = self.period(key)
        where: dict[str, Any] = {"period": key}
        if member_id is not None:
            where["member_id"] = member_id
        rows = self.accounting().view.select(
            "period_members",
            where=where,
            order_by=("member_id",),
            after=request.after,
            limit=request.first + 1,
        )
        page = _page(rows, request, ("member_id",))
        from contributions.equations import share_of

        return Page(
            [
                MemberShare(
                    r["member_id"],
                    r["points"],
                    share_of(r["points"], period.total_points),
                    tidy(r["dividend"], self.city.currency),
                )
                for r in page.items
            ],
            page.cursors,
            page.has_next,
        )

    def points_by_type(self, key: str, member_id: str | None = None) -> list[Row]:
        """Frozen points per contribution type (SUM over members), with how many members."""
        where: dict[str, Any] = {"period": key}
        if member_id is not None:
            where["member_id"] = member_id
        return self.accounting().view.sums(
            "period_points", ("points",), group_by=("type",), where=where
        )

    def participation(self, key: str) -> Participation:
        return participation(self.contribution_days(), PeriodSpan.parse(key))

    def protocol_share(self, key: str) -> ProtocolShare:
        self.catch_up(Ledger)
        return protocol_share(
            self.read_model(Ledger),
            self.city.contributions.protocol,
            PeriodSpan.parse(key),
            self.city.currency,
            self.zone,
        )

    def statement_lines(self, member_id: str, key: str, request: PageRequest) -> Page[LedgerLine]:
        """A member's ledger lines dated in the period, newest first."""
        from contributions.projections import LINE_ORDER, _line

        span = PeriodSpan.parse(key)
        self.catch_up(Ledger)
        rows = self.read_model(Ledger).view.select(
            "lines",
            where={"member_id": member_id},
            ranges={"at": (span.starts(self.zone), span.ends(self.zone))},
            order_by=LINE_ORDER,
            descending=True,
            after=request.after,
            limit=request.first + 1,
        )
        page = _page(rows, request, LINE_ORDER)
        return Page([_line(r) for r in page.items], page.cursors, page.has_next)

    # -- contests -------------------------------------------------------------------------------
    def contest_line(
        self, member_id: str, entry_id: str, line: int, reason: str = ""
    ) -> ContestRecord:
        """Contest one of the member's own ledger lines; it goes to the board's review. The
        member's `reason` goes to their vault, never into the event."""
        reason = written.checked("reason", reason)
        self.catch_up(Ledger)
        row = self.read_model(Ledger).view.get("lines", {"entry_id": entry_id, "line": line})
        if row is None:
            raise LineNotFound(f"no ledger line {line} in entry {entry_id}")
        if row["member_id"] != member_id:
            raise NotYourLine("a member contests only lines on their own accounts")
        contest_id = Contest.create_id(entry_id, line)
        if contest_id in self.repository:
            raise AlreadyContested(str(contest_id))
        contest = Contest(
            member_id=member_id,
            entry_id=entry_id,
            line=line,
            account=row["account"],
            unit=row["unit"],
            credited=-row["amount"],
            at=self.clock.now(),
        )
        self.save(contest)
        if reason:
            self.personal.put(member_id, written.vault_field(written.REASON, contest.id), reason)
        return self.contest(str(contest.id))

    def review_contest(
        self,
        contest_id: str,
        outcome: Outcome,
        quantity: Decimal | None,
        reviewer: str,
    ) -> ContestRecord:
        """Record the review's outcome; a change or removal posts an adjusting entry, dated now,
        so it shows in the member's next statement (a frozen period is never rewritten)."""
        try:
            contest: Any = self.repository.get(UUID(contest_id))
        except (ValueError, AggregateNotFoundError):
            raise ContestNotFound(f"no contest {contest_id}") from None
        if not isinstance(contest, Contest):
            raise ContestNotFound(f"no contest {contest_id}")
        now = self.clock.now()
        adjustment = contest.review(outcome, quantity, reviewer, now)
        entries = []
        if adjustment:
            entries.append(
                JournalEntry.post(
                    source=f"{self.city.id}/contributions/contest/{contest.id}",
                    purpose="adjustment",
                    memo=(
                        f"contest {contest.id} {contest.outcome.value}: line {contest.line} of "
                        f"entry {contest.entry_id} now credits {contest.quantity} {contest.unit}"
                    ),
                    at=now,
                    postings=[
                        Posting(ADJUSTMENTS, adjustment, contest.unit),
                        Posting(contest.account, -adjustment, contest.unit),
                    ],
                )
            )
        self.save(contest, *entries)
        return self.contest(contest_id)

    def contest(self, contest_id: str) -> ContestRecord:
        row = self.accounting().view.get("contests", {"contest_id": contest_id})
        if row is None:
            raise ContestNotFound(f"no contest {contest_id}")
        return self._with_reason(_contest(row))

    def _with_reason(self, record: ContestRecord) -> ContestRecord:
        field = written.vault_field(written.REASON, UUID(record.contest_id))
        return replace(record, reason=self.personal.get(record.member_id, field))

    def contests(
        self,
        request: PageRequest,
        *,
        member_id: str | None = None,
        status: str | None = None,
    ) -> Page[ContestRecord]:
        """Contests, oldest first: a member's own, or those in review (the board's queue)."""
        where: dict[str, Any] = {}
        if member_id is not None:
            where["member_id"] = member_id
        if status is not None:
            where["status"] = status
        rows = self.accounting().view.select(
            "contests",
            where=where,
            order_by=CONTEST_ORDER,
            after=request.after,
            limit=request.first + 1,
        )
        page = _page(rows, request, CONTEST_ORDER)
        return Page(
            [self._with_reason(_contest(r)) for r in page.items], page.cursors, page.has_next
        )
