"""The vault: one data key per member, and sealing with it (AES-256-GCM from `cryptography`).

Crypto-shredding: whatever was sealed with a member's key is unreadable once the key is destroyed,
wherever copies of the ciphertext went (a backup of a table, a page the database freed without
overwriting it, an event that had to carry a sealed value). Keys live only in the vault's table
in the service's own database: never in an event, a message, a log line or a repr.

A sealed value is bound to its member and its purpose (the cipher's associated data), so a value
copied onto another member, or into another field, does not open.
"""

from __future__ import annotations

import base64
import binascii
import os
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from kernel.ids import member_id as valid_member_id

if TYPE_CHECKING:
    from kernel.config import Settings
    from kernel.tables import Cursor, Database

TOKEN_VERSION = "v1"  # noqa: S105 (the format of a sealed value, not a secret)
_NONCE_BYTES = 12  # 96-bit random nonces: the size GCM is specified for


class VaultError(Exception):
    """A sealed value cannot be opened."""


class Erased(VaultError):
    """The member has no key: their personal data was erased (or nothing was ever sealed)."""

    def __init__(self, member_id: str) -> None:
        super().__init__(f"the personal data of {member_id} is erased")
        self.member_id = member_id


class Tampered(VaultError):
    """The value does not open with the member's key: it was altered, sealed for another member
    or purpose, or sealed under a key that has been destroyed since."""

    def __init__(self, member_id: str, purpose: str) -> None:
        super().__init__(f"a sealed {purpose} of {member_id} does not open with their key")
        self.member_id = member_id
        self.purpose = purpose


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text.encode("ascii"))


def _associated(member_id: str, purpose: str) -> bytes:
    return f"muni-vault/{TOKEN_VERSION}/{member_id}/{purpose}".encode()


class Vault:
    """Per-member data keys in a `Database` table, made on first use, destroyed on erasure."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._keys = db.table("vault_keys")
        with db.creating_tables() as cursor:
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {self._keys} "
                "(member_id TEXT PRIMARY KEY, data_key TEXT NOT NULL)"
            )

    def __repr__(self) -> str:
        return f"Vault({self.db.dialect})"  # never the keys

    def seal(self, member_id: str, purpose: str, plaintext: str) -> str:
        """Encrypt `plaintext` for `member_id` (making their key if they have none)."""
        key = self._key(member_id, create=True)
        assert key is not None  # noqa: S101 (create=True always returns one)
        nonce = os.urandom(_NONCE_BYTES)
        sealed = AESGCM(key).encrypt(nonce, plaintext.encode(), _associated(member_id, purpose))
        return f"{TOKEN_VERSION}.{_b64(nonce + sealed)}"

    def open(self, member_id: str, purpose: str, sealed: str) -> str:
        """Decrypt a value sealed for this member and purpose.

        Raises `Erased` if the member's key was destroyed, `Tampered` if it does not open.
        """
        key = self._key(member_id, create=False)
        if key is None:
            raise Erased(member_id)
        version, _, body = sealed.partition(".")
        try:
            raw = _unb64(body)
        except (binascii.Error, ValueError):
            raise Tampered(member_id, purpose) from None
        if version != TOKEN_VERSION or len(raw) <= _NONCE_BYTES:
            raise Tampered(member_id, purpose)
        try:
            plain = AESGCM(key).decrypt(
                raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], _associated(member_id, purpose)
            )
        except InvalidTag:
            raise Tampered(member_id, purpose) from None
        return plain.decode()

    def has_key(self, member_id: str) -> bool:
        return self._key(member_id, create=False) is not None

    def has_key_within(self, cursor: Cursor, member_id: str) -> bool:
        select = f"SELECT 1 FROM {self._keys} WHERE member_id = %s"
        return cursor.execute(select, (member_id,)).fetchone() is not None

    def destroy(self, member_id: str) -> bool:
        """Destroy the member's key, so nothing sealed with it opens. True if they had one."""
        with self.db.transaction() as cursor:
            return self.destroy_within(cursor, member_id)

    def destroy_within(self, cursor: Cursor, member_id: str) -> bool:
        """`destroy`, inside a transaction the caller holds (to delete other rows with it)."""
        cursor.execute(f"DELETE FROM {self._keys} WHERE member_id = %s", (member_id,))
        return cursor.rowcount > 0

    def _key(self, member_id: str, *, create: bool) -> bytes | None:
        # Read from the table every time, never cached: a key destroyed by another process (a
        # replica, a worker) must stop opening values here at once.
        valid_member_id(member_id)
        select = f"SELECT data_key FROM {self._keys} WHERE member_id = %s"
        with self.db.transaction() as cursor:
            row = cursor.execute(select, (member_id,)).fetchone()
            if row is None and create:
                cursor.execute(
                    f"INSERT INTO {self._keys} (member_id, data_key) VALUES (%s, %s) "
                    "ON CONFLICT (member_id) DO NOTHING",
                    (member_id, _b64(AESGCM.generate_key(bit_length=256))),
                )
                # Another process may have inserted first: everyone uses the stored key.
                row = cursor.execute(select, (member_id,)).fetchone()
        return None if row is None else _unb64(str(row[0]))


def vault_database(settings: Settings, service: str) -> Database:
    """The service's vault: its own database beside the event store, never the store's file.

    In memory for persistence "popo"; `<city>-<service>.vault.sqlite3` in the data folder
    (secure delete, rollback journal); the schema `<store schema>_vault` on PostgreSQL. Apart
    from the store, a backup of the events never holds a key, and erasing one cannot be undone
    by restoring old events.
    """
    from kernel.eventstore import schema_name
    from kernel.tables import PostgresDatabase, SQLiteDatabase

    if settings.persistence == "popo":
        return SQLiteDatabase(None, secure_delete=True)
    if settings.persistence == "sqlite":
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        path = settings.data_dir / f"{settings.city}-{service}.vault.sqlite3"
        return SQLiteDatabase(path, secure_delete=True)
    assert settings.postgres is not None  # noqa: S101 (Settings validates this)
    return PostgresDatabase(settings.postgres, f"{schema_name(settings, service)}_vault")
