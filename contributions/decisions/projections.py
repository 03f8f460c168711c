"""The decisions' read side: the list of decisions, ballots and tallies, policy versions and
the electorate, as tables (kernel.readside). No aggregate grows with them.

    decisions  one row per decision (policy decisions, suspensions, appeals): what it is, its
               state, the vote's figures and the result; newest first
    ballots    one row per (decision, member): the member's choice and who cast it
    tallies    one row per decision: votes for, against, abstaining and cast by proxy, kept by
               exact increments (an override moves one vote, it never adds one)
    versions   the policy versions adopted (kernel.policies)
    members    the members of the city (from members.MemberJoined): the electorate
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime  # noqa: TC003 (dataclass fields)
from decimal import Decimal  # noqa: TC003
from functools import singledispatchmethod
from typing import TYPE_CHECKING, Any

from contributions.decisions.domain import Ballot, Decision, PolicyHistory, Proxy
from contributions.decisions.inbound import MemberJoined
from contributions.decisions.suspensions import Suspension
from kernel.paging import fetch_page
from kernel.policies import PolicyVersionsBase, version_row
from kernel.readside import Add, Column, Op, ReadModel, Table, Update, Upsert

if TYPE_CHECKING:
    from kernel.paging import Page, PageRequest
    from kernel.readside import Row

DECISION_ORDER = ("proposed_at", "decision_id")

DECISIONS = Table(
    "decisions",
    (
        Column("decision_id", nullable=False),
        Column("kind", nullable=False),  # policy | suspension | appeal
        Column("title", nullable=False),
        Column("state", nullable=False),
        Column("proposer_id", nullable=False),
        Column("by_board", "bool", nullable=False),
        Column("subject_id"),  # the driver a suspension or appeal concerns
        Column("reason"),  # a suspension's reason code, an appeal's outcome
        Column("changes", "json"),
        Column("proposed_at", "timestamp", nullable=False),
        Column("backers", "int", nullable=False),
        Column("backers_needed", "int", nullable=False),
        Column("opens_at", "timestamp"),
        Column("closes_at", "timestamp"),
        Column("electorate", "int"),
        Column("quorum", "int"),
        Column("threshold_percent", "decimal"),
        Column("for_votes", "int"),
        Column("against", "int"),
        Column("abstain", "int"),
        Column("by_proxy", "int"),
        Column("quorum_reached", "bool"),
        Column("passed", "bool"),
        Column("decided_by"),
        Column("decided_at", "timestamp"),
        Column("policy_version", "int"),
        Column("effective_from", "timestamp"),
    ),
    key=("decision_id",),
    indexes=(DECISION_ORDER, ("proposer_id",), ("subject_id",)),
)

BALLOTS = Table(
    "ballots",
    (
        Column("decision_id", nullable=False),
        Column("member_id", nullable=False),
        Column("choice", nullable=False),
        Column("cast_by", nullable=False),
        Column("at", "timestamp", nullable=False),
    ),
    key=("decision_id", "member_id"),
    indexes=(("member_id",), ("cast_by",)),
)
TALLIES = Table(
    "tallies",
    (
        Column("decision_id", nullable=False),
        Column("for_votes", "int", nullable=False),
        Column("against", "int", nullable=False),
        Column("abstain", "int", nullable=False),
        Column("by_proxy", "int", nullable=False),
    ),
    key=("decision_id",),
)
PROXIES = Table(
    "proxies",
    (
        Column("member_id", nullable=False),
        Column("scope", nullable=False),  # a decision id, or "standing"
        Column("holder_id"),  # NULL once withdrawn
        Column("recorded_by", nullable=False),
        Column("at", "timestamp", nullable=False),
    ),
    key=("member_id", "scope"),
    indexes=(("holder_id",),),
)
MEMBERS = Table(
    "members",
    (Column("member_id", nullable=False), Column("joined_at", "timestamp", nullable=False)),
    key=("member_id",),
)
COLUMN = {"for": "for_votes", "against": "against", "abstain": "abstain"}


@dataclass(frozen=True)
class DecisionRow:
    decision_id: str
    kind: str
    title: str
    state: str
    proposer_id: str
    by_board: bool
    subject_id: str | None
    reason: str | None
    changes: list[dict[str, Any]] | None
    proposed_at: datetime
    backers: int
    backers_needed: int
    opens_at: datetime | None
    closes_at: datetime | None
    electorate: int | None
    quorum: int | None
    threshold_percent: Decimal | None
    for_votes: int | None
    against: int | None
    abstain: int | None
    by_proxy: int | None
    quorum_reached: bool | None
    passed: bool | None
    decided_by: str | None
    decided_at: datetime | None
    policy_version: int | None
    effective_from: datetime | None


@dataclass(frozen=True)
class Tally:
    decision_id: str
    for_votes: int
    against: int
    abstain: int
    by_proxy: int

    @property
    def votes(self) -> int:
        return self.for_votes + self.against + self.abstain


def _blank(decision_id: str, **values: Any) -> dict[str, Any]:
    return {
        "decision_id": decision_id,
        "state": "closed",
        "by_board": True,
        "backers": 0,
        "backers_needed": 0,
        **values,
    }


class DecisionList(ReadModel):
    """Every decision in the record, newest first: policy decisions, suspensions, appeals."""

    name = "decisions_list"
    tables = (DECISIONS,)

    @singledispatchmethod
    def rows(self, event: Any) -> list[Op]:
        return []

    @rows.register
    def _(self, event: Decision.Proposed) -> list[Op]:
        return [
            Upsert(
                "decisions",
                {
                    "decision_id": str(event.originator_id),
                    "kind": "policy",
                    "title": event.title,
                    "state": "backing",
                    "proposer_id": event.proposer_id,
                    "by_board": event.by_board,
                    "changes": event.changes,
                    "proposed_at": event.proposed_at,
                    "backers": 0,
                    "backers_needed": event.backers_needed,
                    "effective_from": event.effective_from,
                },
            )
        ]

    @rows.register
    def _(self, event: Decision.Backed) -> list[Op]:
        key = {"decision_id": str(event.originator_id)}
        return [Update("decisions", key, {"backers": event.backers})]

    @rows.register
    def _(self, event: Decision.VoteOpened) -> list[Op]:
        key = {"decision_id": str(event.originator_id)}
        return [
            Update(
                "decisions",
                key,
                {
                    "state": "open",
                    "opens_at": event.opens_at,
                    "closes_at": event.closes_at,
                    "electorate": event.electorate,
                    "quorum": event.quorum,
                    "threshold_percent": event.threshold_percent,
                },
            )
        ]

    @rows.register
    def _(self, event: Decision.Closed) -> list[Op]:
        key = {"decision_id": str(event.originator_id)}
        return [
            Update(
                "decisions",
                key,
                {
                    "state": "closed",
                    "for_votes": event.for_votes,
                    "against": event.against,
                    "abstain": event.abstain,
                    "by_proxy": event.by_proxy,
                    "quorum_reached": event.quorum_reached,
                    "passed": event.passed,
                    "decided_at": event.closed_at,
                    "policy_version": event.policy_version,
                    "effective_from": event.effective_from,
                },
            )
        ]

    @rows.register
    def _(self, event: Suspension.Suspended) -> list[Op]:
        driver = event.driver_id
        return [
            Upsert(
                "decisions",
                _blank(
                    event.decision_id,
                    kind="suspension",
                    title=f"suspend driver {driver}",
                    proposer_id=event.by,
                    subject_id=driver,
                    reason=event.reason,
                    proposed_at=event.at,
                    passed=True,
                    decided_by=event.by,
                    decided_at=event.at,
                    effective_from=event.at,
                ),
            )
        ]

    @rows.register
    def _(self, event: Suspension.Appealed) -> list[Op]:
        driver = event.driver_id
        return [
            Upsert(
                "decisions",
                _blank(
                    event.appeal_id,
                    kind="appeal",
                    title=f"appeal of suspension {event.decision_id}",
                    state="open",
                    by_board=False,
                    proposer_id=driver,
                    subject_id=driver,
                    proposed_at=event.at,
                ),
            )
        ]

    @rows.register
    def _(self, event: Suspension.AppealReviewed) -> list[Op]:
        return [
            Update(
                "decisions",
                {"decision_id": event.appeal_id},
                {
                    "state": "closed",
                    "reason": event.outcome,
                    "passed": event.outcome == "lifted",
                    "decided_by": event.by,
                    "decided_at": event.at,
                },
            )
        ]

    # -- queries --------------------------------------------------------------------------------
    def page(self, request: PageRequest, *, state: str | None = None) -> Page[DecisionRow]:
        return fetch_page(
            self.view,
            "decisions",
            request,
            order_by=DECISION_ORDER,
            to_item=_decision,
            where=None if state is None else {"state": state},
            descending=True,
        )

    def concerning(self, member_id: str) -> list[DecisionRow]:
        """The decisions the member proposed, and those about them (a suspension, an appeal)."""
        proposed = self.view.select("decisions", where={"proposer_id": member_id})
        about = self.view.select("decisions", where={"subject_id": member_id})
        seen = {r["decision_id"] for r in proposed}
        return [_decision(r) for r in proposed + [r for r in about if r["decision_id"] not in seen]]

    def get(self, decision_id: str) -> DecisionRow | None:
        row = self.view.get("decisions", {"decision_id": decision_id})
        return None if row is None else _decision(row)


def _decision(row: Row) -> DecisionRow:
    return DecisionRow(**row)


class Ballots(ReadModel):
    """Each member's ballot per decision, and each decision's tally."""

    name = "decisions_ballots"
    tables = (BALLOTS, TALLIES, PROXIES)

    @singledispatchmethod
    def rows(self, event: Any) -> list[Op]:
        return []

    @rows.register
    def _(self, event: Ballot.Cast) -> list[Op]:
        proxy = int(event.cast_by != event.member_id)
        return [
            Upsert(
                "ballots",
                {
                    "decision_id": event.decision_id,
                    "member_id": event.member_id,
                    "choice": event.choice,
                    "cast_by": event.cast_by,
                    "at": event.at,
                },
            ),
            _tally_add(event.decision_id, {COLUMN[event.choice]: 1, "by_proxy": proxy}),
        ]

    @rows.register
    def _(self, event: Ballot.Overridden) -> list[Op]:
        # The member votes over their proxy's vote: one vote moves, none is added.
        moved = {COLUMN[event.choice]: 1, "by_proxy": -1}
        moved[COLUMN[event.previous_choice]] = moved.get(COLUMN[event.previous_choice], 0) - 1
        return [
            Update(
                "ballots",
                {"decision_id": event.decision_id, "member_id": event.member_id},
                {"choice": event.choice, "cast_by": event.member_id, "at": event.at},
            ),
            _tally_add(event.decision_id, moved),
        ]

    @rows.register
    def _(self, event: Proxy.Given) -> list[Op]:
        return [_proxy_row(event, event.holder_id)]

    @rows.register
    def _(self, event: Proxy.Moved) -> list[Op]:
        return [_proxy_row(event, event.holder_id)]

    @rows.register
    def _(self, event: Proxy.Withdrawn) -> list[Op]:
        return [_proxy_row(event, None)]

    # -- queries --------------------------------------------------------------------------------
    def tally(self, decision_id: str) -> Tally:
        row = self.view.get("tallies", {"decision_id": decision_id})
        if row is None:
            return Tally(decision_id, 0, 0, 0, 0)
        return Tally(**row)

    def ballot(self, decision_id: str, member_id: str) -> Row | None:
        return self.view.get("ballots", {"decision_id": decision_id, "member_id": member_id})

    def ballots_of(self, member_id: str) -> list[Row]:
        """The ballots counted for the member, and those they cast for others."""
        own = self.view.select("ballots", where={"member_id": member_id})
        cast = self.view.select("ballots", where={"cast_by": member_id})
        return own + [r for r in cast if r["member_id"] != member_id]

    def proxies_of(self, member_id: str) -> list[Row]:
        """The proxies the member gave, and those they hold."""
        given = self.view.select("proxies", where={"member_id": member_id})
        return given + self.view.select("proxies", where={"holder_id": member_id})


def _proxy_row(event: Any, holder_id: str | None) -> Op:
    return Upsert(
        "proxies",
        {
            "member_id": event.member_id,
            "scope": event.scope,
            "holder_id": holder_id,
            "recorded_by": event.recorded_by,
            "at": event.at,
        },
    )


def _tally_add(decision_id: str, moved: dict[str, int]) -> Add:
    # Every counter named, so a first ballot creates the row whole.
    counts = {c: moved.get(c, 0) for c in ("for_votes", "against", "abstain", "by_proxy")}
    return Add("tallies", {"decision_id": decision_id}, counts)


class PolicyHistoryVersions(PolicyVersionsBase):
    """The versions this city adopted, from the decisions service's own events."""

    name = "decisions_policy_versions"

    @singledispatchmethod
    def rows(self, event: Any) -> list[Op]:
        return []

    @rows.register
    def _(self, event: PolicyHistory.Published) -> list[Op]:
        return [version_row(event.version, event.effective_from, event.decision_id, event.changes)]


class Electorate(ReadModel):
    """The members of the city, as learned from `members.MemberJoined` (an inbound read model:
    the consumer applies it)."""

    name = "decisions_electorate"
    tables = (MEMBERS,)

    @singledispatchmethod
    def rows(self, event: Any) -> list[Op]:
        return []

    @rows.register
    def _(self, event: MemberJoined) -> list[Op]:
        return [Upsert("members", {"member_id": event.member_id, "joined_at": event.joined_at})]

    def size(self) -> int:
        return self.view.count("members")

    def has(self, member_id: str) -> bool:
        return self.view.get("members", {"member_id": member_id}) is not None
