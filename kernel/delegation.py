"""Acting for a member: the port through which a service asks whether a caller may.

A dispatcher books a ride for a member who phoned; a librarian lends a tool to one who walked
in. Before any service acts on a member's behalf it asks `Delegations.check(actor, member)`:
the member must exist in this city and have recorded their consent (given by themself, or by a
dispatcher during the call, with what they said), not since withdrawn. The members service
implements the port; the gateway wires it into every request's context, so a service asks
through the context and never imports the members service.

Whoever acted is recorded by the acting service on every event it stores (`booked_by`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from kernel.api import Context
    from kernel.auth import Identity

KEY = "delegations"


class DelegationRefused(Exception):
    """Base of the reasons a caller may not act for a member."""

    def __init__(self, member_id: str, message: str) -> None:
        super().__init__(message)
        self.member_id = member_id


class UnknownMember(DelegationRefused):
    """No such member in this city (a malformed id, another city's member, or nobody)."""

    def __init__(self, member_id: str) -> None:
        super().__init__(member_id, f"no member {member_id} in this city")


class NoConsent(DelegationRefused):
    """The member has not consented to being acted for, or has withdrawn it."""

    def __init__(self, member_id: str) -> None:
        super().__init__(
            member_id,
            f"member {member_id} has not recorded consent to bookings on their behalf",
        )


class Delegations(Protocol):
    def check(self, actor: Identity, member: str) -> None:
        """Return if `actor` may act for `member`; raise `UnknownMember` or `NoConsent` if not.

        Reads the members store (blocking): call it from a worker thread. Acting for oneself
        always passes. Checks no role: the caller's operation does that, from the matrix.
        """
        ...


def delegations(context: Context) -> Delegations:
    """The port wired into this request's context by the gateway."""
    try:
        port: Delegations = context.extras[KEY]
    except KeyError:
        raise LookupError("no Delegations port is wired into this gateway") from None
    return port
