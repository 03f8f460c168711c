"""Live subscriptions' shared pieces: the cap on how many one member and one connection hold,
its typed refusal, and the context keys the gateway fills for subscription resolvers.

A subscription holds a slot for as long as it runs. Past the cap, a new one is answered with
`TooManySubscriptions` (one event, then the stream ends) and the others carry on: a member who
opens tabs without end costs the gateway one counter each, not a watcher each.

The counts are per gateway process (each replica caps what it serves); a member spreading
subscriptions over replicas holds at most the cap on each.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import TYPE_CHECKING, Literal

import strawberry

from kernel.api import Problem

if TYPE_CHECKING:
    from types import TracebackType

# Keys in `Context.extras` that the gateway fills on a WebSocket connection.
SLOTS = "subscription_slots"
CONNECTION = "connection_id"
FOLLOWERS = "followers"
# The token the connection signed in with, checked again as updates go out.
TOKEN = "token"  # noqa: S105 (a key name, not a secret)

Scope = Literal["member", "connection"]


@strawberry.type(
    description="Too many live subscriptions at once, for this member or on this connection; "
    "end one (complete it) before starting another. Nothing was started."
)
class TooManySubscriptions(Problem):
    limit: int
    scope: str = strawberry.field(description="`member` or `connection`: which cap was reached.")


class Slot:
    """One subscription's place under the caps; give it back by leaving its `with` block."""

    def __init__(self, slots: Slots, member: str, connection: str) -> None:
        self._slots, self._member, self._connection = slots, member, connection
        self._held = True

    def __enter__(self) -> Slot:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    def release(self) -> None:
        if self._held:
            self._held = False
            self._slots._release(self._member, self._connection)


class Slots:
    """The caps on concurrent subscriptions, per member and per connection."""

    def __init__(self, *, per_member: int, per_connection: int) -> None:
        self.per_member = per_member
        self.per_connection = per_connection
        self._members: Counter[str] = Counter()
        self._connections: Counter[str] = Counter()
        self._lock = threading.Lock()

    def take(self, member: str, connection: str) -> Slot | TooManySubscriptions:
        with self._lock:
            if self._connections[connection] >= self.per_connection:
                return self._refusal("connection", self.per_connection)
            if self._members[member] >= self.per_member:
                return self._refusal("member", self.per_member)
            self._members[member] += 1
            self._connections[connection] += 1
        return Slot(self, member, connection)

    def held(self, member: str) -> int:
        with self._lock:
            return self._members[member]

    def _release(self, member: str, connection: str) -> None:
        with self._lock:
            for counter, key in ((self._members, member), (self._connections, connection)):
                counter[key] -= 1
                if counter[key] <= 0:
                    del counter[key]

    @staticmethod
    def _refusal(scope: Scope, limit: int) -> TooManySubscriptions:
        whose = "this member" if scope == "member" else "this connection"
        return TooManySubscriptions(
            message=f"{whose} holds {limit} live subscriptions already (the most at once)",
            limit=limit,
            scope=scope,
        )
