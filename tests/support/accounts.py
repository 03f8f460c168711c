"""GraphQL documents and helpers for accounts: signing up and in, codes, roles, consent."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from tests.support.graphql import gql

if TYPE_CHECKING:
    from starlette.testclient import TestClient

PASSWORD = "a long enough test passphrase"

PROBLEM = "__typename ... on Problem { message }"
SIGNED = "... on SignedIn { memberId city roles accessToken accessTokenExpiresAt refreshToken }"
SIGN_UP = f"""
mutation SignUp($input: SignUpInput!) {{
  signUp(input: $input) {{
    {PROBLEM} {SIGNED} ... on InvalidInput {{ field }} ... on LoginTaken {{ kind }}
  }}
}}"""
SIGN_IN = f"""
mutation SignIn($login: String!, $password: String!) {{
  signIn(login: $login, password: $password) {{ {PROBLEM} {SIGNED} }}
}}"""
SIGN_IN_WITH_CODE = f"""
mutation Code($code: String!) {{
  signInWithCode(code: $code) {{
    {PROBLEM} {SIGNED}
    ... on CodeExpired {{ expiredAt }}
    ... on CodeAlreadyUsed {{ usedAt }}
  }}
}}"""
REFRESH = f"""
mutation Refresh($token: String!) {{
  refreshToken(refreshToken: $token) {{ {PROBLEM} {SIGNED} ... on SessionEnded {{ reason }} }}
}}"""
SIGN_OUT = f"""
mutation Out($token: String!) {{
  signOut(refreshToken: $token) {{ {PROBLEM} ... on SignedOut {{ memberId }} }}
}}"""
SIGN_OUT_EVERYWHERE = f"""
mutation {{ signOutEverywhere {{ {PROBLEM} ... on SignedOut {{ memberId }} }} }}"""
ISSUE_CODE = f"""
mutation Issue($member: String!) {{
  issueSignInCode(memberId: $member) {{
    {PROBLEM}
    ... on NotAuthorized {{ requiredRole }}
    ... on UnknownMember {{ memberId }}
    ... on SignInCodeIssued {{ memberId code expiresAt }}
    ... on CodeNotAllowed {{ memberId }}
  }}
}}"""
ACCOUNT = "... on Account { memberId city roles requestedRoles loginKinds }"
MY_ACCOUNT = f"{{ myAccount {{ {PROBLEM} {ACCOUNT} }} }}"
FIND_MEMBER = f"""
query Find($login: String!) {{
  findMember(login: $login) {{ {PROBLEM} ... on MemberRef {{ memberId }} }}
}}"""
ROLE_ANSWER = f"""
  {PROBLEM}
  {ACCOUNT}
  ... on NotAuthorized {{ requiredRole }}
  ... on InvalidInput {{ field }}
  ... on UnknownMember {{ memberId }}
  ... on OwnRole {{ role }}
"""
REQUEST_ROLE = f"""
mutation Ask($role: Role!, $reason: String!) {{
  requestRole(role: $role, reason: $reason) {{
    {PROBLEM} {ACCOUNT} ... on RoleAlreadyHeld {{ memberId role }}
  }}
}}"""
GRANT_ROLE = f"""
mutation Grant($member: String!, $role: Role!, $reason: String!) {{
  grantRole(memberId: $member, role: $role, reason: $reason) {{
    {ROLE_ANSWER} ... on RoleAlreadyHeld {{ memberId role }}
  }}
}}"""
WITHDRAW_ROLE = f"""
mutation Withdraw($member: String!, $role: Role!, $reason: String!) {{
  withdrawRole(memberId: $member, role: $role, reason: $reason) {{
    {ROLE_ANSWER} ... on RoleNotHeld {{ memberId role }}
  }}
}}"""
CONSENT_ANSWER = f"""
  {PROBLEM}
  ... on Consent {{ memberId given recordedBy channel changedAt }}
  ... on NotAuthorized {{ requiredRole }}
  ... on InvalidInput {{ field }}
  ... on UnknownMember {{ memberId }}
  ... on NoConsent {{ memberId }}
"""
GIVE_CONSENT = f"""
mutation Give($member: String, $channel: ConsentChannel, $statement: String) {{
  giveConsent(memberId: $member, channel: $channel, statement: $statement) {{ {CONSENT_ANSWER} }}
}}"""
WITHDRAW_CONSENT = f"""
mutation Withdraw($member: String, $channel: ConsentChannel, $statement: String) {{
  withdrawConsent(memberId: $member, channel: $channel, statement: $statement) {{
    {CONSENT_ANSWER}
  }}
}}"""


def unique_email(name: str) -> str:
    slug = "".join(c for c in name.lower() if c.isalnum())[:20] or "member"
    return f"{slug}.{uuid.uuid4().hex[:12]}@example.org"


def sign_up(
    client: TestClient, name: str, *, password: str = PASSWORD, **login: str
) -> dict[str, Any]:
    """Sign up with `email=` and/or `phone=` (a fresh email if neither); return SignedIn."""
    if not login:
        login = {"email": unique_email(name)}
    answer: dict[str, Any] = gql(
        client, SIGN_UP, {"input": {"displayName": name, "password": password, **login}}
    )["signUp"]
    assert answer["__typename"] == "SignedIn", answer
    return answer


def refreshed(client: TestClient, refresh_token: str) -> dict[str, Any]:
    answer: dict[str, Any] = gql(client, REFRESH, {"token": refresh_token})["refreshToken"]
    assert answer["__typename"] == "SignedIn", answer
    return answer


def operator_grant(client: TestClient, member_id: str, *roles: str) -> None:
    """Grant roles as this city's operator (as `muni grant` does): the founding board, say."""
    members = client.app.state.runtime.apps["members"]  # type: ignore[attr-defined]
    for role in roles:
        members.roles.grant_as_operator(
            operator="tests", member=member_id, role=role, reason="test set-up"
        )


def board_of(client: TestClient) -> tuple[str, str]:
    """This app's board member (made once, by the operator): (member id, access token)."""
    state = client.app.state  # type: ignore[attr-defined]
    if not hasattr(state, "test_board"):
        board = sign_up(client, "Board member")
        operator_grant(client, board["memberId"], "board")
        state.test_board = (board["memberId"], refreshed(client, board["refreshToken"]))
    member_id, signed = state.test_board
    return member_id, signed["accessToken"]


def grant(client: TestClient, member_id: str, role: str) -> dict[str, Any]:
    """The board grants `role` over GraphQL; return the Account answer."""
    _, board = board_of(client)
    answer: dict[str, Any] = gql(
        client,
        GRANT_ROLE,
        {"member": member_id, "role": role.upper(), "reason": "test set-up"},
        token=board,
    )["grantRole"]
    assert answer["__typename"] == "Account", answer
    return answer
