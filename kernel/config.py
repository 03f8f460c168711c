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
    MUNI_JWT_SECRET      secret that signs member tokens (HS256); a dev default is used if unset
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

DEV_JWT_SECRET = "muni-dev-secret-change-me-in-production-0123456789"  # noqa: S105 (dev default)
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
    jwt_secret: SecretStr = field(default=SecretStr(DEV_JWT_SECRET))
    # How often relays and consumers look for new work when idle (seconds).
    poll_interval_s: float = 0.05

    def __post_init__(self) -> None:
        if self.persistence == "postgres" and self.postgres is None:
            raise SettingsError("MUNI_PERSISTENCE=postgres needs MUNI_POSTGRES_DSN")
        if self.bus == "kafka" and not self.kafka_bootstrap:
            raise SettingsError("MUNI_BUS=kafka needs MUNI_KAFKA_BOOTSTRAP")
        if self.topic_partitions < 1:
            raise SettingsError("MUNI_TOPIC_PARTITIONS must be at least 1")

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
            jwt_secret=SecretStr(env.get("MUNI_JWT_SECRET", DEV_JWT_SECRET)),
        )

    def topic(self, service: str, major_version: int = 1) -> str:
        """`<prefix><city>.<service>.events.v<N>`: one topic per service and major version."""
        return f"{self.topic_prefix}{self.city}.{service}.events.v{major_version}"

    def group(self, consumer_service: str) -> str:
        """The consumer group of a service's consumers."""
        return f"{self.topic_prefix}{self.city}.{consumer_service}"

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]
