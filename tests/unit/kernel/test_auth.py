"""Access tokens: a round trip, and each way a token can be bad names its problem, in our words."""

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


def _signed(claims: dict[str, object]) -> str:
    return jwt.encode(claims, SECRET.get_secret_value(), algorithm=ALGORITHM)


def _claims(**overrides: object) -> dict[str, object]:
    now = int(_now().timestamp())
    base: dict[str, object] = {
        "iss": ISSUER,
        "sub": f"demo:{uuid.uuid4()}",
        "city": "demo",
        "roles": ["member"],
        "iat": now,
        "exp": now + 3600,
    }
    return {**base, **overrides}


def test_a_bad_subject_is_refused() -> None:
    with pytest.raises(InvalidToken, match="token subject is not a member id"):
        verify(_signed(_claims(sub="root")), SECRET)


def test_a_token_from_another_issuer_is_refused() -> None:
    with pytest.raises(InvalidToken, match="malformed"):
        verify(_signed(_claims(iss="someone-else")), SECRET)


@pytest.mark.parametrize("claim", ["exp", "iat", "sub", "iss", "city", "roles"])
def test_a_token_missing_a_claim_is_refused_naming_it(claim: str) -> None:
    claims = _claims()
    del claims[claim]
    with pytest.raises(InvalidToken) as refused:
        verify(_signed(claims), SECRET)
    assert str(refused.value) == f"token lacks the {claim!r} claim"


@pytest.mark.parametrize("token", ["garbage", "", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.e30.x"])
def test_a_malformed_token_says_only_that(token: str) -> None:
    # PyJWT's own messages ("Not enough segments", "Invalid header padding") name decoder
    # internals; the answer is ours alone.
    with pytest.raises(InvalidToken) as refused:
        verify(token, SECRET)
    assert str(refused.value) == "token is malformed"


def test_a_token_for_another_city_is_refused_when_the_city_is_given() -> None:
    elsewhere = Identity(f"ghent:{uuid.uuid4()}", "ghent", frozenset({"member", "board"}))
    token = mint(elsewhere, SECRET, now=_now())
    assert verify(token, SECRET) == elsewhere
    with pytest.raises(InvalidToken) as refused:
        verify(token, SECRET, city="demo")
    assert str(refused.value) == "this token was issued for city 'ghent'; this is 'demo'"


def test_a_token_with_a_city_that_is_not_a_string_is_refused() -> None:
    with pytest.raises(InvalidToken, match="token city must be a string"):
        verify(_signed(_claims(city=["demo"])), SECRET)


def test_access_tokens_last_minutes_by_default() -> None:
    token = mint(_alice(), SECRET)
    claims = jwt.decode(token, SECRET.get_secret_value(), algorithms=[ALGORITHM], issuer=ISSUER)
    assert claims["exp"] - claims["iat"] == 15 * 60


def test_roles_must_be_a_list_of_strings() -> None:
    with pytest.raises(InvalidToken, match="roles must be a list of strings"):
        verify(_signed(_claims(roles="board")), SECRET)


def test_a_token_using_another_algorithm_is_refused() -> None:
    token = jwt.encode(_claims(), "", algorithm="none")
    with pytest.raises(InvalidToken, match="malformed"):
        verify(token, SECRET)
