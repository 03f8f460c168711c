"""Consent to being acted for, and the `Delegations` port (kernel/delegation.py) it answers.

The use cases of `Members.consents`. A member gives or withdraws consent in the app; a
dispatcher or librarian records it for them during the call or at the branch, with what the
member said (which goes to the personal-data port, not into the event).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from eventsourcing.application import AggregateNotFoundError

from kernel.delegation import NoConsent, UnknownMember
from services.members.account import Account, AccountNotFound
from services.members.consent import CHANNELS, Consent
from services.members.domain import InvalidMembership

if TYPE_CHECKING:
    from kernel.auth import Identity
    from services.members.application import Members

MAX_STATEMENT = 500


class Consents:
    def __init__(self, app: Members) -> None:
        self._app = app

    def give(
        self, member: str, *, recorded_by: str, channel: str, statement: str | None = None
    ) -> Consent:
        """Record consent (again nothing, if it is in force)."""
        _check(channel, statement)
        account = self._member(member)
        now = self._app.clock.now()
        consent = self.consent(account.member_id)
        if consent is None:
            consent = Consent(
                member_id=account.member_id, recorded_by=recorded_by, channel=channel, at=now
            )
        else:
            consent.give(recorded_by=recorded_by, channel=channel, now=now)
        self._app.save(consent)
        self._keep(account.member_id, statement)
        return consent

    def withdraw(
        self, member: str, *, recorded_by: str, channel: str, statement: str | None = None
    ) -> Consent:
        """Withdraw consent; NoConsent if none was in force."""
        _check(channel, statement)
        account = self._member(member)
        consent = self.consent(account.member_id)
        if consent is None or not consent.given:
            raise NoConsent(account.member_id)
        consent.withdraw(recorded_by=recorded_by, channel=channel, now=self._app.clock.now())
        self._app.save(consent)
        self._keep(account.member_id, statement)
        return consent

    def consent(self, member_id: str) -> Consent | None:
        try:
            found: Consent = self._app.repository.get(Consent.create_id(member_id))
        except AggregateNotFoundError:
            return None
        return found

    def check(self, actor: Identity, member: str) -> None:
        """The `Delegations` port: `actor` may act for `member`, or UnknownMember / NoConsent."""
        if actor.member_id == member:
            return
        account = self._member(member)
        consent = self.consent(account.member_id)
        if consent is None or not consent.given:
            raise NoConsent(account.member_id)

    def _member(self, member: str) -> Account:
        try:
            return self._app.accounts.account(member)
        except AccountNotFound:
            raise UnknownMember(member) from None

    def _keep(self, member_id: str, statement: str | None) -> None:
        if statement:
            self._app.personal_data.keep(member_id, {"consent_statement": statement.strip()})


def _check(channel: str, statement: str | None) -> None:
    if channel not in CHANNELS:
        raise InvalidMembership("channel", f"use one of {list(CHANNELS)}")
    if statement is not None and len(statement) > MAX_STATEMENT:
        raise InvalidMembership("statement", f"keep it under {MAX_STATEMENT} characters")
