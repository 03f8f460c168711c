"""Member tokens: a round trip, and each way a token can be bad names its problem."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from pydantic import SecretStr

from kernel.auth import ALGORITHM, ISSUER, Identity, InvalidToken, mint, verify, with_roles
from kernel.time import FixedClock

SECRET = SecretStr("a-test-secret-that-is-long-enough-for-hs256-0123456789")
OTHER = SecretStr("another-secret-that-is-long-enough-for-hs256-9876543210")


def _now() -> datetime:
    # PyJWT checks `exp` and `iat` against the wall clock, so tokens here are minted "now".
    return datetime.now(UTC)


def _alice() -> Identity:
    return Identity(f"demo:{uuid.uuid4()}", "demo", frozenset({"member", "driver"}))


def test_a_minted_token_verifies_to_the_same_identity() -> None:
    alice = _alice()
    token = mint(alice, SECRET, now=_now())
    assert verify(token, SECRET) == alice


def test_with_roles_adds_roles() -> None:
    alice = Identity(f"demo:{uuid.uuid4()}", "demo", frozenset({"member"}))
    assert with_roles(alice, ["board"]).roles == {"member", "board"}


def test_unknown_roles_cannot_be_minted() -> None:
    bad = Identity(f"demo:{uuid.uuid4()}", "demo", frozenset({"admin"}))
    with pytest.raises(InvalidToken, match="unknown roles"):
        mint(bad, SECRET, now=FixedClock().now())


def test_an_expired_token_is_refused() -> None:
    # Minted an hour ago with a one-minute lifetime (against the real clock PyJWT uses).
    clock = FixedClock(FixedClock().now().replace(year=2000))
    token = mint(_alice(), SECRET, now=clock.now(), ttl=timedelta(minutes=1))
    with pytest.raises(InvalidToken, match="expired"):
        verify(token, SECRET)


def test_a_token_signed_with_another_secret_is_refused() -> None:
    token = mint(_alice(), OTHER, now=_now())
    with pytest.raises(InvalidToken, match="signature does not verify"):
        verify(token, SECRET)


@pytest.mark.parametrize("token", ["garbage", "", "a.b.c"])
def test_a_malformed_token_is_refused(token: str) -> None:
    with pytest.raises(InvalidToken, match="token is malformed"):
        verify(token, SECRET)


def _signed(claims: dict[str, object]) -> str:
    return jwt.encode(claims, SECRET.get_secret_value(), algorithm=ALGORITHM)


def _claims(**overrides: object) -> dict[str, object]:
    now = int(_now().timestamp())
    base: dict[str, object] = {
        "iss": ISSUER,
        "sub": f"demo:{uuid.uuid4()}",
        "roles": ["member"],
        "iat": now,
        "exp": now + 3600,
    }
    return {**base, **overrides}


def test_a_bad_subject_is_refused() -> None:
    with pytest.raises(InvalidToken, match="token subject: member id 'root'"):
        verify(_signed(_claims(sub="root")), SECRET)


def test_a_token_from_another_issuer_is_refused() -> None:
    with pytest.raises(InvalidToken, match="malformed"):
        verify(_signed(_claims(iss="someone-else")), SECRET)


def test_a_token_without_expiry_is_refused() -> None:
    claims = _claims()
    del claims["exp"]
    with pytest.raises(InvalidToken, match="exp"):
        verify(_signed(claims), SECRET)


def test_roles_must_be_a_list_of_strings() -> None:
    with pytest.raises(InvalidToken, match="roles must be a list of strings"):
        verify(_signed(_claims(roles="board")), SECRET)


def test_a_token_using_another_algorithm_is_refused() -> None:
    token = jwt.encode(_claims(), "", algorithm="none")
    with pytest.raises(InvalidToken, match="malformed"):
        verify(token, SECRET)
