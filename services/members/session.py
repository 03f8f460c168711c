"""A session: one family of rotating refresh tokens, from one sign-in.

A refresh token reads `<session id>.<generation>.<secret>`. Each refresh exchanges the current
generation for the next one, with a new secret; only a hash of the current secret is kept (the
secret is 256 random bits, so a fast hash is enough). A token of an older generation has been
exchanged already: someone is replaying it (a stolen copy, or the member's own after the thief
used it first), and as in OAuth's refresh-token rotation with reuse detection the whole family
is revoked, so neither copy works any more.
"""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING

from eventsourcing.domain import Aggregate, event

from services.members.domain import MembersError

if TYPE_CHECKING:
    from datetime import datetime
    from uuid import UUID

REUSED = "a refresh token was used twice, so every token of its session was revoked"
SIGNED_OUT = "signed out everywhere"
SIGNED_OUT_HERE = "signed out"
EXPIRED = "the session was not refreshed in time"


class RefreshTokenInvalid(MembersError):
    def __init__(self) -> None:
        super().__init__("refresh token is not valid")


class RefreshTokenReused(MembersError):
    def __init__(self) -> None:
        super().__init__(
            "this refresh token was already used; its session is now revoked: sign in again"
        )


class SessionEnded(MembersError):
    def __init__(self, reason: str) -> None:
        super().__init__(f"the session has ended ({reason}): sign in again")
        self.reason = reason


class Session(Aggregate):
    """One sign-in's refresh-token family.

    Invariants: `generation` only grows; once revoked, never rotated again; a rotation needs
    the current generation's secret, an unexpired session and the account's current epoch.
    """

    @event("Started")
    def __init__(
        self,
        id: UUID,
        member_id: str,
        epoch: int,
        token_hash: str,
        via: str,
        started_at: datetime,
        expires_at: datetime,
    ) -> None:
        self.member_id = member_id
        self.epoch = epoch
        self.token_hash = token_hash
        self.via = via  # "password", or "code issued by <member id>"
        self.started_at = started_at
        self.expires_at = expires_at
        self.generation = 0
        self.revoked: str | None = None

    def is_replay(self, generation: int) -> bool:
        return generation < self.generation

    def revoke_for_reuse(self, *, now: datetime) -> None:
        if self.revoked is None:
            self._revoked(reason=REUSED, at=now)

    def rotate(
        self,
        *,
        generation: int,
        token_hash: str,
        new_hash: str,
        epoch: int,
        now: datetime,
        expires_at: datetime,
    ) -> int:
        """Exchange the current generation for the next; return the new generation."""
        if self.revoked is not None:
            raise SessionEnded(self.revoked)
        if epoch != self.epoch:
            raise SessionEnded(SIGNED_OUT)
        if now >= self.expires_at:
            raise SessionEnded(EXPIRED)
        if generation != self.generation or not hmac.compare_digest(token_hash, self.token_hash):
            raise RefreshTokenInvalid
        self._rotated(generation=generation + 1, token_hash=new_hash, at=now, expires_at=expires_at)
        return self.generation

    def sign_out(self, *, generation: int, token_hash: str, now: datetime) -> bool:
        """End this session on its member's request (the current token proves it). False if
        it had ended already: signing out twice changes nothing."""
        if self.revoked is not None:
            return False
        if generation != self.generation or not hmac.compare_digest(token_hash, self.token_hash):
            raise RefreshTokenInvalid
        self._revoked(reason=SIGNED_OUT_HERE, at=now)
        return True

    @event("Rotated")
    def _rotated(
        self, generation: int, token_hash: str, at: datetime, expires_at: datetime
    ) -> None:
        self.generation = generation
        self.token_hash = token_hash
        self.expires_at = expires_at

    @event("Revoked")
    def _revoked(self, reason: str, at: datetime) -> None:
        self.revoked = reason
