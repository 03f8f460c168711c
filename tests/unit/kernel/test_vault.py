"""The vault and the personal-data port: sealing per member, erasure by destroying the key."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from kernel.config import PostgresDsn, Settings
from kernel.personal import (
    DISPLAY_NAME,
    EMAIL,
    AlreadyHeld,
    InvalidPersonalData,
    PersonalData,
    open_personal_data,
)
from kernel.tables import SQLiteDatabase
from kernel.vault import Erased, Tampered, Vault, vault_database

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

ADA = "demo:00000000-0000-4000-8000-00000000000a"
BRAM = "demo:00000000-0000-4000-8000-00000000000b"


@pytest.fixture
def vault() -> Vault:
    return Vault(SQLiteDatabase(None, secure_delete=True))


@pytest.fixture(params=["popo", pytest.param("postgres", marks=pytest.mark.integration)])
def personal(request: pytest.FixtureRequest) -> Iterator[PersonalData]:
    """The port in memory, and in a PostgreSQL schema of the test's own."""
    if request.param == "popo":
        settings = Settings(persistence="popo")
    else:
        settings = Settings(
            persistence="postgres",
            postgres=PostgresDsn.parse(request.getfixturevalue("postgres_dsn")),
            schema_prefix=request.getfixturevalue("pg_schema_prefix"),
        )
    port = open_personal_data(settings, "members")
    yield port
    port.close()


def stored_key(db: SQLiteDatabase | object, member_id: str) -> str:
    """The member's key as stored (base64 text), read behind the vault's back."""
    assert isinstance(db, SQLiteDatabase)
    with db.transaction() as cursor:
        row = cursor.execute(
            'SELECT data_key FROM "vault_keys" WHERE member_id = %s', (member_id,)
        ).fetchone()
    assert row is not None
    return str(row[0])


# -- the vault ------------------------------------------------------------------------------------
def test_a_sealed_value_opens_for_its_member_and_purpose(vault: Vault) -> None:
    sealed = vault.seal(ADA, "display_name", "Ada Lovelace")
    assert "Ada" not in sealed
    assert vault.open(ADA, "display_name", sealed) == "Ada Lovelace"


def test_sealing_twice_gives_different_ciphertexts(vault: Vault) -> None:
    assert vault.seal(ADA, "note", "same") != vault.seal(ADA, "note", "same")


def test_each_member_has_their_own_key(vault: Vault) -> None:
    sealed = vault.seal(ADA, "display_name", "Ada")
    vault.seal(BRAM, "display_name", "Bram")  # Bram has a key too, a different one
    assert stored_key(vault.db, ADA) != stored_key(vault.db, BRAM)
    with pytest.raises(Tampered):
        vault.open(BRAM, "display_name", sealed)


def test_a_value_moved_to_another_purpose_does_not_open(vault: Vault) -> None:
    sealed = vault.seal(ADA, "display_name", "Ada")
    with pytest.raises(Tampered):
        vault.open(ADA, "email", sealed)


@pytest.mark.parametrize(
    "mangle", [lambda s: s[:-4] + "AAAA", lambda s: "v9" + s[2:], lambda s: "v1.!!"]
)
def test_an_altered_value_does_not_open(vault: Vault, mangle) -> None:
    sealed = vault.seal(ADA, "display_name", "Ada")
    with pytest.raises(Tampered):
        vault.open(ADA, "display_name", mangle(sealed))


def test_destroying_the_key_makes_opening_fail_with_erased(vault: Vault) -> None:
    sealed = vault.seal(ADA, "display_name", "Ada")
    assert vault.destroy(ADA) is True
    with pytest.raises(Erased) as raised:
        vault.open(ADA, "display_name", sealed)
    assert raised.value.member_id == ADA
    assert vault.destroy(ADA) is False  # idempotent


def test_a_value_sealed_before_an_erasure_stays_unreadable_under_a_new_key(vault: Vault) -> None:
    old = vault.seal(ADA, "display_name", "Ada")
    vault.destroy(ADA)
    vault.seal(ADA, "display_name", "Ada again")  # a new key for data given after the erasure
    with pytest.raises(Tampered):
        vault.open(ADA, "display_name", old)


def test_the_vault_never_shows_a_key(vault: Vault) -> None:
    vault.seal(ADA, "display_name", "Ada")
    key = stored_key(vault.db, ADA)
    assert key not in repr(vault)
    assert key not in str(vars(vault))


def test_a_destroyed_key_is_gone_from_the_vault_file(tmp_path: Path) -> None:
    settings = Settings(persistence="sqlite", data_dir=tmp_path)
    db = vault_database(settings, "members")
    vault = Vault(db)
    vault.seal(ADA, "display_name", "Ada")
    vault.seal(BRAM, "display_name", "Bram")
    key = stored_key(db, ADA).encode()

    def in_files() -> bool:
        return any(key in path.read_bytes() for path in tmp_path.iterdir() if path.is_file())

    assert in_files()  # the search can see a key that is there
    vault.destroy(ADA)
    assert not in_files()  # secure delete: not in a freed page, not in a journal
    assert vault.has_key(BRAM)
    db.close()


# -- the personal-data port ----------------------------------------------------------------------
def test_personal_data_is_kept_per_member_and_field(personal: PersonalData) -> None:
    personal.put(ADA, DISPLAY_NAME, "Ada")
    personal.put(ADA, EMAIL, "ada@example.org", findable=True)
    personal.put(BRAM, DISPLAY_NAME, "Bram")
    personal.put(ADA, DISPLAY_NAME, "Ada L.")  # replaces
    assert personal.get(ADA, DISPLAY_NAME) == "Ada L."
    assert personal.all_of(ADA) == {"display_name": "Ada L.", "email": "ada@example.org"}
    assert personal.get(BRAM, EMAIL) is None
    assert personal.find(EMAIL, "ada@example.org") == ADA
    assert personal.find(EMAIL, "someone@example.org") is None
    assert personal.find(DISPLAY_NAME, "Bram") is None  # not findable


def test_values_are_sealed_at_rest(personal: PersonalData) -> None:
    personal.put(ADA, EMAIL, "ada@example.org", findable=True)
    with personal.db.transaction() as cursor:
        table = personal.db.table("personal_data")
        rows = cursor.execute(f"SELECT * FROM {table}").fetchall()  # noqa: S608
    assert rows
    assert "ada@example.org" not in repr(rows)


def test_a_findable_value_belongs_to_one_member(personal: PersonalData) -> None:
    personal.put(ADA, EMAIL, "shared@example.org", findable=True)
    with pytest.raises(AlreadyHeld) as raised:
        personal.put(BRAM, EMAIL, "shared@example.org", findable=True)
    assert "shared@example.org" not in str(raised.value)
    assert personal.get(BRAM, EMAIL) is None
    assert personal.find(EMAIL, "shared@example.org") == ADA


def test_erasing_removes_every_field_and_the_key(personal: PersonalData) -> None:
    personal.put(ADA, DISPLAY_NAME, "Ada")
    personal.put(ADA, EMAIL, "ada@example.org", findable=True)
    personal.put(BRAM, DISPLAY_NAME, "Bram")
    assert personal.erase(ADA) == ["display_name", "email"]
    assert personal.all_of(ADA) == {}
    assert personal.get(ADA, DISPLAY_NAME) is None
    assert personal.find(EMAIL, "ada@example.org") is None
    assert not personal.vault.has_key(ADA)
    assert personal.get(BRAM, DISPLAY_NAME) == "Bram"  # nobody else's
    assert personal.erase(ADA) == []  # idempotent
    personal.put(BRAM, EMAIL, "ada@example.org", findable=True)  # the address is free again


@pytest.mark.parametrize(
    ("member", "field", "value", "named"),
    [
        ("Ada", DISPLAY_NAME, "Ada", "memberId"),
        (ADA, "Display Name", "Ada", "field"),
        (ADA, DISPLAY_NAME, "", "display_name"),
        (ADA, DISPLAY_NAME, "x" * 4001, "display_name"),
    ],
)
def test_bad_input_is_refused_by_name_and_stores_nothing(
    personal: PersonalData, member: str, field: str, value: str, named: str
) -> None:
    with pytest.raises(InvalidPersonalData) as raised:
        personal.put(member, field, value)
    assert raised.value.field == named
    with personal.db.transaction() as cursor:
        table = personal.db.table("personal_data")
        assert cursor.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,)  # noqa: S608
