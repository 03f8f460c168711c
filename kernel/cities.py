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


class CityCentre(_Frozen):
    lat: float
    lon: float

    @model_validator(mode="after")
    def _valid(self) -> CityCentre:
        Point(self.lat, self.lon)
        return self


class ScheduledVehicle(_Frozen):
    """A vehicle that runs scheduled and pooled rides (the co-op's own 7-seat van, say)."""

    id: str = Field(pattern=r"^[a-z][a-z0-9-]{0,39}$")
    name: str = Field(min_length=1, max_length=80)
    seats: int = Field(ge=1, le=30)
    wheelchair_places: int = Field(default=0, ge=0, le=6)
    owner: str = "coop"  # "coop" (the co-op's fleet) or a driver's member id
    depot: CityCentre


class ScheduledRidesPolicy(_Frozen):
    """`[rides.scheduled]`: scheduled, recurring and pooled rides, planned as dial-a-ride.

    Times are local wall-clock times of the city's timezone; durations in minutes.
    """

    service_starts: str = Field(default="07:00", pattern=r"^[0-2][0-9]:[0-5][0-9]$")
    service_ends: str = Field(default="19:00", pattern=r"^[0-2][0-9]:[0-5][0-9]$")
    min_window_minutes: int = Field(default=10, ge=1, le=240)
    max_window_minutes: int = Field(default=120, ge=1, le=720)
    min_notice_minutes: int = Field(default=60, ge=0, le=7 * 24 * 60)
    book_ahead_days: int = Field(default=30, ge=1, le=366)
    # A passenger's ride is at most direct * factor + extra minutes (Cordeau's L, per rider).
    max_ride_factor: Decimal = Field(default=Decimal("2.0"), ge=1)
    max_ride_extra_minutes: int = Field(default=15, ge=0, le=240)
    max_route_hours: Decimal = Field(default=Decimal("10"), gt=0, le=24)
    stop_minutes: Decimal = Field(default=Decimal("2"), ge=0)
    wheelchair_stop_minutes: Decimal = Field(default=Decimal("5"), ge=0)
    # Solver time per re-plan (a booking, change or cancellation), outside any lock.
    replan_seconds: Decimal = Field(default=Decimal("1.0"), gt=0, le=60)
    # ... of which a re-plan takes 0.1 s plus this per booking of the day (small days are quick).
    replan_seconds_per_booking: Decimal | None = Field(default=Decimal("0.05"), gt=0)
    # A refusal offers this many nearest windows that fit, searched this far either side.
    nearest_windows: int = Field(default=3, ge=0, le=10)
    nearest_step_minutes: int = Field(default=15, ge=5, le=120)
    nearest_span_minutes: int = Field(default=180, ge=0, le=720)
    max_recurring_weeks: int = Field(default=12, ge=1, le=52)
    # Scheduled vehicles' average speed where it differs from the city's (a rural van on open
    # roads); unset: the city's `[rides] average_speed_kmh`.
    average_speed_kmh: Decimal | None = Field(default=None, gt=0)
    # Until the city's service-area polygon exists: stops within this distance of the centre.
    area_radius_km: Decimal = Field(default=Decimal("40"), gt=0)
    vehicles: tuple[ScheduledVehicle, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> ScheduledRidesPolicy:
        if self.service_ends <= self.service_starts:
            raise ValueError("service_ends must be after service_starts (same day)")
        if self.max_window_minutes < self.min_window_minutes:
            raise ValueError("max_window_minutes must be >= min_window_minutes")
        ids = [v.id for v in self.vehicles]
        if len(set(ids)) != len(ids):
            raise ValueError("scheduled vehicle ids must be unique")
        return self


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
    scheduled: ScheduledRidesPolicy = ScheduledRidesPolicy()
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


class GovernancePolicy(_Frozen):
    """How the co-op decides (contributions/decisions): one member, one vote.

    Percentages are of the members of the city when the vote opens (or, for backing, when the
    proposal is made). A proposal passes when the quorum voted (abstentions count towards it)
    and more than `threshold_percent` of the votes for or against are for it.
    """

    # A member's proposal goes to a vote once this share of members backs it (the proposer
    # counts as its first backer); a board member's goes to a vote directly.
    backing_percent: Decimal = Field(default=Decimal(1), gt=0, le=100)
    quorum_percent: Decimal = Field(default=Decimal(10), ge=0, le=100)
    threshold_percent: Decimal = Field(default=Decimal(50), ge=0, lt=100)
    voting_days: int = Field(default=7, ge=1, le=90)


class StartingEquation(_Frozen):
    """The value equation in force until a decision adopts another (version 1).

    `weights` are points per unit of each contribution type (`<action>/<resource>`); `caps` the
    most of a type counted per member in a period; `half_life_days` how fast older contributions
    in a period count less (none: no decay). See contributions/equations.py. A decision changes
    it as the policy path `contributions.equation` (contributions/policy.py)."""

    weights: dict[str, Decimal]
    caps: dict[str, Decimal] = {}
    half_life_days: int | None = Field(default=None, gt=0)

    @field_validator("weights", "caps")
    @classmethod
    def _non_negative(cls, value: dict[str, Decimal]) -> dict[str, Decimal]:
        negative = sorted(k for k, v in value.items() if v < 0)
        if negative:
            raise ValueError(f"weights and caps must not be negative: {negative}")
        return value


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


class Geocoder(_Frozen):
    """A Nominatim-compatible search service (`/search?q=...&format=jsonv2`) that turns an
    address a rider types into places; answers outside the service area are dropped. Without
    this section, riders pick points on the map or type coordinates."""

    search_url: str = Field(pattern=r"^https?://")
    timeout_seconds: float = Field(default=5.0, gt=0, le=30)
    max_places: int = Field(default=5, ge=1, le=20)


class WebMap(_Frozen):
    """The web app's map. Without `tiles_url` it shows the service area and points on a plain
    background and asks nothing of any other site."""

    # A Leaflet tile template such as "https://tiles.example/{z}/{x}/{y}.png".
    tiles_url: str | None = Field(default=None, pattern=r"^https://.*\{z\}.*\{x\}.*\{y\}")
    attribution: str = ""


class CityConfig(_Frozen):
    id: str = Field(pattern=r"^[a-z][a-z0-9-]{1,39}$")
    name: str
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    timezone: str
    centre: CityCentre
    rides: RidesPolicy
    accounts: AccountsPolicy = AccountsPolicy()
    governance: GovernancePolicy = GovernancePolicy()
    contributions: ContributionsPolicy = ContributionsPolicy()
    # The languages of the city's web app, as BCP 47 primary tags; the first is the default.
    # Members choose one (`chooseLanguage`); each has a catalog in gateway/web/locale/.
    languages: tuple[str, ...] = ("en",)
    # Addresses to places for the rider's page (optional): a Nominatim-compatible search URL.
    geocoder: Geocoder | None = None
    # Map tiles for the web app's maps (optional; none by default: no request to another site).
    map: WebMap = WebMap()

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
