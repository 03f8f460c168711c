"""Member tokens: a signed JWT (HS256, PyJWT) carrying member id, city and roles.

The co-op signs a token when a member joins (and again when a role is granted); `muni token`
mints one for local use. Production deployments can put an identity provider in front and keep
the same claims.
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

ROLES = frozenset({"member", "driver", "dispatcher", "board"})
ISSUER = "muni"
ALGORITHM = "HS256"


class InvalidToken(ValueError):
    """A token that is malformed, expired, wrongly signed or has bad claims; says which."""


@dataclass(frozen=True)
class Identity:
    member_id: str
    city: str
    roles: frozenset[str]

    def has(self, role: str) -> bool:
        return role in self.roles


def mint(
    identity: Identity,
    secret: SecretStr,
    *,
    now: datetime | None = None,
    ttl: timedelta = timedelta(days=30),
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
    return jwt.encode(claims, secret.get_secret_value(), algorithm=ALGORITHM)


def verify(token: str, secret: SecretStr) -> Identity:
    try:
        claims = jwt.decode(
            token,
            secret.get_secret_value(),
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["sub", "exp", "iss"]},
        )
    except jwt.ExpiredSignatureError:
        raise InvalidToken("token has expired") from None
    except jwt.InvalidSignatureError:
        raise InvalidToken("token signature does not verify") from None
    except jwt.PyJWTError as exc:
        raise InvalidToken(f"token is malformed: {exc}") from None
    try:
        who = member_id(str(claims["sub"]))
    except InvalidId as exc:
        raise InvalidToken(f"token subject: {exc}") from None
    roles = claims.get("roles", [])
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise InvalidToken("token roles must be a list of strings")
    return Identity(who, str(claims.get("city", who.split(":")[0])), frozenset(roles))


def with_roles(identity: Identity, roles: Iterable[str]) -> Identity:
    return Identity(identity.member_id, identity.city, identity.roles | frozenset(roles))
