"""The one permission matrix: who may reach each GraphQL operation, and the guard that applies it.

Every root field of the merged schema (each query and mutation) has one entry here, naming the
roles any one of which lets a caller in, or `ANYONE` for what needs no sign-in (a fare quote,
signing up and signing in). The gateway attaches `Guard` to every root field when it builds the
schema, and refuses to start if a field has no entry (`guard_root_fields`), so a new resolver
cannot forget its check and no resolver writes one by hand.

What the matrix cannot say, because it depends on the row, stays in the resolver and is stated in
its description: a member sees their own ride, not another's. Roles are per city: a token minted
for another city is refused here before any role is looked at.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

from graphql import OperationType
from strawberry.extensions.field_extension import FieldExtension
from strawberry.types.union import StrawberryUnion

from kernel.api import NotAuthenticated, NotAuthorized
from kernel.audit import AuditKind

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterable, Mapping

    from strawberry.types import Info
    from strawberry.types.field import StrawberryField

    from kernel.api import Context

ANYONE: frozenset[str] = frozenset()
"""The entry of an operation that needs no token."""


def roles(*names: str) -> frozenset[str]:
    return frozenset(names)


MEMBER = roles("member")
DRIVER = roles("driver")
BOARD = roles("board")
# The desk: who acts for members without a smartphone (by phone, or at a branch).
DESK = roles("dispatcher", "librarian")
SAFETY = roles("safety")  # the safety team: incidents on rides (and, later, stays and things)

# operation (the GraphQL root field name) -> roles, any one of which is enough.
MATRIX: dict[str, frozenset[str]] = {
    # members: accounts
    "signUp": ANYONE,
    "signIn": ANYONE,
    "signInWithCode": ANYONE,
    "refreshToken": ANYONE,
    "signOut": ANYONE,  # the refresh token it ends is the proof
    "signOutEverywhere": MEMBER,
    "me": MEMBER,
    "roleRequests": BOARD,
    "myAccount": MEMBER,
    "chooseLanguage": MEMBER,  # one's own language for the web app
    "issueSignInCode": DESK,  # not for members holding a role that sees others' data (resolver)
    "findMember": DESK,
    "actForMember": roles("dispatcher"),  # with the member's consent; audited (desk_api.py)
    # members: roles (granted and withdrawn by the board, never by the member themself)
    "requestRole": MEMBER,
    "grantRole": BOARD,  # and only by someone the record shows on the board (resolver)
    "withdrawRole": BOARD,
    # members: consent to being acted for
    "giveConsent": MEMBER,  # one's own; for another member, the desk roles (resolver)
    "withdrawConsent": MEMBER,  # likewise
    "memberConsent": MEMBER,  # one's own; another member's, the desk roles (resolver)
    # rides
    "quoteRide": ANYONE,
    "cityRules": ANYONE,  # the co-op's fare formula and split, public
    "ride": MEMBER,  # and only a ride of one's own, unless dispatcher or board (resolver)
    "myRides": MEMBER,
    "myDrives": DRIVER,
    "myDriver": DRIVER,
    "registerDriver": MEMBER,
    "goOnDuty": DRIVER,
    "goOffDuty": DRIVER,
    "requestRide": MEMBER,  # onBehalfOf: the dispatcher role and the member's consent (resolver)
    "assignRide": roles("dispatcher"),  # by hand, with a reason; the driver may still decline
    "acceptRide": DRIVER,
    "declineRide": DRIVER,
    "markArriving": DRIVER,
    "markPickedUp": DRIVER,
    "markNoShow": DRIVER,
    "markDroppedOff": DRIVER,
    "cancelRide": MEMBER,  # the rider, the booker or the driver of that ride (resolver)
    # rides: scheduled, recurring and pooled (services/rides/scheduling)
    "bookScheduledRide": MEMBER,  # onBehalfOf: the dispatcher role and consent (resolver)
    "bookRecurringRide": MEMBER,  # likewise
    "changeScheduledRide": MEMBER,  # the rider or booker; dispatcher or board any (resolver)
    "cancelScheduledRide": MEMBER,  # likewise
    "scheduledRide": MEMBER,  # own; the desk, drivers and the board any (resolver)
    "myScheduledRides": MEMBER,
    "vehicleSchedules": roles("dispatcher", "driver", "board"),
    "vehicleRoute": roles("dispatcher", "driver", "board"),
    # rides: the dispatcher's desk (its list and map of what is moving now)
    "ridesInProgress": roles("dispatcher"),
    "driversOnDuty": roles("dispatcher"),
    "memberRides": roles("dispatcher"),  # one member's rides, for the member who phoned
    # rides: live subscriptions (GraphQL over WebSocket on /graphql; capped per member and
    # per connection, kernel/streams.py)
    "rideUpdates": MEMBER,  # the rider, the booker or the driver of that ride (resolver)
    "driverUpdates": DRIVER,  # one's own offers and rides
    "geocode": MEMBER,  # an address to places, through the city's geocoder (another site)
    "setSolidarityFare": BOARD,
    # contributions
    "myCredits": MEMBER,
    # Board only: its accounts include each member's (by pseudonymous id); the regulator's
    # aggregates-only view comes with the board reports (contributions issue).
    "trialBalance": BOARD,
    "ledgerTotals": BOARD | roles("regulator"),  # aggregates only: no account, no member
    "accountBalance": MEMBER | BOARD,  # a member's own accounts; the board's any (resolver)
    "parkedMessages": BOARD,
    # decisions (contributions/decisions): one member, one vote
    "proposePolicyChange": MEMBER | BOARD,  # a board member's goes to a vote directly
    "backProposal": MEMBER,
    "vote": MEMBER,  # forMember: only as the holder of that member's proxy (resolver)
    "closeDecision": MEMBER | BOARD,  # anyone may, once the vote's time is up
    "giveProxy": MEMBER,  # one's own; onBehalfOf: the desk, with the member's consent (resolver)
    "withdrawProxy": MEMBER,  # likewise
    "suspendDriver": BOARD,  # a board member's recorded decision, never an algorithm
    "appealSuspension": MEMBER,  # the suspended driver's own (resolver)
    "reviewAppeal": BOARD,  # not by the board member who suspended (domain)
    "liftSuspension": BOARD,
    "decisions": MEMBER | BOARD,
    "decision": MEMBER | BOARD,
    "decisionTally": MEMBER | BOARD,
    "policyHistory": MEMBER | BOARD | roles("regulator"),
    # contributions: open value accounting (contributions/value_api.py)
    "contributionTypes": MEMBER,
    "valueEquations": MEMBER,
    "loggedContributions": MEMBER,  # pending work for peers to validate, or one's own
    "simulateEquation": MEMBER,  # open books: every member's share, by id, before a vote
    "periods": MEMBER,
    "myStatement": MEMBER,
    "periodReport": BOARD,  # also GET /reports/contributions/<period>/<part>.csv
    "contests": BOARD,
    "logContribution": MEMBER,
    "validateContribution": MEMBER,  # never one's own work (resolver)
    "contestLine": MEMBER,  # only a line on one's own accounts (resolver)
    "reviewContest": BOARD,  # never one's own contest (resolver)
    "openPeriod": BOARD,
    "closePeriod": BOARD,
    "distributeSurplus": BOARD,
    "ledgerLines": BOARD,  # every line names its account (members' by pseudonymous id)
    "cityActivity": BOARD | roles("regulator"),  # totals per day: no account, no member
    # personal data and the audit log (gateway/privacy.py)
    "myData": MEMBER,  # also GET /me/export
    "eraseMyData": MEMBER,
    "eraseMemberData": BOARD,  # for a member who asked; the board member is recorded
    "auditLog": BOARD,
    # rides: drivers' vehicles (services/rides/api/vehicles.py)
    "registerVehicle": DRIVER,
    "myVehicles": DRIVER,
    "fleetVehicles": DRIVER | DESK | BOARD,
    # rides: incidents, routed to the safety team (services/rides/api/incidents.py)
    "reportIncident": MEMBER,  # the ride's rider or driver; forMember: the desk, with consent
    "incidents": SAFETY,
    "resolveIncident": SAFETY,
}


class UnguardedOperation(LookupError):
    """A root field has no entry in the matrix, or cannot return the guard's refusals."""


# What a dispatcher acting for a member (a delegated token: `Identity.actor`) may not do for
# them: acts that must be the member's own will, said by the member (their consent, their vote,
# their proxy, backing or proposing, judging a peer's work, erasing or ending their sessions),
# and acting again. Everything else the member can do in the app, the desk can do for them.
SELF_ONLY = frozenset(
    {
        "actForMember",
        "eraseMyData",
        "signOutEverywhere",
        "giveConsent",
        "withdrawConsent",
        "giveProxy",
        "withdrawProxy",
        "vote",
        "backProposal",
        "proposePolicyChange",
        "validateContribution",
    }
)


def refusal(
    context: Context, operation: str, matrix: Mapping[str, frozenset[str]] = MATRIX
) -> NotAuthenticated | NotAuthorized | None:
    """Why the caller may not reach `operation`, or None if they may."""
    allowed = matrix[operation]
    who = context.identity
    if who is not None and who.actor is not None and operation in SELF_ONLY:
        return NotAuthorized(
            message=f"{operation} is the member's own act: a dispatcher acting for them may not",
            required_role="member",
        )
    if not allowed:
        return None
    if who is None:
        return NotAuthenticated(
            message=context.auth_problem or "send 'Authorization: Bearer <token>' (sign in first)"
        )
    if who.city != context.settings.city:
        return NotAuthenticated(
            message=(
                f"this token was issued for city {who.city!r}; this is {context.settings.city!r}"
            )
        )
    if who.roles.isdisjoint(allowed):
        needed = sorted(allowed)
        wanted = f"the {needed[0]!r} role" if len(needed) == 1 else f"one of the roles {needed}"
        return NotAuthorized(
            message=f"{operation} needs {wanted}; the token has {sorted(who.roles)}",
            required_role=needed[0],
        )
    return None


class Guard(FieldExtension):
    """Refuses a root field's call with a typed answer unless the matrix lets the caller in.

    On a subscription (`stream`), the refusal is the stream's one event, then it ends."""

    def __init__(
        self,
        operation: str,
        matrix: Mapping[str, frozenset[str]] = MATRIX,
        *,
        stream: bool = False,
    ) -> None:
        self.operation = operation
        self.matrix = matrix
        self.stream = stream

    async def resolve_async(
        self, next_: Any, source: Any, info: Info[Any, Any], **kwargs: Any
    ) -> Any:
        problem = refusal(info.context, self.operation, self.matrix)
        if problem is not None:
            context: Context = info.context
            context.refused(self.operation, problem)
            return _once(problem) if self.stream else problem
        context = info.context
        who = context.identity
        if who is not None and who.actor is not None and _is_mutation(info):
            # Every act a dispatcher does for a member is in the audit log, naming both.
            context.audited(
                AuditKind.ACTED_ON_BEHALF, self.operation, "acted", subject=who.member_id
            )
        result = next_(source, info, **kwargs)
        # A subscription's resolver hands back its async generator itself, not an awaitable.
        return await result if inspect.isawaitable(result) else result


def _is_mutation(info: Info[Any, Any]) -> bool:
    return info.operation.operation is OperationType.MUTATION


async def _once(problem: Any) -> AsyncIterator[Any]:
    yield problem


def _can_refuse(field: StrawberryField) -> bool:
    """True if the field's type is a union holding both refusal types."""
    kind = field.type
    if not isinstance(kind, StrawberryUnion):
        return False
    members = {getattr(t, "__name__", None) for t in kind.types}
    return {"NotAuthenticated", "NotAuthorized"} <= members


def guard_root_fields(
    root_types: Iterable[type], matrix: Mapping[str, frozenset[str]] = MATRIX
) -> list[str]:
    """Attach a `Guard` to every field of the given root types; return the operations guarded.

    Raises `UnguardedOperation` for a field missing from the matrix, or for a field that needs a
    role but whose result union cannot carry `NotAuthenticated` and `NotAuthorized`.
    """
    guarded = []
    for root in root_types:
        definition = root.__strawberry_definition__  # type: ignore[attr-defined]
        for field in definition.fields:
            name = field.graphql_name or _camel(field.python_name)
            if name not in matrix:
                raise UnguardedOperation(
                    f"{definition.name}.{name} has no entry in kernel.permissions.MATRIX"
                )
            if matrix[name] and not _can_refuse(field):
                raise UnguardedOperation(
                    f"{definition.name}.{name} needs a role, so its result must be a union "
                    "with NotAuthenticated and NotAuthorized"
                )
            if not any(isinstance(e, Guard) for e in field.extensions):
                field.extensions.append(Guard(name, matrix, stream=field.is_subscription))
            guarded.append(name)
    return guarded


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
