"""Erasure across services: a member's personal data removed everywhere the co-op keeps it.

The gateway is the one place that reaches every service, so the erasure request is carried
out here. Members goes first: it records the fact (who asked, when) and destroys the member's
vault key with their rows. Then every other service's step runs.

Rides and contributions name the member by id in their events and rows (a pseudonym that
stays, so ride history, hours, shares and the ledger stay correct) and keep what members write in
vaults of their own (`kernel.personal`): rides the reasons for declining or cancelling,
contributions the notes on logged work and the reasons for contests (contributions/privacy.py).
Each service with personal data adds its step to `STEPS`: a function of its application and the
member id, idempotent, that deletes it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from contributions.application import Contributions
from kernel.audit import AuditKind
from services.members.application import Members
from services.rides.application import Rides

if TYPE_CHECKING:
    from collections.abc import Callable

    from kernel.api import Context
    from services.members.application import Erasure


def _erase_rides(rides: Rides, member_id: str) -> None:
    """What the member wrote about rides (reasons for declining or cancelling)."""
    rides.personal.erase(member_id)


def _erase_contributions(contributions: Contributions, member_id: str) -> None:
    """What the member wrote in contributions (notes on logged work, contest reasons)."""
    contributions.erase_member(member_id)


STEPS: dict[type[Any], Callable[[Any, str], None]] = {
    Rides: _erase_rides,
    Contributions: _erase_contributions,
}


def erase_member(context: Context, member_id: str, *, requested_by: str, operation: str) -> Erasure:
    """Erase the member's personal data in every service and record it in the audit log.

    Raises MemberNotFound for a member who never joined this city's co-op (nothing changes).
    """
    erasure = context.app(Members).erase_personal_data(member_id, requested_by=requested_by)
    for app_cls, step in STEPS.items():
        step(context.app(app_cls), erasure.member_id)
    if context.audit is not None:
        context.audit.record(
            AuditKind.ERASED,
            operation=operation,
            outcome="already_erased" if erasure.already else "erased",
            actor=requested_by,
            subject=erasure.member_id,
        )
    return erasure
