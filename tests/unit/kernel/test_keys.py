"""Keys: none by default; made once per data folder (0600) for `muni up`; configured or refused
for scale-out; random per process for in-memory test stores."""

from __future__ import annotations

import stat
from typing import TYPE_CHECKING

import pytest
from pydantic import SecretStr

from kernel.config import PostgresDsn, Settings, SettingsError
from kernel.keys import key_file, keygen_lines, require_configured_keys, with_keys

if TYPE_CHECKING:
    from pathlib import Path

KEY = "k" * 43


def test_no_setting_has_a_default_key() -> None:
    settings = Settings.from_env({})
    assert (settings.jwt_secret, settings.identifier_key) == (None, None)
    with pytest.raises(SettingsError, match="muni keygen"):
        _ = settings.signing_key


def test_a_data_folder_gets_its_own_random_keys_once_kept_private(tmp_path: Path) -> None:
    first = with_keys(Settings(data_dir=tmp_path / "a"))
    again = with_keys(Settings(data_dir=tmp_path / "a"))
    other = with_keys(Settings(data_dir=tmp_path / "b"))

    assert first.signing_key.get_secret_value() == again.signing_key.get_secret_value()
    assert first.hashing_key.get_secret_value() == again.hashing_key.get_secret_value()
    assert first.signing_key.get_secret_value() != other.signing_key.get_secret_value()
    assert first.signing_key.get_secret_value() != first.hashing_key.get_secret_value()
    mode = stat.S_IMODE(key_file(first).stat().st_mode)
    assert mode == 0o600


def test_a_key_file_others_can_read_is_refused(tmp_path: Path) -> None:
    settings = with_keys(Settings(data_dir=tmp_path))
    key_file(settings).chmod(0o644)
    with pytest.raises(SettingsError, match=r"can be read by others.*chmod 600"):
        with_keys(Settings(data_dir=tmp_path))


def test_a_damaged_key_file_is_refused(tmp_path: Path) -> None:
    path = key_file(Settings(data_dir=tmp_path))
    path.write_text("{}")
    path.chmod(0o600)
    with pytest.raises(SettingsError, match="is not a Muni key file"):
        with_keys(Settings(data_dir=tmp_path))


def test_configured_keys_win_over_the_data_folder(tmp_path: Path) -> None:
    settings = with_keys(Settings(data_dir=tmp_path, jwt_secret=SecretStr(KEY)))
    assert settings.signing_key.get_secret_value() == KEY
    assert settings.identifier_key is not None  # the other one from the folder


def test_in_memory_stores_get_a_random_pair_per_process() -> None:
    one, two = with_keys(Settings(persistence="popo")), with_keys(Settings(persistence="popo"))
    assert one.signing_key.get_secret_value() != two.signing_key.get_secret_value()


def test_scale_out_without_configured_keys_is_refused_saying_how_to_make_them() -> None:
    settings = Settings()
    with pytest.raises(SettingsError) as refused:
        require_configured_keys(settings)
    assert "MUNI_JWT_SECRET and MUNI_IDENTIFIER_KEY not set" in str(refused.value)
    assert "muni keygen" in str(refused.value)
    require_configured_keys(
        settings.with_(jwt_secret=SecretStr(KEY), identifier_key=SecretStr(KEY))
    )


def test_postgres_stores_never_get_invented_keys() -> None:
    settings = Settings(
        persistence="postgres", postgres=PostgresDsn.parse("postgresql://muni@db:5432/muni")
    )
    with pytest.raises(SettingsError, match="muni keygen"):
        with_keys(settings)


def test_a_short_key_is_refused() -> None:
    with pytest.raises(SettingsError, match="MUNI_JWT_SECRET must be at least 32"):
        Settings.from_env({"MUNI_JWT_SECRET": "secret"})


def test_cheap_password_hashing_only_with_in_memory_stores() -> None:
    with pytest.raises(SettingsError, match="in-memory test stores only"):
        Settings(cheap_password_hashing=True)


def test_keygen_makes_a_fresh_pair_each_time() -> None:
    first, second = keygen_lines(), keygen_lines()
    assert [line.split("=")[0] for line in first] == ["MUNI_JWT_SECRET", "MUNI_IDENTIFIER_KEY"]
    assert first != second
    assert all(len(line.split("=", 1)[1]) >= 32 for line in first)
