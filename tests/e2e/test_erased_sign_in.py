"""An erased member no longer signs in, by password or by a desk's code: the name and contact
details behind their logins are gone. The refusal is the plain InvalidCredentials (it says
nothing about whom a login belonged to), and a refused code stays unused."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.e2e.conftest import token_with
from tests.support.accounts import (
    ISSUE_CODE,
    PASSWORD,
    SIGN_IN,
    SIGN_IN_WITH_CODE,
    refreshed,
    sign_up,
    unique_email,
)
from tests.support.graphql import gql
from tests.support.privacy import ERASE_ME

if TYPE_CHECKING:
    from starlette.testclient import TestClient

pytestmark = pytest.mark.e2e


def test_an_erased_member_cannot_sign_in_again(client: TestClient) -> None:
    email = unique_email("Fien")
    member = sign_up(client, "Fien", email=email)
    dispatcher = token_with(client, sign_up(client, "Desk")["memberId"], "dispatcher")
    code = gql(client, ISSUE_CODE, {"member": member["memberId"]}, token=dispatcher)[
        "issueSignInCode"
    ]["code"]
    token = refreshed(client, member["refreshToken"])["accessToken"]
    assert gql(client, ERASE_ME, token=token)["eraseMyData"]["__typename"] == "DataErased"

    by_password = gql(client, SIGN_IN, {"login": email, "password": PASSWORD})["signIn"]
    by_code = gql(client, SIGN_IN_WITH_CODE, {"code": code})["signInWithCode"]

    assert by_password["__typename"] == "InvalidCredentials"
    assert by_code["__typename"] == "InvalidCredentials"  # not CodeAlreadyUsed: still unused
