"""Command side of the members context, and the personal data it keeps outside its events.

Membership itself is here; the account use cases are grouped by concept and reached from the
application: `accounts` (sign-up, sign-in, codes, refresh, sign-out), `roles` (requests, grants,
withdrawals) and `consents` (consent to being acted for; the `Delegations` port). Readable
personal data (names, contact details, what a member said when consenting) is kept in the vault
(`personal`, kernel/personal.py), reached by the accounts code through `personal_data`.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eventsourcing.application import AggregateNotFoundError

from kernel.audit import AuditLog, audit_database
from kernel.eventstore import FederationApplication
from kernel.ids import InvalidId, member_id, new_member_id
from kernel.personal import DISPLAY_NAME, EMAIL, PHONE, PersonalData, open_personal_data
from services.members.accounts import Accounts
from services.members.delegation import Consents
from services.members.domain import (
    Member,
    MemberNotFound,
    MembersError,
    aggregate_id,
    display_name,
)
from services.members.projections import RoleRequests
from services.members.roles import Roles

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from datetime import datetime

    from services.members.ports import Detail, PersonalDataPort

ERASED = "erased"
"""What is shown where erased personal data was (a display name after erasure)."""


@dataclass(frozen=True)
class Erasure:
    """What an erasure did: the fields erased (names, never values) and when."""

    member_id: str
    fields: list[str]
    at: datetime
    requested_by: str
    already: bool  # the data had been erased before; nothing new was recorded


class VaultPort:
    """The accounts code's `PersonalDataPort`, kept in the member's vault. Emails and phones
    are findable (the desk finds a member who phoned by them)."""

    FINDABLE = frozenset({EMAIL, PHONE})

    def __init__(self, personal: PersonalData) -> None:
        self._personal = personal

    def keep(self, member_id: str, details: Mapping[Detail, str]) -> None:
        for field, value in details.items():
            self._personal.put(member_id, field, value, findable=field in self.FINDABLE)


class Members(FederationApplication):
    service = "members"
    read_models = (RoleRequests,)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # After the store is open, so the audit table joins a store file already in WAL mode.
        self.personal = open_personal_data(self.settings, self.service)
        self.audit = AuditLog(audit_database(self.settings, self.service), self.clock)
        # What other modules of this service add to a member's export and erasure (accounts:
        # credentials without their hashes, roles, consents): name -> function of a member id.
        self.export_sections: dict[str, Callable[[str], Any]] = {}
        self.erasure_steps: list[Callable[[str], None]] = []
        self.personal_data: PersonalDataPort = VaultPort(self.personal)
        self.accounts = Accounts(self)
        self.roles = Roles(self)
        self.consents = Consents(self)
        self.export_sections["account"] = self._export_account

    def _export_account(self, member_id: str) -> dict[str, Any] | None:
        """The account as the member may see it: logins by kind (their values are in
        `personalData`), roles, role requests, consent; never the password's hash."""
        try:
            account = self.accounts.account(member_id)
        except MembersError:
            return None
        consent = self.consents.consent(member_id)
        return {
            "openedAt": account.opened_at.isoformat(),
            "logins": sorted(account.logins),
            "roles": sorted(account.roles),
            "rolesRequested": sorted(account.requested),
            "language": account.language,
            "consentToBeActedFor": None
            if consent is None
            else {
                "given": consent.given,
                "recordedBy": consent.recorded_by,
                "channel": consent.channel,
                "changedAt": consent.changed_at.isoformat(),
            },
        }

    def _close_sign_ins(self, member_id: str) -> None:
        """An erased member's email and phone lead nowhere any more, their password is
        forgotten and every session ends (services/members/accounts.py `close_sign_ins`)."""
        # A member without an account (joined at a desk, or by the demo) has none to close.
        with contextlib.suppress(MembersError):
            self.accounts.close_sign_ins(member_id)

    def join(self, name: str) -> Member:
        """A member without an account (the demo, tests of membership alone)."""
        member = self.new_member(name)
        # The name first: a crash before the save leaves a row nobody can reach (its member
        # never joined), never a member without the name they chose.
        self.personal.put(member.member_id, DISPLAY_NAME, display_name(name))
        self.save(member)
        return member

    def new_member(self, name: str) -> Member:
        """A new member of this city, not yet saved (sign-up saves it with the account and then
        keeps the name through `personal_data`). The name is checked here, never stored."""
        display_name(name)
        return Member.join(
            new_member_id(self.city.id),  # type: ignore[arg-type]
            self.city.id,
            self.clock.now(),
        )

    def member(self, member_ref: str) -> Member:
        try:
            ref = member_id(member_ref)
            found: Member = self.repository.get(aggregate_id(ref))
        except (InvalidId, AggregateNotFoundError):
            raise MemberNotFound(member_ref) from None
        if not isinstance(found, Member) or found.member_id != ref:  # e.g. another city's prefix
            raise MemberNotFound(member_ref)
        return found

    def display_name(self, member: Member) -> str:
        """The member's display name, or `ERASED` once their personal data is erased."""
        if member.erased:
            return ERASED
        return self.personal.get(member.member_id, DISPLAY_NAME) or ERASED

    # -- the member's rights over their data ---------------------------------------------------
    def erase_personal_data(self, member_ref: str, *, requested_by: str) -> Erasure:
        """Erase every piece of personal data this service holds about the member.

        The fact (who asked, when) is saved first: it is durable before anything is destroyed,
        and an erasure interrupted half way is finished by asking again (the steps are
        idempotent). Membership, and everything recorded by member id, stays.
        """
        member = self.member(member_ref)
        recorded = member.erase_personal_data(requested_by=requested_by, now=self.clock.now())
        if recorded:
            self.save(member)
        # Every time (idempotent), so an erasure interrupted half way is finished by asking again.
        self._close_sign_ins(member.member_id)
        for step in self.erasure_steps:
            step(member.member_id)
        fields = self.personal.erase(member.member_id)
        assert member.erased_at is not None  # noqa: S101 (erased just above, or before)
        assert member.erased_by is not None  # noqa: S101
        return Erasure(member.member_id, fields, member.erased_at, member.erased_by, not recorded)

    def export_member(self, member_ref: str) -> dict[str, Any]:
        """Everything this service holds about the member, ready for JSON."""
        member = self.member(member_ref)
        return {
            "membership": {
                "memberId": member.member_id,
                "city": member.city,
                "joinedAt": member.joined_at.isoformat(),
                "personalDataErasedAt": member.erased_at.isoformat() if member.erased_at else None,
                "personalDataErasedBy": member.erased_by,
            },
            "personalData": self.personal.all_of(member.member_id),
            **{name: section(member.member_id) for name, section in self.export_sections.items()},
        }

    def close(self) -> None:
        super().close()
        self.personal.close()
        self.audit.close()
