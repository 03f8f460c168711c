"""The two keys a city runs on, and where they come from. There is no default key anywhere.

- the signing key (`MUNI_JWT_SECRET`) signs and verifies access tokens (HS256);
- the identifier key (`MUNI_IDENTIFIER_KEY`) keys the HMAC kept of every sign-in email and
  phone number, and of every one-time sign-in code, so a copy of the event store alone cannot
  be searched for a known address or brute-forced for a code.

Where they come from, by the shape Muni runs in:

- configured (the environment): always wins;
- `muni up` (SQLite in a data folder): made once, at random, on first start, and kept in
  `<data-dir>/<city>.keys` (mode 0600; a file that others can read is refused);
- in-memory stores (tests): a random pair for the life of the process;
- scale-out (`muni serve gateway`, `muni worker`, PostgreSQL): must be configured, the same in
  every process, so that any gateway replica verifies any token without a database round trip.

HS256 with one shared key, rather than an Ed25519 pair: every process that verifies a token (the
gateway replicas) also issues them (sign-in, refresh), so a public half would have no one to
give it to. When a party appears that must verify but never sign (another city), the
federation's Ed25519 city keys are the place for it.
"""

from __future__ import annotations

import json
import os
import secrets
import stat
from typing import TYPE_CHECKING

from pydantic import SecretStr

from kernel.config import SettingsError

if TYPE_CHECKING:
    from pathlib import Path

    from kernel.config import Settings

KEY_NAMES = {"jwt_secret": "MUNI_JWT_SECRET", "identifier_key": "MUNI_IDENTIFIER_KEY"}
HOW_TO_MAKE = "run `muni keygen` and export what it prints in every gateway and worker"


def generate_key() -> str:
    """A fresh random key: 32 bytes, URL-safe base64 (43 characters)."""
    return secrets.token_urlsafe(32)


def keygen_lines() -> list[str]:
    """What `muni keygen` prints: environment assignments for a fresh pair."""
    return [f"{variable}={generate_key()}" for variable in KEY_NAMES.values()]


def key_file(settings: Settings) -> Path:
    return settings.data_dir / f"{settings.city}.keys"


def require_configured_keys(settings: Settings) -> None:
    """Scale-out refuses to start on keys it would have to invent: replicas must agree."""
    missing = [var for attr, var in KEY_NAMES.items() if getattr(settings, attr) is None]
    if missing:
        raise SettingsError(f"{' and '.join(missing)} not set: {HOW_TO_MAKE}")


def with_keys(settings: Settings) -> Settings:
    """`settings` with both keys resolved (see the module docstring for where from)."""
    if settings.jwt_secret is not None and settings.identifier_key is not None:
        return settings
    if settings.persistence == "popo":
        kept = {attr: generate_key() for attr in KEY_NAMES}
    elif settings.persistence == "sqlite":
        kept = _load_or_create(key_file(settings))
    else:
        require_configured_keys(settings)
        raise AssertionError("unreachable")  # pragma: no cover
    return settings.with_(
        jwt_secret=settings.jwt_secret or SecretStr(kept["jwt_secret"]),
        identifier_key=settings.identifier_key or SecretStr(kept["identifier_key"]),
    )


def _load_or_create(path: Path) -> dict[str, str]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fresh = {attr: generate_key() for attr in KEY_NAMES}
    try:
        # O_EXCL: two processes starting on one data folder cannot both write a key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read(path)
    with os.fdopen(fd, "w") as fh:
        json.dump(fresh, fh)
    return fresh


def _read(path: Path) -> dict[str, str]:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise SettingsError(f"{path} can be read by others (mode {mode:o}): chmod 600 {path}")
    try:
        kept = json.loads(path.read_text())
        if not all(isinstance(kept.get(attr), str) and kept[attr] for attr in KEY_NAMES):
            raise ValueError
    except ValueError:
        raise SettingsError(
            f"{path} is not a Muni key file; move it away to make a new one (every token and "
            "every sign-in identifier made with the old keys stops working)"
        ) from None
    return {attr: kept[attr] for attr in KEY_NAMES}
