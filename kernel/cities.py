"""A city's configuration: one TOML file per city in `cities/`, validated at load."""

from __future__ import annotations

import tomllib
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from kernel.geo import Point

CITIES_DIR = Path(__file__).resolve().parent.parent / "cities"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RidesPolicy(_Frozen):
    fare_base: Decimal = Field(ge=0)
    fare_per_km: Decimal = Field(ge=0)
    fare_per_minute: Decimal = Field(ge=0)
    split: dict[str, int]
    max_pickup_minutes: int = Field(gt=0, le=180)
    detour_factor: Decimal = Field(ge=1)
    average_speed_kmh: Decimal = Field(gt=0)

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


class StartingEquation(_Frozen):
    """The value equation in force until a decision adopts another (version 1).

    `weights` are points per unit of each contribution type (`<action>/<resource>`); `caps` the
    most of a type counted per member in a period; `half_life_days` how fast older contributions
    in a period count less (none: no decay). See contributions/equations.py."""

    weights: dict[str, Decimal]
    caps: dict[str, Decimal] = {}
    half_life_days: int | None = Field(default=None, gt=0)


class ProtocolAgreement(_Frozen):
    """What the city owes the protocol co-op upstream: `percent` of the revenue its ledger
    records on `revenue_accounts` in each period (Eva's 1 % to the confederation)."""

    percent: Decimal = Field(default=Decimal(1), ge=0, le=100)
    revenue_accounts: tuple[str, ...] = ("rides:fares-collected",)
    # Where the ledger already sets the protocol's part aside (the fare split's `protocol`).
    set_aside_accounts: tuple[str, ...] = ("protocol:rides",)


class ContributionsPolicy(_Frozen):
    """Open value accounting: validation of logged work, the levy, the protocol agreement."""

    # Peers who must validate a logged contribution before it counts (never its author).
    validators: int = Field(default=2, ge=1, le=20)
    # Kinds of work no service sees, which members log themselves (all ValueFlows `work`).
    logged_kinds: tuple[str, ...] = (
        "care",
        "governance",
        "code",
        "translation",
        "meeting",
        "work-day",
    )
    # The most hours one logged contribution may claim.
    max_logged_hours: Decimal = Field(default=Decimal(24), gt=0)
    # The development levy taken from every surplus before members' dividends (to the commons).
    levy_percent: Decimal = Field(default=Decimal(10), ge=0, le=100)
    protocol: ProtocolAgreement = ProtocolAgreement()
    equation: StartingEquation = StartingEquation(
        weights={
            "work/driving": Decimal(1),
            **{
                f"work/{k}": Decimal(1)
                for k in ("care", "governance", "code", "translation", "meeting", "work-day")
            },
        }
    )


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
    contributions: ContributionsPolicy = ContributionsPolicy()

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
