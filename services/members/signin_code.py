"""One-time sign-in codes, for members without a smartphone.

A dispatcher or librarian issues one for a member who phoned or walked in, and hands it over on
paper or reads it out: ten characters of Crockford's base32 (no I, L, O or U, so nothing reads
as another letter), shown as `ABCDE-FGH23`, about 50 random bits. It works once, until it expires
(the city's `sign_in_code_hours`, 24 h by default). Only a keyed hash of it is stored: the
aggregate's id is derived from that hash, so a sign-in finds it by the code alone.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from eventsourcing.domain import Aggregate, event

from kernel.ids import stable_uuid
from services.members.domain import MembersError

if TYPE_CHECKING:
    from datetime import datetime
    from uuid import UUID

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 10
# What people write for the letters the alphabet leaves out (Crockford's decoding rules).
_READS_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})


class CodeExpired(MembersError):
    def __init__(self, expired_at: datetime) -> None:
        super().__init__(
            f"this sign-in code expired at {expired_at.isoformat()}; ask for a new one"
        )
        self.expired_at = expired_at


class CodeAlreadyUsed(MembersError):
    def __init__(self, used_at: datetime) -> None:
        super().__init__(f"this sign-in code was already used at {used_at.isoformat()}")
        self.used_at = used_at


def new_code() -> str:
    """A fresh code in its display form (`ABCDE-FGH23`)."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def normalise(code: str) -> str | None:
    """The code as issued, from what a person typed (any case, spaces, dashes, O for 0), or
    None if it cannot be one."""
    cleaned = code.upper().replace("-", "").replace(" ", "").translate(_READS_AS)
    if len(cleaned) != LENGTH or any(c not in ALPHABET for c in cleaned):
        return None
    return cleaned


class SignInCode(Aggregate):
    """A one-time code for one member. Invariant: used at most once, and never after expiry."""

    @staticmethod
    def id_for(digest: str) -> UUID:
        return stable_uuid("sign-in-code", digest)

    @event("Issued")
    def __init__(
        self,
        id: UUID,
        member_id: str,
        issued_by: str,
        issued_at: datetime,
        expires_at: datetime,
    ) -> None:
        self.member_id = member_id
        self.issued_by = issued_by
        self.issued_at = issued_at
        self.expires_at = expires_at
        self.used_at: datetime | None = None

    def use(self, *, now: datetime) -> None:
        if self.used_at is not None:
            raise CodeAlreadyUsed(self.used_at)
        if now >= self.expires_at:
            raise CodeExpired(self.expires_at)
        self._used(at=now)

    @event("Used")
    def _used(self, at: datetime) -> None:
        self.used_at = at
