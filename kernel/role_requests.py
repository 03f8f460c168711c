"""Asking for a role: the port through which a service asks the board to grant one.

Registering as a driver records the vehicle in the rides service and asks for the driver role;
only a board member grants it (a recorded act in the members service), and the member's next
token (sign-in or refresh) carries it. The members service implements the port; the gateway
wires it into every request's context.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from kernel.api import Context

KEY = "role_requests"


class RoleRequests(Protocol):
    def request(self, member_id: str, role: str, reason: str) -> bool:
        """Record that `member_id` asks for `role`; False if they hold it already.

        Asking again while a request is open changes nothing. Blocking: call it from a worker
        thread.
        """
        ...


def role_requests(context: Context) -> RoleRequests:
    """The port wired into this request's context by the gateway."""
    try:
        port: RoleRequests = context.extras[KEY]
    except KeyError:
        raise LookupError("no RoleRequests port is wired into this gateway") from None
    return port
