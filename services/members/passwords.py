"""Password hashing: argon2id from argon2-cffi, the RFC 9106 low-memory profile by default."""

from __future__ import annotations

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

from services.members.domain import InvalidMembership

MIN_LENGTH = 10
MAX_LENGTH = 200


class Passwords:
    """Hashes and checks passwords; `cheap` (in-memory test stores only) trades strength away."""

    def __init__(self, *, cheap: bool = False) -> None:
        profile = profiles.CHEAPEST if cheap else profiles.RFC_9106_LOW_MEMORY
        self._hasher = PasswordHasher.from_parameters(profile)
        # Checked against when there is no account, so a missing account takes as long as a
        # wrong password and the timing does not tell which.
        self._decoy = self._hasher.hash("no account has this password")

    def hash(self, password: str) -> str:
        if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
            raise InvalidMembership(
                "password", f"use {MIN_LENGTH} to {MAX_LENGTH} characters (a phrase is good)"
            )
        return self._hasher.hash(password)

    def matches(self, stored: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(stored or self._decoy, password) and stored is not None
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored: str) -> bool:
        return self._hasher.check_needs_rehash(stored)
