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
    # The languages of the city's web app, as BCP 47 primary tags; the first is the default.
    # Members choose one (`chooseLanguage`); each has a catalog in gateway/web/locale/.
    languages: tuple[str, ...] = ("en",)

    @field_validator("languages")
    @classmethod
    def _languages(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value or len(set(value)) != len(value):
            raise ValueError("languages must name at least one language, each once")
        for tag in value:
            if not (2 <= len(tag) <= 3 and tag.isascii() and tag.isalpha() and tag.islower()):
                raise ValueError(f"language {tag!r} is not a lower-case ISO 639 code like 'nl'")
        return value

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
