"""What every service's GraphQL module shares: the request context and the expected problems.

Mutations and guarded queries return unions of a success type and `Problem` types (the
strawberry expected-errors pattern), so a client always gets a typed, named reason.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import strawberry
from strawberry.dataloader import DataLoader

from kernel.audit import AuditKind

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence

    from kernel.audit import AuditLog
    from kernel.auth import Identity
    from kernel.config import Settings

A = TypeVar("A")
log = logging.getLogger(__name__)
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
        "The list has not yet applied the position passed as `seen` (it waited a bounded "
        "time). `asOf` is the position it had reached; ask again shortly."
    )
)
class NotCaughtUp(Problem):
    read_model: str
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
    audit: AuditLog | None = None
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
        """Note a refusal and record it in the audit log (the gateway logs it; metrics read it).

        A refusal because a presented token did not verify is recorded as a sign-in failure,
        with no actor: the claims of a token that does not verify are not to be believed.
        """
        self.refusals.append((operation, problem))
        if self.audit is None:
            return
        failed_sign_in = isinstance(problem, NotAuthenticated) and self.auth_problem is not None
        try:
            self.audit.record(
                AuditKind.SIGN_IN_FAILED if failed_sign_in else AuditKind.REFUSED,
                operation=operation,
                outcome=type(problem).__name__,
                # A dispatcher acting for a member is the actor; the member is the subject.
                actor=None
                if self.identity is None
                else self.identity.actor or self.identity.member_id,
            )
        except Exception:
            # The refusal stands whatever happens to its record; say so without the details.
            log.exception("could not record the refusal of %s in the audit log", operation)

    def audited(
        self, kind: AuditKind, operation: str, outcome: str, *, subject: str | None = None
    ) -> None:
        """Record an act in the audit log (the caller as actor), if this process keeps one:
        a sign-in that failed, an act on someone's behalf, a role granted or withdrawn."""
        if self.audit is None:
            return
        try:
            self.audit.record(
                kind,
                operation=operation,
                outcome=outcome,
                # A dispatcher acting for a member is the actor; the member is the subject.
                actor=None
                if self.identity is None
                else self.identity.actor or self.identity.member_id,
                subject=subject,
            )
        except Exception:
            log.exception("could not record %s of %s in the audit log", kind, operation)

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


@strawberry.type(description="No member with this id in this city.")
class UnknownMember(Problem):
    member_id: str


@strawberry.type(
    description="The member has not recorded consent to being acted for (or withdrew it)."
)
class NoConsent(Problem):
    member_id: str
