"""Command side of the members context."""

from __future__ import annotations

from eventsourcing.application import AggregateNotFoundError

from kernel.eventstore import FederationApplication
from kernel.ids import InvalidId, member_id, new_member_id
from services.members.domain import Member, MemberNotFound, aggregate_id


class Members(FederationApplication):
    service = "members"

    def join(self, display_name: str) -> Member:
        member = Member.join(
            new_member_id(self.city.id),  # type: ignore[arg-type]
            self.city.id,
            display_name,
            self.clock.now(),
        )
        self.save(member)
        return member

    def member(self, member_ref: str) -> Member:
        try:
            ref = member_id(member_ref)
            found: Member = self.repository.get(aggregate_id(ref))
        except (InvalidId, AggregateNotFoundError):
            raise MemberNotFound(member_ref) from None
        return found
