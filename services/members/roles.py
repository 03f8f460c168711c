"""Roles: asked for by the member (or by a service, as registering a vehicle does), granted and
withdrawn by a board member, each a recorded act naming who, when and why.

The use cases of `Members.roles`. Who may grant is read from the granter's own account, not
from their token: a token says who someone was for a few minutes, the record says who they are.
The first board of a city is granted by its operator (`muni grant`, or the demo seeding),
recorded as `operator:<name>`; there is no way to that over GraphQL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kernel.auth import ROLES
from services.members.account import MEMBERSHIP, Account, AccountNotFound
from services.members.domain import InvalidMembership, MembersError

if TYPE_CHECKING:
    from services.members.application import Members

BOARD = "board"
OPERATOR = "operator:"
MAX_REASON = 200


class NotOnBoard(MembersError):
    def __init__(self, member_id: str) -> None:
        super().__init__(f"the record does not show {member_id} on the board")
        self.member_id = member_id


class Roles:
    def __init__(self, app: Members) -> None:
        self._app = app

    def request(self, member_id: str, role: str, reason: str) -> bool:
        """Ask the board for a role (the `RoleRequests` port); False if it is held already."""
        _check(role, reason)
        account = self._app.accounts.account(member_id)
        asked = account.request_role(role, reason="", now=self._app.clock.now())
        self._app.save(account)
        self._keep(member_id, role, "requested", reason)
        return asked or role in account.requested

    def grant(self, *, by: str, member: str, role: str, reason: str) -> Account:
        _check(role, reason)
        account = self._app.accounts.account(member)
        if by != account.member_id:
            self._on_board(by)
        account.grant_role(role, by=by, reason="", now=self._app.clock.now())
        self._app.save(account)
        self._keep(account.member_id, role, "granted", reason)
        return account

    def withdraw(self, *, by: str, member: str, role: str, reason: str) -> Account:
        _check(role, reason)
        account = self._app.accounts.account(member)
        if by != account.member_id:
            self._on_board(by)
        account.withdraw_role(role, by=by, reason="", now=self._app.clock.now())
        self._app.save(account)
        self._keep(account.member_id, role, "withdrawn", reason)
        return account

    def grant_as_operator(self, *, operator: str, member: str, role: str, reason: str) -> Account:
        """The operator of this city's stores grants a role (the founding board, the demo)."""
        _check(role, reason)
        account = self._app.accounts.account(member)
        if not account.holds(role):
            account.grant_role(
                role, by=f"{OPERATOR}{operator}", reason="", now=self._app.clock.now()
            )
            self._app.save(account)
            self._keep(account.member_id, role, "granted", reason)
        return account

    def _keep(self, member_id: str, role: str, act: str, reason: str) -> None:
        """Why a role was asked for, granted or withdrawn is free text about the member: it is
        kept in their vault (erased with them), never in the event, which records the act,
        the role, who and when."""
        if reason.strip():
            self._app.personal.put(member_id, f"role_{role}_{act}", reason.strip())

    def _on_board(self, member_id: str) -> None:
        try:
            granter = self._app.accounts.account(member_id)
        except AccountNotFound:
            raise NotOnBoard(member_id) from None
        if not granter.holds(BOARD):
            raise NotOnBoard(member_id)


def _check(role: str, reason: str) -> None:
    if role not in ROLES or role == MEMBERSHIP:
        grantable = sorted(ROLES - {MEMBERSHIP})
        raise InvalidMembership("role", f"{role!r} is not a role one is granted; use {grantable}")
    text = reason.strip()
    if not 1 <= len(text) <= MAX_REASON or not text.isprintable():
        raise InvalidMembership("reason", f"say why in 1 to {MAX_REASON} printable characters")
