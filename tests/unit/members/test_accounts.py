"""Accounts with the real application on in-memory stores: sign-up and sign-in, codes, refresh
rotation with reuse detection, sign-out everywhere, role grants, consent."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest

from kernel.auth import Identity, verify
from kernel.config import Settings
from kernel.delegation import NoConsent, UnknownMember
from kernel.keys import with_keys
from services.members.account import AccountNotFound, OwnRole, RoleAlreadyHeld, RoleNotHeld
from services.members.accounts import CodeNotAllowed, InvalidCredentials, LoginTaken
from services.members.application import Members
from services.members.domain import InvalidMembership
from services.members.roles import NotOnBoard
from services.members.session import (
    EXPIRED,
    REUSED,
    SIGNED_OUT,
    RefreshTokenInvalid,
    RefreshTokenReused,
    SessionEnded,
)
from services.members.signin_code import CodeAlreadyUsed, CodeExpired

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from kernel.time import FixedClock
    from services.members.accounts import Tokens

PASSWORD = "correct horse battery staple"


class FakeVault:
    """The personal-data port, recording what it was handed."""

    def __init__(self) -> None:
        self.kept: dict[str, dict[str, str]] = {}

    def keep(self, member_id: str, details: Mapping[Any, str]) -> None:
        self.kept.setdefault(member_id, {}).update(details)


@pytest.fixture
def members(clock: FixedClock) -> Iterator[Members]:
    settings = with_keys(Settings(persistence="popo", cheap_password_hashing=True))
    app = Members(settings, clock=clock)
    app.personal_data = FakeVault()
    yield app
    app.close()


def _vault(members: Members) -> FakeVault:
    assert isinstance(members.personal_data, FakeVault)
    return members.personal_data


def _stored(members: Members) -> bytes:
    """Every stored event's bytes, for searching."""
    notifications = members.recorder.select_notifications(start=1, limit=10_000)
    return b"\n".join(n.state for n in notifications)


def _position(members: Members) -> int | None:
    return members.recorder.max_notification_id()


def _identity(members: Members, tokens: Tokens) -> Identity:
    return verify(tokens.access_token, members.settings.signing_key, city="demo")


def _sign_up(members: Members, name: str = "Ada", **login: str) -> Tokens:
    return members.accounts.sign_up(
        display_name=name, password=PASSWORD, **(login or {"email": f"{name}@example.org"})
    )


# -- sign-up and sign-in ------------------------------------------------------------------------
def test_signing_up_by_email_signs_in_with_a_token_for_this_city(members: Members) -> None:
    tokens = _sign_up(members, email="Ada.Lovelace@Example.ORG")

    assert tokens.roles == ("member",)
    assert _identity(members, tokens) == Identity(tokens.member_id, "demo", frozenset({"member"}))
    again = members.accounts.sign_in("ada.lovelace@example.org", PASSWORD)
    assert again.member_id == tokens.member_id
    assert again.refresh_token != tokens.refresh_token


def test_signing_up_by_phone_reads_local_numbers_in_the_citys_region(members: Members) -> None:
    tokens = _sign_up(members, "Grandma", phone="09 223 45 67")  # a Ghent landline
    again = members.accounts.sign_in("+32 9 223 45 67", PASSWORD)
    assert again.member_id == tokens.member_id


def test_emails_and_phones_never_reach_an_event_but_reach_the_vault(members: Members) -> None:
    tokens = members.accounts.sign_up(
        display_name="Ada", password=PASSWORD, email="ada@example.org", phone="0470 12 34 56"
    )

    stored = _stored(members)
    for text in ("ada@example.org", "+32470123456", "0470", PASSWORD):
        assert text.encode() not in stored
    assert _vault(members).kept[tokens.member_id] == {
        "display_name": "Ada",
        "email": "ada@example.org",
        "phone": "+32470123456",
    }


@pytest.mark.parametrize(
    ("login", "password"),
    [
        ("ada@example.org", "not the password at all"),
        ("nobody@example.org", PASSWORD),
        ("not a login", PASSWORD),
        ("+32 470 99 99 99", PASSWORD),
    ],
)
def test_a_wrong_login_or_password_is_invalid_credentials_and_changes_nothing(
    members: Members, login: str, password: str
) -> None:
    _sign_up(members, email="ada@example.org")
    before = _position(members)
    with pytest.raises(InvalidCredentials):
        members.accounts.sign_in(login, password)
    assert _position(members) == before


def test_a_taken_email_is_refused_whatever_its_case_and_nothing_is_stored(
    members: Members,
) -> None:
    _sign_up(members, email="ada@example.org")
    before = _position(members)
    with pytest.raises(LoginTaken) as refused:
        _sign_up(members, "Other Ada", email="ADA@example.org")
    assert refused.value.kind == "email"
    assert _position(members) == before


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"email": None}, "email"),
        ({"email": "not-an-email"}, "email"),
        ({"email": None, "phone": "12"}, "phone"),
        ({"password": "short"}, "password"),
        ({"display_name": "   "}, "displayName"),
    ],
)
def test_bad_sign_up_input_names_the_field(
    members: Members, changes: dict[str, Any], field: str
) -> None:
    given: dict[str, Any] = {
        "display_name": "Ada",
        "password": PASSWORD,
        "email": "ada@example.org",
        **changes,
    }
    with pytest.raises(InvalidMembership) as refused:
        members.accounts.sign_up(**given)
    assert refused.value.field == field
    assert _position(members) is None


# -- one-time codes -----------------------------------------------------------------------------
def test_a_code_signs_in_once_however_it_is_typed(members: Members, clock: FixedClock) -> None:
    grandma = _sign_up(members, "Grandma", phone="09 223 45 67")
    issued = members.accounts.issue_code(by="demo:dispatcher", member=grandma.member_id)
    assert issued.expires_at == clock.now() + timedelta(hours=24)
    typed = issued.code.lower().replace("-", " ").replace("0", "o")

    tokens = members.accounts.sign_in_with_code(typed)

    assert tokens.member_id == grandma.member_id
    with pytest.raises(CodeAlreadyUsed) as reused:
        members.accounts.sign_in_with_code(issued.code)
    assert reused.value.used_at == clock.now()


def test_a_code_is_stored_only_as_a_keyed_hash(members: Members) -> None:
    grandma = _sign_up(members, "Grandma")
    issued = members.accounts.issue_code(by="demo:dispatcher", member=grandma.member_id)
    stored = _stored(members)
    assert issued.code.encode() not in stored
    assert issued.code.replace("-", "").encode() not in stored


def test_an_expired_code_is_refused_with_its_expiry(members: Members, clock: FixedClock) -> None:
    grandma = _sign_up(members, "Grandma")
    issued = members.accounts.issue_code(by="demo:dispatcher", member=grandma.member_id)
    clock.advance(timedelta(hours=24))
    before = _position(members)
    with pytest.raises(CodeExpired) as expired:
        members.accounts.sign_in_with_code(issued.code)
    assert expired.value.expired_at == issued.expires_at
    assert _position(members) == before


@pytest.mark.parametrize("code", ["ABCDE-FGH23", "too-short", "", "UUUUU-UUUUU"])
def test_a_wrong_code_is_invalid_credentials(members: Members, code: str) -> None:
    grandma = _sign_up(members, "Grandma")
    members.accounts.issue_code(by="demo:dispatcher", member=grandma.member_id)
    with pytest.raises(InvalidCredentials):
        members.accounts.sign_in_with_code(code)


def test_no_codes_for_an_account_that_sees_others_data(members: Members) -> None:
    board = _sign_up(members, "Emre")
    members.roles.grant_as_operator(operator="t", member=board.member_id, role="board", reason="x")
    with pytest.raises(CodeNotAllowed):
        members.accounts.issue_code(by="demo:dispatcher", member=board.member_id)


def test_a_code_for_nobody_is_refused(members: Members) -> None:
    with pytest.raises(AccountNotFound):
        members.accounts.issue_code(by="demo:dispatcher", member=f"demo:{uuid.uuid4()}")


# -- refresh rotation, reuse detection, sign-out everywhere -------------------------------------
def test_each_refresh_answers_a_new_refresh_token(members: Members) -> None:
    first = _sign_up(members)
    second = members.accounts.refresh(first.refresh_token)
    third = members.accounts.refresh(second.refresh_token)
    assert len({first.refresh_token, second.refresh_token, third.refresh_token}) == 3
    assert third.member_id == first.member_id


def test_reusing_a_refresh_token_is_refused_and_revokes_its_whole_family(
    members: Members,
) -> None:
    first = _sign_up(members)
    second = members.accounts.refresh(first.refresh_token)

    with pytest.raises(RefreshTokenReused):
        members.accounts.refresh(first.refresh_token)  # the thief, or the member, replays

    with pytest.raises(SessionEnded) as ended:
        members.accounts.refresh(second.refresh_token)  # so the newest one is dead too
    assert ended.value.reason == REUSED
    # another sign-in, another family: unaffected
    members.accounts.refresh(members.accounts.sign_in("Ada@example.org", PASSWORD).refresh_token)


@pytest.mark.parametrize(
    "token",
    ["", "garbage", "a.b.c", f"{'ab' * 16}.0.secret", f"{'ab' * 16}.-1.x"],
)
def test_a_refresh_token_we_never_issued_is_invalid(members: Members, token: str) -> None:
    _sign_up(members)
    before = _position(members)
    with pytest.raises(RefreshTokenInvalid):
        members.accounts.refresh(token)
    assert _position(members) == before


def test_a_refresh_token_with_a_forged_secret_is_invalid_and_revokes_nothing(
    members: Members,
) -> None:
    first = _sign_up(members)
    session, generation, _ = first.refresh_token.split(".")
    with pytest.raises(RefreshTokenInvalid):
        members.accounts.refresh(f"{session}.{generation}.forged")
    members.accounts.refresh(first.refresh_token)


def test_a_session_not_refreshed_in_time_has_ended(members: Members, clock: FixedClock) -> None:
    first = _sign_up(members)
    clock.advance(timedelta(days=30))
    with pytest.raises(SessionEnded) as ended:
        members.accounts.refresh(first.refresh_token)
    assert ended.value.reason == EXPIRED


def test_signing_out_everywhere_revokes_every_refresh_token(members: Members) -> None:
    phone = _sign_up(members)
    laptop = members.accounts.sign_in("ada@example.org", PASSWORD)
    laptop = members.accounts.refresh(laptop.refresh_token)

    members.accounts.sign_out_everywhere(phone.member_id)

    for tokens in (phone, laptop):
        with pytest.raises(SessionEnded) as ended:
            members.accounts.refresh(tokens.refresh_token)
        assert ended.value.reason == SIGNED_OUT
    fresh = members.accounts.sign_in("ada@example.org", PASSWORD)
    members.accounts.refresh(fresh.refresh_token)  # signing in again works


# -- roles --------------------------------------------------------------------------------------
def _board(members: Members) -> str:
    board = _sign_up(members, "Emre")
    members.roles.grant_as_operator(
        operator="founders", member=board.member_id, role="board", reason="founding board"
    )
    return board.member_id


def test_a_granted_role_is_in_the_next_token(members: Members) -> None:
    board = _board(members)
    bram = _sign_up(members, "Bram")
    assert members.roles.request(bram.member_id, "driver", "registered a vehicle") is True

    account = members.roles.grant(
        by=board, member=bram.member_id, role="driver", reason="licence checked"
    )

    assert (account.roles, account.requested) == (["member", "driver"], [])
    assert "driver" not in _identity(members, bram).roles  # the old token says what it said
    refreshed = members.accounts.refresh(bram.refresh_token)
    assert _identity(members, refreshed).roles == {"member", "driver"}
    assert members.roles.request(bram.member_id, "driver", "again") is False


def test_the_grant_is_a_recorded_act_naming_who_when_and_why(
    members: Members, clock: FixedClock
) -> None:
    board = _board(members)
    bram = _sign_up(members, "Bram")
    members.roles.grant(by=board, member=bram.member_id, role="driver", reason="licence checked")
    stored: list[Any] = [
        members.mapper.to_domain_event(n)
        for n in members.recorder.select_notifications(start=1, limit=100)
    ]
    granted = [e for e in stored if type(e).__name__ == "RoleGranted"]
    # The event records the act; why is free text about the member, kept in their vault.
    assert [(e.role, e.by, e.reason, e.at) for e in granted] == [
        ("board", "operator:founders", "", clock.now()),
        ("driver", board, "", clock.now()),
    ]
    assert members.personal.get(bram.member_id, "role_driver_granted") == "licence checked"


def test_a_member_not_on_the_board_cannot_grant(members: Members) -> None:
    _board(members)
    dina = _sign_up(members, "Dina")
    bram = _sign_up(members, "Bram")
    before = _position(members)
    with pytest.raises(NotOnBoard):
        members.roles.grant(by=dina.member_id, member=bram.member_id, role="driver", reason="x")
    with pytest.raises(NotOnBoard):
        members.roles.grant(
            by=f"demo:{uuid.uuid4()}", member=bram.member_id, role="board", reason="x"
        )
    assert _position(members) == before


def test_nobody_grants_or_withdraws_their_own_role(members: Members) -> None:
    board = _board(members)
    with pytest.raises(OwnRole):
        members.roles.grant(by=board, member=board, role="dispatcher", reason="I want it")
    with pytest.raises(OwnRole):
        members.roles.withdraw(by=board, member=board, role="board", reason="leaving")


def test_withdrawing_takes_the_role_out_of_the_next_token(members: Members) -> None:
    board = _board(members)
    bram = _sign_up(members, "Bram")
    members.roles.grant(by=board, member=bram.member_id, role="driver", reason="checked")
    members.roles.withdraw(by=board, member=bram.member_id, role="driver", reason="licence lapsed")
    assert _identity(members, members.accounts.refresh(bram.refresh_token)).roles == {"member"}
    with pytest.raises(RoleNotHeld):
        members.roles.withdraw(by=board, member=bram.member_id, role="driver", reason="again")
    with pytest.raises(InvalidMembership, match="role"):  # membership ends by leaving
        members.roles.withdraw(by=board, member=bram.member_id, role="member", reason="no")


def test_a_role_held_is_not_granted_twice_and_membership_is_not_granted(
    members: Members,
) -> None:
    board = _board(members)
    bram = _sign_up(members, "Bram")
    members.roles.grant(by=board, member=bram.member_id, role="driver", reason="checked")
    with pytest.raises(RoleAlreadyHeld):
        members.roles.grant(by=board, member=bram.member_id, role="driver", reason="again")
    with pytest.raises(InvalidMembership, match="role"):
        members.roles.grant(by=board, member=bram.member_id, role="member", reason="x")
    with pytest.raises(InvalidMembership, match="reason"):
        members.roles.grant(by=board, member=bram.member_id, role="host", reason="  ")


# -- consent ------------------------------------------------------------------------------------
DISPATCHER = Identity(f"demo:{uuid.uuid4()}", "demo", frozenset({"member", "dispatcher"}))


def test_acting_for_a_member_needs_their_consent_until_they_withdraw_it(
    members: Members,
) -> None:
    grandma = _sign_up(members, "Grandma").member_id
    with pytest.raises(NoConsent):
        members.consents.check(DISPATCHER, grandma)

    members.consents.give(
        grandma, recorded_by=DISPATCHER.member_id, channel="phone", statement="yes, please"
    )
    members.consents.check(DISPATCHER, grandma)
    assert _vault(members).kept[grandma]["consent_statement"] == "yes, please"
    assert b"yes, please" not in _stored(members)

    members.consents.withdraw(grandma, recorded_by=grandma, channel="app")
    with pytest.raises(NoConsent):
        members.consents.check(DISPATCHER, grandma)


ELSEWHERE = "00000000-0000-4000-8000-00000000abcd"


@pytest.mark.parametrize("member", [f"demo:{ELSEWHERE}", f"ghent:{ELSEWHERE}", "grandma", ""])
def test_acting_for_someone_who_is_not_a_member_here_is_unknown_member(
    members: Members, member: str
) -> None:
    with pytest.raises(UnknownMember) as refused:
        members.consents.check(DISPATCHER, member)
    assert refused.value.member_id == member
    with pytest.raises(UnknownMember):
        members.consents.give(member, recorded_by=DISPATCHER.member_id, channel="phone")


def test_withdrawing_consent_never_given_is_no_consent_and_changes_nothing(
    members: Members,
) -> None:
    grandma = _sign_up(members, "Grandma").member_id
    before = _position(members)
    with pytest.raises(NoConsent):
        members.consents.withdraw(grandma, recorded_by=grandma, channel="app")
    assert _position(members) == before


def test_acting_for_oneself_needs_no_consent(members: Members) -> None:
    ada = _sign_up(members).member_id
    members.consents.check(Identity(ada, "demo", frozenset({"member"})), ada)


def test_the_passwords_hash_is_kept_in_the_vault_never_in_an_event(members: Members) -> None:
    tokens = _sign_up(members, "Ada")

    held = members.personal.get(tokens.member_id, "password_hash")
    assert held is not None
    assert held.startswith("$argon2")
    assert held.encode() not in _stored(members)
    assert b"$argon2" not in _stored(members)
    assert "password_hash" not in members.personal.all_of(tokens.member_id)
    assert members.accounts.sign_in("Ada@example.org", PASSWORD).member_id == tokens.member_id


def test_an_account_opened_with_its_hash_in_an_event_moves_it_to_the_vault_at_sign_in(
    members: Members, clock: FixedClock
) -> None:
    from services.members.account import Account, Login
    from services.members.identifiers import login as identifier

    member = members.new_member("Old Timer")
    digest = identifier("old@example.org", region="BE").digest(members.settings.hashing_key)
    pointer = Login(id=Login.id_for(digest), kind="email", member_id=member.member_id)
    legacy = members.accounts._passwords.hash(PASSWORD)
    account = Account(
        member_id=member.member_id,
        city=member.city,
        logins={"email": pointer.id.hex},
        password_hash=legacy,
        opened_at=clock.now(),
    )
    members.save(member, account, pointer)

    signed = members.accounts.sign_in("old@example.org", PASSWORD)

    assert signed.member_id == member.member_id
    assert members.accounts.account(member.member_id).password_hash == ""
    assert members.personal.get(member.member_id, "password_hash") is not None
    with pytest.raises(InvalidCredentials):
        members.accounts.sign_in("old@example.org", "not the password at all")
    assert members.accounts.sign_in("old@example.org", PASSWORD).member_id == member.member_id
