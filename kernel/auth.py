"""Access tokens: a signed JWT (HS256, PyJWT) carrying member id, city and roles, for minutes.

The members service issues one at sign-in and at every refresh (with the roles the record shows
then), and `muni token` mints one for local use. Verifying needs only the key, never a store, so
every gateway replica checks tokens on its own (kernel/keys.py says why HS256). A token says who
the caller is for a few minutes; signing out everywhere ends the refresh tokens, and the access
tokens already out run out by themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import jwt

from kernel.ids import InvalidId, member_id

if TYPE_CHECKING:
    from collections.abc import Iterable

    from pydantic import SecretStr

ROLES = frozenset(
    {
        "member",
        "driver",
        "dispatcher",
        "board",
        "safety",  # the safety team: incidents and complaints
        "regulator",  # reads anonymised aggregates, never a member's data
        "host",
        "librarian",
        "worker_owner",
        "client",
    }
)
ISSUER = "muni"
ALGORITHM = "HS256"
ACCESS_TTL = timedelta(minutes=15)
REQUIRED_CLAIMS = ("iss", "sub", "city", "roles", "iat", "exp")


class InvalidToken(ValueError):
    """A token that is malformed, expired, wrongly signed or has bad claims; says which, in our
    own words (never the decoder's)."""


@dataclass(frozen=True)
class Identity:
    """Who a request is for. `actor` is set when a dispatcher acts for the member (a desk's
    delegated token, RFC 8693's `act` claim): the member's pages, the dispatcher's hands."""

    member_id: str
    city: str
    roles: frozenset[str]
    actor: str | None = None

    def has(self, role: str) -> bool:
        return role in self.roles


def mint(
    identity: Identity,
    secret: SecretStr,
    *,
    now: datetime | None = None,
    ttl: timedelta = ACCESS_TTL,
) -> str:
    """Sign a token. `now` defaults to the wall clock, which is what verifiers compare `iat`
    and `exp` with: never pass an application's (possibly fixed) domain clock here."""
    now = now or datetime.now(UTC)
    unknown = identity.roles - ROLES
    if unknown:
        raise InvalidToken(f"unknown roles {sorted(unknown)}; known: {sorted(ROLES)}")
    claims = {
        "iss": ISSUER,
        "sub": identity.member_id,
        "city": identity.city,
        "roles": sorted(identity.roles),
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
    }
    if identity.actor is not None:
        claims["act"] = {"sub": identity.actor}
    return jwt.encode(claims, secret.get_secret_value(), algorithm=ALGORITHM)


def verify(token: str, secret: SecretStr, *, city: str | None = None) -> Identity:
    """The identity a token carries; `city`, when given, must be the city it was issued for."""
    try:
        claims = jwt.decode(
            token,
            secret.get_secret_value(),
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": list(REQUIRED_CLAIMS)},
        )
    except jwt.ExpiredSignatureError:
        raise InvalidToken("token has expired") from None
    except jwt.InvalidSignatureError:
        raise InvalidToken("token signature does not verify") from None
    except jwt.MissingRequiredClaimError as exc:
        raise InvalidToken(f"token lacks the {exc.claim!r} claim") from None
    except jwt.PyJWTError:
        # The decoder's own text names library internals; a client needs only this.
        raise InvalidToken("token is malformed") from None
    try:
        who = member_id(str(claims["sub"]))
    except InvalidId:
        raise InvalidToken("token subject is not a member id") from None
    roles = claims["roles"]
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise InvalidToken("token roles must be a list of strings")
    issued_for = claims["city"]
    if not isinstance(issued_for, str):
        raise InvalidToken("token city must be a string")
    if city is not None and issued_for != city:
        raise InvalidToken(f"this token was issued for city {issued_for!r}; this is {city!r}")
    actor = None
    if "act" in claims:
        act = claims["act"]
        try:
            actor = member_id(str(act["sub"])) if isinstance(act, dict) else None
        except (InvalidId, KeyError):
            actor = None
        if actor is None:
            raise InvalidToken("token actor ('act') is not a member id")
    return Identity(who, issued_for, frozenset(roles), actor)


def with_roles(identity: Identity, roles: Iterable[str]) -> Identity:
    return Identity(
        identity.member_id, identity.city, identity.roles | frozenset(roles), identity.actor
    )
