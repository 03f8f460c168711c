"""Command side of the members context.

Membership itself is here; the account use cases are grouped by concept and reached from the
application: `accounts` (sign-up, sign-in, codes, refresh, sign-out), `roles` (requests, grants,
withdrawals) and `consents` (consent to being acted for; the `Delegations` port).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from eventsourcing.application import AggregateNotFoundError

from kernel.eventstore import FederationApplication
from kernel.ids import InvalidId, member_id, new_member_id
from services.members.accounts import Accounts
from services.members.delegation import Consents
from services.members.domain import Member, MemberNotFound, aggregate_id
from services.members.ports import NotKept, PersonalDataPort
from services.members.roles import Roles

if TYPE_CHECKING:
    from kernel.cities import CityConfig
    from kernel.config import Settings
    from kernel.time import Clock


class Members(FederationApplication):
    service = "members"

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        city: CityConfig | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        super().__init__(settings, clock=clock, city=city, env=env)
        # Readable personal data goes here, never into an event (services/members/ports.py).
        self.personal_data: PersonalDataPort = NotKept()
        self.accounts = Accounts(self)
        self.roles = Roles(self)
        self.consents = Consents(self)

    def join(self, display_name: str) -> Member:
        member = self.new_member(display_name)
        self.save(member)
        return member

    def new_member(self, display_name: str) -> Member:
        """A new member of this city, not yet saved (sign-up saves it with the account)."""
        return Member.join(
            new_member_id(self.city.id),  # type: ignore[arg-type]
            self.city.id,
            display_name,
            self.clock.now(),
        )

    def member(self, member_ref: str) -> Member:
        try:
            ref = member_id(member_ref)
            found: Member = self.repository.get(aggregate_id(ref))
        except (InvalidId, AggregateNotFoundError):
            raise MemberNotFound(member_ref) from None
        return found
