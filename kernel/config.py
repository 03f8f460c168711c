"""Settings, read once at the edge and passed down. The only module that reads os.environ.

Environment variables (all optional; defaults run everything embedded):

    MUNI_CITY            city config to load from cities/ (default "demo")
    MUNI_PERSISTENCE     sqlite (default) | postgres | popo (in memory, tests only)
    MUNI_DATA_DIR        folder for SQLite stores (default: data/ in the checkout)
    MUNI_POSTGRES_DSN    postgresql://user:password@host:port/dbname (persistence=postgres)
    MUNI_SCHEMA_PREFIX   prefix for each service's PostgreSQL schema (default "muni")
    MUNI_BUS             embedded (default) | kafka
    MUNI_KAFKA_BOOTSTRAP host:port[,host:port] (bus=kafka)
    MUNI_TOPIC_PARTITIONS partitions per topic when Muni creates it (default 3)
    MUNI_TOPIC_PREFIX    namespace for topics and groups on a shared cluster ("staging.")
    MUNI_JWT_SECRET      key that signs and verifies access tokens (HS256), 32+ characters
    MUNI_IDENTIFIER_KEY  key of the keyed hash (HMAC) kept of sign-in emails and phones, and of
                         sign-in codes, 32+ characters; never change it once members have signed up

There is no default key. `muni up` makes both keys once per data folder and keeps them there
(kernel/keys.py); `muni serve gateway` and `muni worker` refuse to start without both
variables (`muni keygen` prints a fresh pair).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import unquote, urlparse

from pydantic import SecretStr

if TYPE_CHECKING:
    from collections.abc import Mapping

Persistence = Literal["sqlite", "postgres", "popo"]
BusKind = Literal["embedded", "kafka"]

# HS256 wants a key at least as long as its output (RFC 7518 3.2); `muni keygen` makes 43.
MIN_KEY_LENGTH = 32
# The data folder of the checkout (`make up` keeps its SQLite stores there across restarts).
DEFAULT_DATA_DIR = Path(__file__).resolve().parent.parent / "data"


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class PostgresDsn:
    host: str
    port: int
    user: str
    password: SecretStr
    dbname: str

    @classmethod
    def parse(cls, dsn: str) -> PostgresDsn:
        url = urlparse(dsn)
        if url.scheme not in ("postgresql", "postgres") or not url.path.strip("/"):
            raise SettingsError(
                f"MUNI_POSTGRES_DSN {dsn!r} must look like postgresql://user@host:port/dbname"
            )
        return cls(
            host=url.hostname or "127.0.0.1",
            port=url.port or 5432,
            user=unquote(url.username or "postgres"),
            password=SecretStr(unquote(url.password or "")),
            dbname=url.path.strip("/"),
        )

    def conninfo(self) -> str:
        """A libpq connection string (with the password), for psycopg."""
        pw = self.password.get_secret_value()
        auth = f" password={pw}" if pw else ""
        return f"host={self.host} port={self.port} user={self.user} dbname={self.dbname}{auth}"


@dataclass(frozen=True)
class Settings:
    city: str = "demo"
    persistence: Persistence = "sqlite"
    data_dir: Path = field(default=DEFAULT_DATA_DIR)
    postgres: PostgresDsn | None = None
    schema_prefix: str = "muni"
    bus: BusKind = "embedded"
    kafka_bootstrap: str | None = None
    topic_partitions: int = 3
    topic_prefix: str = ""
    # None until kernel/keys.py resolves them (data folder, or an ephemeral pair in memory).
    jwt_secret: SecretStr | None = None
    identifier_key: SecretStr | None = None
    # A cheap argon2 profile so that suites signing up hundreds of members stay fast; allowed
    # only with in-memory stores, which no deployment uses.
    cheap_password_hashing: bool = False
    # How often relays and consumers look for new work when idle (seconds).
    poll_interval_s: float = 0.05

    def __post_init__(self) -> None:
        if self.persistence == "postgres" and self.postgres is None:
            raise SettingsError("MUNI_PERSISTENCE=postgres needs MUNI_POSTGRES_DSN")
        if self.bus == "kafka" and not self.kafka_bootstrap:
            raise SettingsError("MUNI_BUS=kafka needs MUNI_KAFKA_BOOTSTRAP")
        if self.topic_partitions < 1:
            raise SettingsError("MUNI_TOPIC_PARTITIONS must be at least 1")
        for name, key in (
            ("MUNI_JWT_SECRET", self.jwt_secret),
            ("MUNI_IDENTIFIER_KEY", self.identifier_key),
        ):
            if key is not None and len(key.get_secret_value()) < MIN_KEY_LENGTH:
                raise SettingsError(
                    f"{name} must be at least {MIN_KEY_LENGTH} characters (`muni keygen` makes one)"
                )
        if self.cheap_password_hashing and self.persistence != "popo":
            raise SettingsError("cheap password hashing is for in-memory test stores only")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        persistence = env.get("MUNI_PERSISTENCE", "sqlite")
        if persistence not in ("sqlite", "postgres", "popo"):
            raise SettingsError(f"MUNI_PERSISTENCE={persistence!r}: use sqlite, postgres or popo")
        bus = env.get("MUNI_BUS", "embedded")
        if bus not in ("embedded", "kafka"):
            raise SettingsError(f"MUNI_BUS={bus!r}: use embedded or kafka")
        dsn = env.get("MUNI_POSTGRES_DSN")
        try:
            partitions = int(env.get("MUNI_TOPIC_PARTITIONS", "3"))
        except ValueError:
            raise SettingsError("MUNI_TOPIC_PARTITIONS must be an integer") from None
        return cls(
            city=env.get("MUNI_CITY", "demo"),
            persistence=persistence,  # type: ignore[arg-type]
            data_dir=Path(env.get("MUNI_DATA_DIR", str(DEFAULT_DATA_DIR))),
            postgres=PostgresDsn.parse(dsn) if dsn else None,
            schema_prefix=env.get("MUNI_SCHEMA_PREFIX", "muni"),
            bus=bus,  # type: ignore[arg-type]
            kafka_bootstrap=env.get("MUNI_KAFKA_BOOTSTRAP"),
            topic_partitions=partitions,
            topic_prefix=env.get("MUNI_TOPIC_PREFIX", ""),
            jwt_secret=_secret(env.get("MUNI_JWT_SECRET")),
            identifier_key=_secret(env.get("MUNI_IDENTIFIER_KEY")),
        )

    @property
    def signing_key(self) -> SecretStr:
        """The access-token key; a clear error where keys were never resolved."""
        if self.jwt_secret is None:
            raise SettingsError("no signing key: set MUNI_JWT_SECRET (`muni keygen` makes one)")
        return self.jwt_secret

    @property
    def hashing_key(self) -> SecretStr:
        """The key of the keyed hashes of identifiers and codes."""
        if self.identifier_key is None:
            raise SettingsError(
                "no identifier key: set MUNI_IDENTIFIER_KEY (`muni keygen` makes one)"
            )
        return self.identifier_key

    def topic(self, service: str, major_version: int = 1) -> str:
        """`<prefix><city>.<service>.events.v<N>`: one topic per service and major version."""
        return f"{self.topic_prefix}{self.city}.{service}.events.v{major_version}"

    def group(self, consumer_service: str) -> str:
        """The consumer group of a service's consumers."""
        return f"{self.topic_prefix}{self.city}.{consumer_service}"

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]


def _secret(value: str | None) -> SecretStr | None:
    return SecretStr(value) if value else None
