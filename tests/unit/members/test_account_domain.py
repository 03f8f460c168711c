"""The account aggregates, given-when-then on their events, each with a replay check."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest

from services.members.account import Account, OwnRole
from services.members.consent import Consent
from services.members.session import REUSED, RefreshTokenInvalid, Session, SessionEnded
from services.members.signin_code import SignInCode, new_code, normalise
from tests.support.gwt import names_and_attrs, replay, state_of

if TYPE_CHECKING:
    from kernel.time import FixedClock

ADA = "demo:00000000-0000-4000-8000-000000000001"
EMRE = "demo:00000000-0000-4000-8000-000000000002"


def _account(clock: FixedClock) -> Account:
    return Account(
        member_id=ADA, city="demo", logins={"email": "ab"}, password_hash="h", opened_at=clock.now()
    )


def test_a_grant_records_who_when_and_why_and_replays(clock: FixedClock) -> None:
    account = _account(clock)
    account.request_role("driver", reason="registered a vehicle", now=clock.now())
    history = account.collect_events()

    account.grant_role("driver", by=EMRE, reason="licence checked", now=clock.now())

    new = account.collect_events()
    assert names_and_attrs(new) == [
        (
            "RoleGranted",
            {"role": "driver", "by": EMRE, "reason": "licence checked", "at": clock.now()},
        )
    ]
    assert state_of(replay([*history, *new])) == state_of(account)
    assert (account.roles, account.requested) == (["member", "driver"], [])


def test_the_member_never_grants_their_own_role(clock: FixedClock) -> None:
    account = _account(clock)
    account.collect_events()
    with pytest.raises(OwnRole):
        account.grant_role("board", by=ADA, reason="why not", now=clock.now())
    assert account.collect_events() == []


def test_signing_out_everywhere_moves_the_epoch_and_replays(clock: FixedClock) -> None:
    account = _account(clock)
    history = account.collect_events()
    account.sign_out_everywhere(now=clock.now())
    new = account.collect_events()
    assert names_and_attrs(new) == [("SignedOutEverywhere", {"at": clock.now()})]
    assert replay([*history, *new]).session_epoch == 1


def _session(clock: FixedClock) -> Session:
    return Session(
        id=uuid.uuid4(),
        member_id=ADA,
        epoch=0,
        token_hash="h0",
        via="password",
        started_at=clock.now(),
        expires_at=clock.now() + timedelta(days=30),
    )


def test_a_rotation_needs_the_current_secret_and_replays(clock: FixedClock) -> None:
    session = _session(clock)
    history = session.collect_events()
    later = clock.now() + timedelta(days=30)

    with pytest.raises(RefreshTokenInvalid):
        session.rotate(
            generation=0,
            token_hash="wrong",
            new_hash="h1",
            epoch=0,
            now=clock.now(),
            expires_at=later,
        )
    assert (
        session.rotate(
            generation=0, token_hash="h0", new_hash="h1", epoch=0, now=clock.now(), expires_at=later
        )
        == 1
    )

    new = session.collect_events()
    assert [name for name, _ in names_and_attrs(new)] == ["Rotated"]
    assert state_of(replay([*history, *new])) == state_of(session)
    assert session.is_replay(0)


def test_a_session_revoked_for_reuse_never_rotates_again(clock: FixedClock) -> None:
    session = _session(clock)
    session.revoke_for_reuse(now=clock.now())
    session.revoke_for_reuse(now=clock.now())  # once is enough
    assert [n for n, _ in names_and_attrs(session.collect_events())] == ["Started", "Revoked"]
    with pytest.raises(SessionEnded, match="used twice"):
        session.rotate(
            generation=0,
            token_hash="h0",
            new_hash="h1",
            epoch=0,
            now=clock.now(),
            expires_at=clock.now(),
        )
    assert session.revoked == REUSED


def test_codes_read_back_from_what_people_type() -> None:
    code = new_code()
    assert len(code) == 11
    assert code[5] == "-"
    assert normalise(code.lower()) == code.replace("-", "")
    assert normalise("abcde fgh1o") == "ABCDEFGH10"
    assert normalise("ILO00-00000") == "1100000000"
    assert normalise("ABCDE-FGHU1") is None  # U is not in the alphabet
    assert normalise("short") is None


def test_a_code_is_used_once_and_replays(clock: FixedClock) -> None:
    code = SignInCode(
        id=uuid.uuid4(),
        member_id=ADA,
        issued_by=EMRE,
        issued_at=clock.now(),
        expires_at=clock.now() + timedelta(hours=24),
    )
    history = code.collect_events()
    code.use(now=clock.now())
    new = code.collect_events()
    assert names_and_attrs(new) == [("Used", {"at": clock.now()})]
    assert state_of(replay([*history, *new])) == state_of(code)


def test_consent_alternates_between_given_and_withdrawn(clock: FixedClock) -> None:
    consent = Consent(member_id=ADA, recorded_by=EMRE, channel="phone", at=clock.now())
    assert consent.give(recorded_by=ADA, channel="app", now=clock.now()) is False
    assert consent.withdraw(recorded_by=ADA, channel="app", now=clock.now()) is True
    assert consent.withdraw(recorded_by=ADA, channel="app", now=clock.now()) is False
    assert consent.give(recorded_by=EMRE, channel="in_person", now=clock.now()) is True
    events = consent.collect_events()
    assert [n for n, _ in names_and_attrs(events)] == ["Given", "Withdrawn", "GivenAgain"]
    assert state_of(replay(events)) == state_of(consent)
