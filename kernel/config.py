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

The public edge (gateway) and operations, production defaults first (see `GatewaySettings`):

    MUNI_DEV             1: GraphiQL, introspection and field suggestions on (`muni up` sets it)
    MUNI_GRAPHIQL, MUNI_INTROSPECTION, MUNI_FIELD_SUGGESTIONS
                         1 or 0: each one on or off, whatever MUNI_DEV says
    MUNI_CORS_ORIGINS    comma-separated origins browsers may call from (default: none)
    MUNI_MAX_BODY_BYTES  largest request body accepted (default 262144); larger is a 413
    MUNI_MAX_ALIASES, MUNI_MAX_TOKENS, MUNI_MAX_ROOT_FIELDS
                         per GraphQL document (defaults 30, 2000, 20)
    MUNI_REQUEST_BUDGET_S  seconds a GraphQL request may run before it is cut off (default 10)
    MUNI_RATE_LIMITS     on (default) | off (benchmarks): see gateway/limits.py
    MUNI_RATE_LIMIT_STORAGE  where counts are kept, a `limits` storage URI (default memory://;
                         redis://host:6379 to share them between gateway replicas)
    MUNI_READY_MAX_LAG   notifications or messages a relay or consumer may be behind while
                         /ready still answers 200 (default 1000)
    MUNI_SUBSCRIPTIONS_PER_MEMBER, MUNI_SUBSCRIPTIONS_PER_CONNECTION
                         live subscriptions one member / one WebSocket may hold (defaults 5, 10)
    MUNI_FOLLOW_POLL_S   seconds between a gateway's looks at the read models for writes by
                         other processes, for live subscriptions (default 0.25)
    MUNI_LOG_FORMAT      json (default: one object per line) | text
    MUNI_LOG_LEVEL       DEBUG | INFO (default) | WARNING | ERROR
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypedDict, TypeVar
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
class GatewaySettings:
    """What the public edge allows. The defaults are production's: `muni up` sets `dev`.

    `graphiql`, `introspection` and `field_suggestions` are None unless set explicitly; then
    they follow `dev` (see the `*_on` properties).
    """

    dev: bool = False
    graphiql: bool | None = None
    introspection: bool | None = None
    field_suggestions: bool | None = None
    cors_origins: tuple[str, ...] = ()
    max_body_bytes: int = 256 * 1024
    max_aliases: int = 30
    max_tokens: int = 2000
    max_root_fields: int = 20
    request_budget_s: float = 10.0
    rate_limits: bool = True
    rate_limit_storage: str = "memory://"
    # Threads that run GraphQL documents, each with its own event loop (gateway/execution.py).
    graphql_threads: int = 8
    ready_max_lag: int = 1000
    # Live subscriptions (GraphQL over WebSocket): how many one member, and one connection,
    # may hold at once (kernel/streams.py), and how often a gateway looks at the read models'
    # positions for writes made by other processes (kernel/readside/follow.py).
    subscriptions_per_member: int = 5
    subscriptions_per_connection: int = 10
    follow_poll_s: float = 0.25

    @property
    def graphiql_on(self) -> bool:
        return self.dev if self.graphiql is None else self.graphiql

    @property
    def introspection_on(self) -> bool:
        return self.dev if self.introspection is None else self.introspection

    @property
    def field_suggestions_on(self) -> bool:
        return self.dev if self.field_suggestions is None else self.field_suggestions

    def with_(self, **changes: object) -> GatewaySettings:
        return replace(self, **changes)  # type: ignore[arg-type]


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
    gateway: GatewaySettings = field(default_factory=GatewaySettings)
    log_format: Literal["json", "text"] = "json"
    log_level: str = "INFO"

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
            **_operations_from_env(env),
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


class _Operations(TypedDict):
    gateway: GatewaySettings
    log_format: Literal["json", "text"]
    log_level: str


def _operations_from_env(env: Mapping[str, str]) -> _Operations:
    """The gateway's and the logs' settings (the MUNI_* variables after MUNI_JWT_SECRET)."""
    log_format = env.get("MUNI_LOG_FORMAT", "json")
    if log_format not in ("json", "text"):
        raise SettingsError(f"MUNI_LOG_FORMAT={log_format!r}: use json or text")
    log_level = env.get("MUNI_LOG_LEVEL", "INFO").upper()
    if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise SettingsError(f"MUNI_LOG_LEVEL={log_level!r}: use DEBUG, INFO, WARNING or ERROR")
    rate_limits = env.get("MUNI_RATE_LIMITS", "on")
    if rate_limits not in ("on", "off"):
        raise SettingsError(f"MUNI_RATE_LIMITS={rate_limits!r}: use on or off")
    defaults = GatewaySettings()
    origins = env.get("MUNI_CORS_ORIGINS", "")
    gateway = GatewaySettings(
        dev=bool(_flag(env, "MUNI_DEV")),
        graphiql=_flag(env, "MUNI_GRAPHIQL"),
        introspection=_flag(env, "MUNI_INTROSPECTION"),
        field_suggestions=_flag(env, "MUNI_FIELD_SUGGESTIONS"),
        cors_origins=tuple(o.strip().rstrip("/") for o in origins.split(",") if o.strip()),
        max_body_bytes=_positive(env, "MUNI_MAX_BODY_BYTES", defaults.max_body_bytes),
        max_aliases=_positive(env, "MUNI_MAX_ALIASES", defaults.max_aliases),
        max_tokens=_positive(env, "MUNI_MAX_TOKENS", defaults.max_tokens),
        max_root_fields=_positive(env, "MUNI_MAX_ROOT_FIELDS", defaults.max_root_fields),
        request_budget_s=_positive(env, "MUNI_REQUEST_BUDGET_S", defaults.request_budget_s),
        rate_limits=rate_limits == "on",
        rate_limit_storage=env.get("MUNI_RATE_LIMIT_STORAGE", defaults.rate_limit_storage),
        ready_max_lag=_positive(env, "MUNI_READY_MAX_LAG", defaults.ready_max_lag),
        subscriptions_per_member=_positive(
            env, "MUNI_SUBSCRIPTIONS_PER_MEMBER", defaults.subscriptions_per_member
        ),
        subscriptions_per_connection=_positive(
            env, "MUNI_SUBSCRIPTIONS_PER_CONNECTION", defaults.subscriptions_per_connection
        ),
        follow_poll_s=_positive(env, "MUNI_FOLLOW_POLL_S", defaults.follow_poll_s),
    )
    return {"gateway": gateway, "log_format": log_format, "log_level": log_level}  # type: ignore[typeddict-item]


def _flag(env: Mapping[str, str], name: str) -> bool | None:
    value = env.get(name)
    if value is None or value == "":
        return None
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name}={value!r}: use 1 or 0")


N = TypeVar("N", int, float)


def _positive(env: Mapping[str, str], name: str, default: N) -> N:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = type(default)(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} must be a number") from None
    if value <= 0:
        raise SettingsError(f"{name}={raw!r} must be more than 0")
    return value
