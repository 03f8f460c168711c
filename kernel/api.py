"""What every service's GraphQL module shares: the request context and the expected problems.

Mutations and guarded queries return unions of a success type and `Problem` types (the
strawberry expected-errors pattern), so a client always gets a typed, named reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import strawberry
from strawberry.dataloader import DataLoader

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence

    from kernel.auth import Identity
    from kernel.config import Settings

A = TypeVar("A")
K = TypeVar("K")
V = TypeVar("V")


@strawberry.interface(description="Why a request was refused. Nothing was changed.")
class Problem:
    message: str


@strawberry.type(description="No valid token was sent; `message` says what is wrong with it.")
class NotAuthenticated(Problem):
    pass


@strawberry.type(description="The caller lacks the role this needs.")
class NotAuthorized(Problem):
    required_role: str


@strawberry.type(description="An input field is invalid; `field` names it.")
class InvalidInput(Problem):
    field: str


@strawberry.type(description="Something the request refers to does not exist.")
class NotFound(Problem):
    pass


@strawberry.type(description="The request conflicts with the current state (e.g. a ride's state).")
class Conflict(Problem):
    pass


@strawberry.type(
    description=(
        "The list has not yet applied the position given as `seen` (it is at `asOf`); nothing "
        "is wrong with the write: ask again in a moment."
    ),
)
class NotCaughtUp(Problem):
    seen: str
    as_of: str


@dataclass
class Context:
    """Per request: the applications, the settings and who is calling (if anyone)."""

    settings: Settings
    apps: dict[type[Any], Any]
    identity: Identity | None = None
    auth_problem: str | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    refusals: list[tuple[str, Problem]] = field(default_factory=list)
    loaders: dict[str, DataLoader[Any, Any]] = field(default_factory=dict)

    def app(self, cls: type[A]) -> A:
        try:
            found: A = self.apps[cls]
        except KeyError:
            raise LookupError(f"{cls.__name__} is not wired into this gateway") from None
        return found

    @property
    def caller(self) -> Identity:
        """Who is calling. Resolvers behind a `kernel.permissions.Guard` always have one."""
        if self.identity is None:
            raise LookupError("no caller: this resolver is not behind a Guard that needs a role")
        return self.identity

    def loader(
        self, name: str, load: Callable[[list[K]], Awaitable[Sequence[V | BaseException]]]
    ) -> DataLoader[K, V]:
        """This request's DataLoader `name`, made from `load` on first use.

        What one response asks for by key while it resolves (a page of rides, each asking for
        its driver) is fetched in one `load` call; nothing is shared between requests, so a
        response never shows another request's cached rows.
        """
        found: DataLoader[K, V] | None = self.loaders.get(name)
        if found is None:
            found = self.loaders[name] = DataLoader(load_fn=load)
        return found

    def refused(self, operation: str, problem: Problem) -> None:
        """Note a refusal (the gateway logs it; the audit log and metrics read it)."""
        self.refusals.append((operation, problem))

    def require(self, role: str) -> Identity | NotAuthenticated | NotAuthorized:
        """The caller if they hold `role`, else the problem to return."""
        if self.identity is None:
            return NotAuthenticated(
                message=self.auth_problem or "send 'Authorization: Bearer <token>' (muni token)"
            )
        if not self.identity.has(role):
            return NotAuthorized(
                message=(
                    f"this needs the {role!r} role; the token has {sorted(self.identity.roles)}"
                ),
                required_role=role,
            )
        return self.identity
