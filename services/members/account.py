"""A member's account: how they sign in and which roles they hold in their city co-op.

`Account` keeps no readable personal data: the sign-in identifiers are `Login` pointers, each
keyed by an HMAC of a normalised email or phone (services/members/identifiers.py), and the
password only as its argon2 hash. Roles change only by recorded acts naming who, when and why.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from eventsourcing.domain import Aggregate, event

from kernel.ids import stable_uuid
from services.members.domain import MembersError

if TYPE_CHECKING:
    from datetime import datetime
    from uuid import UUID

MEMBERSHIP = "member"


class AccountNotFound(MembersError):
    def __init__(self, member_id: str) -> None:
        super().__init__(f"no member {member_id} in this city")
        self.member_id = member_id


class RoleError(MembersError):
    def __init__(self, role: str, member_id: str, message: str) -> None:
        super().__init__(message)
        self.role = role
        self.member_id = member_id


class RoleAlreadyHeld(RoleError):
    def __init__(self, role: str, member_id: str) -> None:
        super().__init__(role, member_id, f"{member_id} already holds the {role!r} role")


class RoleNotHeld(RoleError):
    def __init__(self, role: str, member_id: str) -> None:
        super().__init__(role, member_id, f"{member_id} does not hold the {role!r} role")


class OwnRole(RoleError):
    """Nobody grants or withdraws a role of their own: someone else on the board must."""

    def __init__(self, role: str, member_id: str) -> None:
        super().__init__(
            role, member_id, f"a member never grants or withdraws their own role ({role!r})"
        )


class Account(Aggregate):
    """Sign-in, roles and the chosen language of one member.

    Invariants: the 'member' role is held from opening and never withdrawn; a role is granted
    or withdrawn only by someone other than the member (that they are on the board is the
    application's check, from their own account); `session_epoch` only grows.
    """

    # The language the member chose for the web app (one of the city's `languages`), or None
    # for the city's default. A class attribute, so accounts opened before it existed have it.
    language: str | None = None
    # True once the member's personal data is erased: no password, no login reaches it.
    closed: bool = False

    @staticmethod
    def create_id(member_id: str) -> UUID:
        return stable_uuid("account", member_id)

    @event("Opened")
    def __init__(
        self,
        member_id: str,
        city: str,
        logins: dict[str, str],
        password_hash: str,
        opened_at: datetime,
    ) -> None:
        self.member_id = member_id
        self.city = city
        self.logins = dict(logins)  # kind ("email", "phone") -> Login aggregate id (hex)
        self.password_hash = password_hash
        self.opened_at = opened_at
        self.roles: list[str] = [MEMBERSHIP]
        self.requested: list[str] = []
        # Refresh tokens of an older epoch are revoked: signing out everywhere bumps it.
        self.session_epoch = 0

    def holds(self, role: str) -> bool:
        return role in self.roles

    # -- roles ----------------------------------------------------------------------------------
    def request_role(self, role: str, *, reason: str, now: datetime) -> bool:
        """Ask the board for `role`; False (and nothing recorded) if held or already asked."""
        if role in self.roles or role in self.requested:
            return False
        self._role_requested(role=role, reason=reason, at=now)
        return True

    def grant_role(self, role: str, *, by: str, reason: str, now: datetime) -> None:
        if by == self.member_id:
            raise OwnRole(role, self.member_id)
        if role in self.roles:
            raise RoleAlreadyHeld(role, self.member_id)
        self._role_granted(role=role, by=by, reason=reason, at=now)

    def withdraw_role(self, role: str, *, by: str, reason: str, now: datetime) -> None:
        if by == self.member_id:
            raise OwnRole(role, self.member_id)
        if role not in self.roles or role == MEMBERSHIP:
            # Membership ends by leaving the co-op, not by a withdrawn role.
            raise RoleNotHeld(role, self.member_id)
        self._role_withdrawn(role=role, by=by, reason=reason, at=now)

    @event("RoleRequested")
    def _role_requested(self, role: str, reason: str, at: datetime) -> None:
        self.requested.append(role)

    @event("RoleGranted")
    def _role_granted(self, role: str, by: str, reason: str, at: datetime) -> None:
        self.roles.append(role)
        if role in self.requested:
            self.requested.remove(role)

    @event("RoleWithdrawn")
    def _role_withdrawn(self, role: str, by: str, reason: str, at: datetime) -> None:
        self.roles.remove(role)

    # -- sign-in --------------------------------------------------------------------------------
    def forget_password_hash(self, *, now: datetime) -> None:
        """The hash moved to the member's vault (accounts opened before it lived there)."""
        self._password_changed(password_hash="", at=now)

    def sign_out_everywhere(self, *, now: datetime) -> None:
        self._signed_out_everywhere(at=now)

    def close_sign_ins(self, *, now: datetime) -> bool:
        """After an erasure: forget the logins and the password hash, end every session.
        False (nothing recorded) if closed already."""
        if self.closed:
            return False
        self._sign_ins_closed(at=now)
        return True

    @event("SignInsClosed")
    def _sign_ins_closed(self, at: datetime) -> None:
        self.closed = True
        self.logins = {}
        self.password_hash = ""
        self.session_epoch += 1

    # -- preferences ----------------------------------------------------------------------------
    def choose_language(self, language: str, *, now: datetime) -> bool:
        """Remember `language` (checked against the city's by the caller); False if it was
        already the member's choice (nothing recorded)."""
        if language == self.language:
            return False
        self._language_chosen(language=language, at=now)
        return True

    @event("LanguageChosen")
    def _language_chosen(self, language: str, at: datetime) -> None:
        self.language = language

    @event("PasswordChanged")
    def _password_changed(self, password_hash: str, at: datetime) -> None:
        self.password_hash = password_hash

    @event("SignedOutEverywhere")
    def _signed_out_everywhere(self, at: datetime) -> None:
        self.session_epoch += 1


class Login(Aggregate):
    """A one-to-one pointer from a sign-in identifier to a member.

    Its id is derived from the identifier's keyed digest, so a second account with the same
    email or phone is refused by the store itself (the id exists), even from two gateway
    replicas at once. The digest is not stored: the id is all a sign-in needs.
    """

    @staticmethod
    def id_for(digest: str) -> UUID:
        return stable_uuid("login", digest)

    # A released pointer leads nowhere: its member erased their data. The same email or phone
    # may then join again, and the pointer is claimed for the new member.
    released: bool = False

    @event("Registered")
    def __init__(self, id: UUID, kind: str, member_id: str) -> None:
        self.kind = kind
        self.member_id = member_id

    def release(self, *, now: datetime) -> bool:
        if self.released:
            return False
        self._released(at=now)
        return True

    def claim(self, member_id: str, *, now: datetime) -> None:
        """A new member joins with a released identifier."""
        if not self.released:
            raise ValueError("only a released login can be claimed")
        self._claimed(member_id=member_id, at=now)

    @event("Released")
    def _released(self, at: datetime) -> None:
        self.released = True
        self.member_id = ""

    @event("Claimed")
    def _claimed(self, member_id: str, at: datetime) -> None:
        self.released = False
        self.member_id = member_id
