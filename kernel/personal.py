"""Personal data of members, kept out of the event store: the port every service writes through.

Names, contact details, addresses and free text about a person are put here, never into an
event. Events, messages and read models name the member by id only (`<city>:<uuid>`, a
pseudonym that stays after erasure). Each value is sealed with the member's own vault key, and
`erase` deletes the member's rows and destroys the key in one transaction, so a copy of a row
that a database freed, or a backup of the vault, cannot be read either.

Fields are short names the caller chooses (`display_name`, `email`, `phone`). A findable field
(an email or phone to sign in with) also keeps a keyed digest (HMAC-SHA256) of its value, so the
member can be found from it without the value being stored readable; a findable value belongs to
one member at a time. Normalise before `put` and `find` (lower-case an email, a phone in E.164):
the digest is of the exact text.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import sqlite3
from typing import TYPE_CHECKING

from eventsourcing.persistence import IntegrityError

from kernel.ids import InvalidId
from kernel.ids import member_id as valid_member_id
from kernel.vault import Erased, Vault, vault_database

if TYPE_CHECKING:
    from kernel.config import Settings
    from kernel.tables import Database

DISPLAY_NAME = "display_name"
EMAIL = "email"
PHONE = "phone"
# The password's argon2 hash: kept here so an erasure destroys it, left out of every export.
PASSWORD_HASH = "password_hash"  # noqa: S105 (a field name, not a password)
SECRETS = frozenset({PASSWORD_HASH})

_FIELD = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
MAX_VALUE_LENGTH = 4000


class PersonalDataError(Exception):
    """Base of the expected failures of the personal-data port."""


class InvalidPersonalData(PersonalDataError, ValueError):
    """A member id, field name or value does not have the documented shape; `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class AlreadyHeld(PersonalDataError):
    """A findable value (an email, a phone) already belongs to another member. The value itself
    is deliberately not in the message."""

    def __init__(self, field: str) -> None:
        super().__init__(f"this {field} is already held by another member")
        self.field = field


class PersonalData:
    """Readable personal data per member and field, sealed at rest, erasable in one call."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.vault = Vault(db)
        self._rows = db.table("personal_data")
        meta = db.table("vault_meta")
        with db.creating_tables() as cursor:
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {self._rows} (member_id TEXT NOT NULL, "
                "field TEXT NOT NULL, sealed TEXT NOT NULL, digest TEXT, "
                "PRIMARY KEY (member_id, field))"
            )
            # Unique per field among findable values; rows without a digest (NULL) never clash.
            cursor.execute(
                f"CREATE UNIQUE INDEX IF NOT EXISTS personal_data_lookup "
                f"ON {self._rows} (field, digest)"
            )
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {meta} (name TEXT PRIMARY KEY, value TEXT NOT NULL)"
            )
            cursor.execute(
                f"INSERT INTO {meta} (name, value) VALUES ('lookup_key', %s) "
                "ON CONFLICT (name) DO NOTHING",
                (secrets.token_hex(32),),
            )
            row = cursor.execute(f"SELECT value FROM {meta} WHERE name = 'lookup_key'").fetchone()
        assert row is not None  # noqa: S101 (inserted just above if missing)
        self._lookup_key = bytes.fromhex(str(row[0]))

    def __repr__(self) -> str:
        return f"PersonalData({self.db.dialect})"

    # -- writing --------------------------------------------------------------------------------
    def put(self, member_id: str, field: str, value: str, *, findable: bool = False) -> None:
        """Keep `value` as the member's `field`, replacing what was there.

        Raises `InvalidPersonalData` for a bad id, field or value, and `AlreadyHeld` if a
        findable value belongs to another member.
        """
        _check(member_id, field)
        if not value or len(value) > MAX_VALUE_LENGTH:
            raise InvalidPersonalData(field, f"give 1 to {MAX_VALUE_LENGTH} characters")
        sealed = self.vault.seal(member_id, field, value)
        digest = self._digest(field, value) if findable else None
        try:
            with self.db.transaction() as cursor:
                if not self.vault.has_key_within(cursor, member_id):
                    # Erased between sealing and now: keep nothing under a destroyed key.
                    raise Erased(member_id)
                if digest is not None:
                    holder = cursor.execute(
                        f"SELECT member_id FROM {self._rows} WHERE field = %s AND digest = %s",
                        (field, digest),
                    ).fetchone()
                    if holder is not None and holder[0] != member_id:
                        raise AlreadyHeld(field)
                cursor.execute(
                    f"INSERT INTO {self._rows} (member_id, field, sealed, digest) "
                    "VALUES (%s, %s, %s, %s) ON CONFLICT (member_id, field) "
                    "DO UPDATE SET sealed = excluded.sealed, digest = excluded.digest",
                    (member_id, field, sealed, digest),
                )
        except (sqlite3.IntegrityError, IntegrityError):
            raise AlreadyHeld(field) from None  # another member put it at the same moment

    def remove(self, member_id: str, field: str) -> bool:
        """Forget one field of a member. True if it was held."""
        _check(member_id, field)
        with self.db.transaction() as cursor:
            cursor.execute(
                f"DELETE FROM {self._rows} WHERE member_id = %s AND field = %s", (member_id, field)
            )
            return cursor.rowcount > 0

    def erase(self, member_id: str) -> list[str]:
        """Erase everything held about the member here: their rows and their key, at once.

        Returns the names of the fields that were held (never their values). Idempotent.
        """
        _check(member_id, DISPLAY_NAME)
        with self.db.transaction() as cursor:
            held = cursor.execute(
                f"SELECT field FROM {self._rows} WHERE member_id = %s", (member_id,)
            ).fetchall()
            cursor.execute(f"DELETE FROM {self._rows} WHERE member_id = %s", (member_id,))
            self.vault.destroy_within(cursor, member_id)
        return sorted(str(row[0]) for row in held)

    # -- reading --------------------------------------------------------------------------------
    def get(self, member_id: str, field: str) -> str | None:
        """The member's `field`, or None if not held (never set, removed or erased)."""
        _check(member_id, field)
        with self.db.transaction() as cursor:
            row = cursor.execute(
                f"SELECT sealed FROM {self._rows} WHERE member_id = %s AND field = %s",
                (member_id, field),
            ).fetchone()
        return None if row is None else self.vault.open(member_id, field, str(row[0]))

    def all_of(self, member_id: str) -> dict[str, str]:
        """Every field held about the member, readable (for their export); never a secret
        (the password's hash)."""
        _check(member_id, DISPLAY_NAME)
        with self.db.transaction() as cursor:
            rows = cursor.execute(
                f"SELECT field, sealed FROM {self._rows} WHERE member_id = %s ORDER BY field",
                (member_id,),
            ).fetchall()
        return {
            str(f): self.vault.open(member_id, str(f), str(s))
            for f, s in rows
            if str(f) not in SECRETS
        }

    def find(self, field: str, value: str) -> str | None:
        """The member whose findable `field` is exactly `value`, if any."""
        if not _FIELD.match(field):
            raise InvalidPersonalData("field", "use 1 to 32 lower-case letters, digits or _")
        with self.db.transaction() as cursor:
            row = cursor.execute(
                f"SELECT member_id FROM {self._rows} WHERE field = %s AND digest = %s",
                (field, self._digest(field, value)),
            ).fetchone()
        return None if row is None else str(row[0])

    def close(self) -> None:
        self.db.close()

    def _digest(self, field: str, value: str) -> str:
        message = f"{field}\x00{value}".encode()
        return hmac.new(self._lookup_key, message, hashlib.sha256).hexdigest()


def _check(member_id: str, field: str) -> None:
    try:
        valid_member_id(member_id)
    except InvalidId as exc:
        raise InvalidPersonalData("memberId", str(exc)) from None
    if not _FIELD.match(field):
        raise InvalidPersonalData("field", "use 1 to 32 lower-case letters, digits or _")


def open_personal_data(settings: Settings, service: str) -> PersonalData:
    """The personal-data port of one service, in its vault database (see `vault_database`)."""
    return PersonalData(vault_database(settings, service))
