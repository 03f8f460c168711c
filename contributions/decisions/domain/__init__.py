"""The decisions domain: proposals and their votes, ballots, proxies, backing, policy versions
and drivers' suspensions. No I/O, no clock: `now` is passed in.

Aggregates (none grows with the city's history: tallies and lists are read models):
    Decision       a proposal to change policies: backing (a member's), then an open vote,
                   then closed with its result
    Ballot         one member's vote on one decision (its id is the pair, so a member is
                   counted once whoever casts it); the member overrides their proxy's vote
    Proxy          a member's proxy to another member, for one decision or standing
    Backing        one member's backing of one proposal (once)
    PolicyHistory  the city's policy version counter: each passed decision is the next version
    Suspension     a driver's standing: suspended by a board member with a reason code, the
                   driver's appeal and the board's review of it
"""

from contributions.decisions.domain.ballots import STANDING, Backing, Ballot, Proxy
from contributions.decisions.domain.decision import Decision
from contributions.decisions.domain.errors import (
    MAX_TITLE,
    AlreadyBacked,
    AlreadyVoted,
    Choice,
    DecisionNotFound,
    DecisionsError,
    DecisionState,
    InvalidProposal,
    InvalidProxy,
    NoProxy,
    NotInState,
    UnknownVoter,
    VotingClosed,
    VotingStillOpen,
    passes,
    share_of,
)
from contributions.decisions.domain.history import PolicyHistory

__all__ = [
    "MAX_TITLE",
    "STANDING",
    "AlreadyBacked",
    "AlreadyVoted",
    "Backing",
    "Ballot",
    "Choice",
    "Decision",
    "DecisionNotFound",
    "DecisionState",
    "DecisionsError",
    "InvalidProposal",
    "InvalidProxy",
    "NoProxy",
    "NotInState",
    "PolicyHistory",
    "Proxy",
    "UnknownVoter",
    "VotingClosed",
    "VotingStillOpen",
    "passes",
    "share_of",
]
