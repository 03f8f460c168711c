"""A city's configuration: one TOML file per city in `cities/`, validated at load."""

from __future__ import annotations

import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from kernel.geo import Point

CITIES_DIR = Path(__file__).resolve().parent.parent / "cities"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ServiceArea(_Frozen):
    """Where the city's rides run: one polygon of (lat, lon) vertices, in order (not closed:
    the last vertex joins the first). Pickups and drop-offs outside it are refused by name."""

    polygon: tuple[tuple[float, float], ...] = Field(min_length=3)

    @field_validator("polygon")
    @classmethod
    def _valid_vertices(
        cls, value: tuple[tuple[float, float], ...]
    ) -> tuple[tuple[float, float], ...]:
        for lat, lon in value:
            Point(lat, lon)
        if len(set(value)) < 3:
            raise ValueError("a service area needs at least 3 distinct vertices")
        return value


class Matching(_Frozen):
    """Batch matching of immediate rides (services/rides/batching.py)."""

    # "batch": every window, the waiting requests against the free drivers (matching.assignment);
    # "nearest": each request offered at once to its nearest free driver (the first skeleton's
    # policy, kept as the benchmark's baseline).
    policy: Literal["batch", "nearest"] = "batch"
    batch_window_seconds: float = Field(default=2.0, gt=0, le=60)
    # An offer not answered within this is withdrawn and the request goes into the next batch.
    offer_seconds: int = Field(default=30, ge=5, le=600)
    # The bound on any rider's wait: a request still without a driver after this is answered
    # `unservable` with the reason; from `priority_after_seconds` on it outranks newer requests.
    max_wait_minutes: int = Field(default=10, ge=1, le=240)
    priority_after_seconds: int = Field(default=300, ge=0)


class CancellationRule(_Frozen):
    """A rider's cancellation is free before, or within `free_minutes` of, the acceptance;
    after that it costs `fee` (a driver on the way lost their time)."""

    free_minutes: int = Field(default=5, ge=0, le=120)
    fee: Decimal = Field(default=Decimal("3.00"), ge=0)


class NoShowRule(_Frozen):
    """A driver may mark a no-show after waiting `wait_minutes` at the pickup; it costs `fee`."""

    wait_minutes: int = Field(default=5, ge=1, le=60)
    fee: Decimal = Field(default=Decimal("5.00"), ge=0)


class CostRecovery(_Frozen):
    """Cost-recovery fares: the vehicle's operating cost over its expected riders."""

    cost_per_km: Decimal = Field(ge=0)
    cost_per_hour: Decimal = Field(ge=0)
    expected_riders: Decimal = Field(gt=0)


class Travel(_Frozen):
    """Where travel times come from: straight line with the detour factor (no network), or an
    OSRM server's table service."""

    provider: Literal["haversine", "osrm"] = "haversine"
    osrm_url: str | None = None
    osrm_profile: str = "driving"
    timeout_seconds: float = Field(default=5.0, gt=0, le=60)

    @model_validator(mode="after")
    def _osrm_needs_a_url(self) -> Travel:
        if self.provider == "osrm" and not self.osrm_url:
            raise ValueError("travel provider 'osrm' needs osrm_url")
        return self


class RidesPolicy(_Frozen):
    fare_base: Decimal = Field(ge=0)
    fare_per_km: Decimal = Field(ge=0)
    fare_per_minute: Decimal = Field(ge=0)
    split: dict[str, int]
    max_pickup_minutes: int = Field(gt=0, le=180)
    detour_factor: Decimal = Field(ge=1)
    average_speed_kmh: Decimal = Field(gt=0)
    # "formula" (base + per km + per minute) or "cost_recovery" (needs [rides.cost_recovery]).
    fare_mode: Literal["formula", "cost_recovery"] = "formula"
    cost_recovery: CostRecovery | None = None
    # The version of the fare and fee rules, published with every fare and charge: change it
    # whenever the co-op changes a rule above or below.
    rules_version: str = Field(default="1", min_length=1, max_length=40)
    # The share of a named member's fare the common fund pays (solidarity fares).
    solidarity_percent: int = Field(default=50, ge=0, le=100)
    # How many rides a member may have open (requested and not yet ended) at once.
    max_open_rides_per_member: int = Field(default=2, ge=1, le=50)
    service_area: ServiceArea | None = None
    matching: Matching = Matching()
    cancellation: CancellationRule = CancellationRule()
    no_show: NoShowRule = NoShowRule()
    travel: Travel = Travel()

    @model_validator(mode="after")
    def _cost_recovery_configured(self) -> RidesPolicy:
        if self.fare_mode == "cost_recovery" and self.cost_recovery is None:
            raise ValueError("fare_mode 'cost_recovery' needs a [rides.cost_recovery] table")
        return self

    @field_validator("split")
    @classmethod
    def _split_sums_to_100(cls, value: dict[str, int]) -> dict[str, int]:
        required = {"driver", "coop", "common_fund", "protocol"}
        if set(value) != required:
            raise ValueError(f"split must name exactly {sorted(required)}")
        if any(v < 0 for v in value.values()) or sum(value.values()) != 100:
            raise ValueError("split shares must be non-negative and sum to 100")
        return value


class AccountsPolicy(_Frozen):
    """Sign-in: how long tokens and codes last, and how local phone numbers are read."""

    # Phone numbers written without a +country prefix are read in this region (ISO 3166
    # alpha-2, "BE"); without one, members must write them with the prefix.
    phone_region: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    access_token_minutes: int = Field(default=15, ge=1, le=60)
    refresh_token_days: int = Field(default=30, ge=1, le=365)
    sign_in_code_hours: int = Field(default=24, ge=1, le=24 * 7)


class CityCentre(_Frozen):
    lat: float
    lon: float

    @model_validator(mode="after")
    def _valid(self) -> CityCentre:
        Point(self.lat, self.lon)
        return self


class CityConfig(_Frozen):
    id: str = Field(pattern=r"^[a-z][a-z0-9-]{1,39}$")
    name: str
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    timezone: str
    centre: CityCentre
    rides: RidesPolicy
    accounts: AccountsPolicy = AccountsPolicy()

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {value!r}") from None
        return value


class UnknownCity(LookupError):
    pass


def load_city(city: str, *, cities_dir: Path = CITIES_DIR) -> CityConfig:
    """Read and validate `cities/<city>.toml`."""
    path = cities_dir / f"{city}.toml"
    if not path.is_file():
        raise UnknownCity(f"no city config at {path}")
    with path.open("rb") as fh:
        return CityConfig.model_validate(tomllib.load(fh))
