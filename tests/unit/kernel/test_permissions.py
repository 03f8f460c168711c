"""The permission matrix's Guard: a token for another city is refused before roles are read;
every root field of the schema, accounts included, has an entry."""

from __future__ import annotations

import uuid

from kernel.api import Context, NotAuthenticated, NotAuthorized
from kernel.auth import Identity
from kernel.config import Settings
from kernel.permissions import ANYONE, MATRIX, refusal


def _context(identity: Identity | None) -> Context:
    return Context(settings=Settings(persistence="popo"), apps={}, identity=identity)


def test_a_token_for_another_city_is_refused_whatever_its_roles() -> None:
    visitor = Identity(f"ghent:{uuid.uuid4()}", "ghent", frozenset({"member", "board"}))
    problem = refusal(_context(visitor), "trialBalance")
    assert isinstance(problem, NotAuthenticated)
    assert problem.message == "this token was issued for city 'ghent'; this is 'demo'"


def test_the_same_roles_in_this_city_are_let_in() -> None:
    board = Identity(f"demo:{uuid.uuid4()}", "demo", frozenset({"member", "board"}))
    assert refusal(_context(board), "trialBalance") is None
    assert refusal(_context(board), "grantRole") is None


def test_the_desk_operations_need_a_desk_role() -> None:
    member = Identity(f"demo:{uuid.uuid4()}", "demo", frozenset({"member"}))
    librarian = Identity(member.member_id, "demo", frozenset({"member", "librarian"}))
    for operation in ("issueSignInCode", "findMember"):
        assert isinstance(refusal(_context(member), operation), NotAuthorized)
        assert refusal(_context(librarian), operation) is None


def test_signing_up_and_in_need_no_token() -> None:
    for operation in ("signUp", "signIn", "signInWithCode", "refreshToken"):
        assert MATRIX[operation] == ANYONE
        assert refusal(_context(None), operation) is None
    assert isinstance(refusal(_context(None), "signOutEverywhere"), NotAuthenticated)


def test_the_graphql_role_enum_is_the_kernels_set_of_roles() -> None:
    from kernel.auth import ROLES
    from services.members.accounts_api import Role

    assert {role.value for role in Role} == ROLES
