"""Signing up and signing in: passwords, one-time codes, rotating refresh tokens.

The use cases of `Members.accounts`. A sign-in (by password or by code) starts a `Session` and
answers `Tokens`: an access token for minutes (kernel/auth.py), carrying the roles the record
shows at that moment, and a refresh token that is exchanged for a new pair at every use.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from kernel.auth import Identity, mint
from kernel.eventstore import retry_on_conflict
from kernel.ids import InvalidId, home_city, member_id
from kernel.personal import PASSWORD_HASH
from kernel.time import SystemClock
from services.members import identifiers
from services.members.account import Account, AccountNotFound, Login
from services.members.domain import InvalidMembership, MembersError
from services.members.passwords import Passwords
from services.members.session import RefreshTokenInvalid, RefreshTokenReused, Session
from services.members.signin_code import SignInCode, new_code, normalise

if TYPE_CHECKING:
    from datetime import datetime

    from kernel.cities import AccountsPolicy
    from services.members.application import Members
    from services.members.identifiers import Identifier
    from services.members.ports import Detail

# A code signs in as the member, so it is never issued for someone whose account sees or acts on
# other members' data: a desk worker could otherwise sign in as the board.
NO_CODES_FOR = frozenset({"board", "dispatcher", "librarian", "safety", "regulator"})


class InvalidCredentials(MembersError):
    def __init__(self) -> None:
        super().__init__("the login, password or code is not right")


class LoginTaken(MembersError):
    def __init__(self, kind: str) -> None:
        super().__init__(f"an account with this {kind} exists already: sign in instead")
        self.kind = kind


class CodeNotAllowed(MembersError):
    def __init__(self, member_id: str, roles: list[str]) -> None:
        super().__init__(
            f"no sign-in codes for {member_id}: the account holds {roles}, which see or act on "
            "other members' data; they sign in with their password"
        )
        self.member_id = member_id


@dataclass(frozen=True)
class Tokens:
    member_id: str
    city: str
    roles: tuple[str, ...]
    access_token: str
    access_expires_at: datetime
    refresh_token: str


@dataclass(frozen=True)
class IssuedCode:
    member_id: str
    code: str
    expires_at: datetime


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class Accounts:
    def __init__(self, app: Members) -> None:
        self._app = app
        self._passwords = Passwords(cheap=app.settings.cheap_password_hashing)
        # Access tokens are checked against the wall clock by every verifier, so they are
        # minted at it too; sessions and codes expire on the application's clock.
        self._wall = SystemClock()

    @property
    def _policy(self) -> AccountsPolicy:
        return self._app.city.accounts

    # -- sign-up and sign-in --------------------------------------------------------------------
    def sign_up(
        self,
        *,
        display_name: str,
        password: str,
        email: str | None = None,
        phone: str | None = None,
    ) -> Tokens:
        """Open an account (and the member it belongs to) and sign in."""
        given = self._identifiers(email, phone)
        member = self._app.new_member(display_name)
        key = self._app.settings.hashing_key
        now = self._app.clock.now()
        pointers: list[Login] = []
        for identifier in given:
            pointer_id = Login.id_for(identifier.digest(key))
            earlier = self._pointer(pointer_id)
            if earlier is None:
                pointers.append(
                    Login(id=pointer_id, kind=identifier.kind, member_id=member.member_id)
                )
            elif earlier.released:
                # Its member erased their data: the identifier is free to join again.
                earlier.claim(member.member_id, now=now)
                pointers.append(earlier)
            else:
                raise LoginTaken(identifier.kind)
        account = Account(
            member_id=member.member_id,
            city=member.city,
            logins={p.kind: p.id.hex for p in pointers},
            password_hash="",  # in the vault, so an erasure destroys it (see _keep_password)
            opened_at=now,
        )
        session, refresh = self._start(account, via="password")
        # The hash first: a crash before the save leaves a sealed row nobody can reach, never
        # an account without its password.
        self._keep_password(member.member_id, password)
        try:
            self._app.save(member, account, *pointers, session)
        except IntegrityError:
            # Another sign-up with the same identifier was stored first; nothing of this one was.
            self._app.personal.erase(member.member_id)
            raise LoginTaken(given[0].kind) from None
        details: dict[Detail, str] = {"display_name": display_name.strip()}
        details.update({i.kind: i.value for i in given})
        self._app.personal_data.keep(member.member_id, details)
        return self._tokens(account, refresh)

    def sign_in(self, login: str, password: str) -> Tokens:
        """Sign in with an email or phone and the password; InvalidCredentials names neither."""
        account = self._by_login(login)
        stored = self._password_hash(account) if account else None
        if account is None or stored is None or not self._passwords.matches(stored, password):
            raise InvalidCredentials
        if account.password_hash:
            # An account opened before hashes moved to the vault: move it now.
            self._keep_password(account.member_id, password)
            account.forget_password_hash(now=self._app.clock.now())
        elif self._passwords.needs_rehash(stored):
            self._keep_password(account.member_id, password)
        session, refresh = self._start(account, via="password")
        self._app.save(account, session)
        return self._tokens(account, refresh)

    # -- the password's hash, kept in the member's vault ----------------------------------------
    # Sealed under the member's own key, so erasing their data destroys it with the rest;
    # never in an event, never in their export.
    def _keep_password(self, member: str, password: str) -> None:
        self._app.personal.put(member, PASSWORD_HASH, self._passwords.hash(password))

    def _password_hash(self, account: Account) -> str | None:
        return account.password_hash or self._app.personal.get(account.member_id, PASSWORD_HASH)

    def find_member(self, login: str) -> str:
        """The member id behind an email or phone (for the desk, when a member phones)."""
        account = self._by_login(login)
        if account is None:
            raise AccountNotFound("with that email or phone")
        return account.member_id

    # -- one-time codes -------------------------------------------------------------------------
    def issue_code(self, *, by: str, member: str) -> IssuedCode:
        account = self.account(member)
        if account.closed:
            raise AccountNotFound(member)  # erased: there is nobody to sign in as
        privileged = sorted(set(account.roles) & NO_CODES_FOR)
        if privileged:
            raise CodeNotAllowed(account.member_id, privileged)
        now = self._app.clock.now()
        expires_at = now + timedelta(hours=self._policy.sign_in_code_hours)
        while True:
            code = new_code()
            record = SignInCode(
                id=self._code_id(code),
                member_id=account.member_id,
                issued_by=by,
                issued_at=now,
                expires_at=expires_at,
            )
            try:
                self._app.save(record)
            except IntegrityError:  # pragma: no cover (50 random bits met an earlier code)
                continue
            return IssuedCode(account.member_id, code, expires_at)

    def sign_in_with_code(self, code: str) -> Tokens:
        normal = normalise(code)
        if normal is None:
            raise InvalidCredentials

        def use() -> Tokens:
            try:
                record: SignInCode = self._app.repository.get(self._code_id(normal))
            except AggregateNotFoundError:
                raise InvalidCredentials from None
            record.use(now=self._app.clock.now())
            account = self.account(record.member_id)
            if account.closed:
                raise InvalidCredentials  # a code handed out before the member was erased
            session, refresh = self._start(account, via=f"code issued by {record.issued_by}")
            self._app.save(record, session)
            return self._tokens(account, refresh)

        # Two sign-ins with one code at once: the second save is refused, and its retry, from
        # fresh state, finds the code used.
        return retry_on_conflict(use)

    # -- refresh and sign-out -------------------------------------------------------------------
    def refresh(self, refresh_token: str) -> Tokens:
        """Exchange a refresh token for a new pair (see services/members/session.py)."""
        session_id, generation, secret = _parse_refresh(refresh_token)

        def rotate() -> Tokens:
            try:
                session: Session = self._app.repository.get(session_id)
            except AggregateNotFoundError:
                raise RefreshTokenInvalid from None
            now = self._app.clock.now()
            if session.is_replay(generation):
                session.revoke_for_reuse(now=now)
                self._app.save(session)
                raise RefreshTokenReused
            account = self.account(session.member_id)
            fresh = secrets.token_urlsafe(32)
            new_generation = session.rotate(
                generation=generation,
                token_hash=_hash(secret),
                new_hash=_hash(fresh),
                epoch=account.session_epoch,
                now=now,
                expires_at=now + timedelta(days=self._policy.refresh_token_days),
            )
            self._app.save(session)
            return self._tokens(account, f"{session.id.hex}.{new_generation}.{fresh}")

        return retry_on_conflict(rotate)

    def sign_out(self, refresh_token: str) -> str:
        """End the one session `refresh_token` belongs to (this browser, this phone); its
        member's other sessions go on. Returns the member id."""
        session_id, generation, secret = _parse_refresh(refresh_token)

        def end() -> str:
            try:
                session: Session = self._app.repository.get(session_id)
            except AggregateNotFoundError:
                raise RefreshTokenInvalid from None
            if session.sign_out(
                generation=generation, token_hash=_hash(secret), now=self._app.clock.now()
            ):
                self._app.save(session)
            return str(session.member_id)

        return retry_on_conflict(end)

    def sign_out_everywhere(self, member: str) -> None:
        """Revoke every refresh token of the member; access tokens out run out in minutes."""

        def sign_out() -> None:
            account = self.account(member)
            account.sign_out_everywhere(now=self._app.clock.now())
            self._app.save(account)

        retry_on_conflict(sign_out)

    def choose_language(self, member: str, language: str) -> Account:
        """Remember the member's language for the web app: one of the city's `languages`
        (InvalidMembership on `language` otherwise). Choosing it again records nothing."""
        offered = self._app.city.languages
        if language not in offered:
            raise InvalidMembership("language", f"choose one of {', '.join(offered)}")

        def choose() -> Account:
            account = self.account(member)
            if account.choose_language(language, now=self._app.clock.now()):
                self._app.save(account)
            return account

        return retry_on_conflict(choose)

    # -- reading --------------------------------------------------------------------------------
    def account(self, member: str) -> Account:
        """The account of a member of this city; AccountNotFound otherwise."""
        try:
            ref = member_id(member)
        except InvalidId:
            raise AccountNotFound(member) from None
        if home_city(ref) != self._app.city.id:
            raise AccountNotFound(member)
        try:
            found: Account = self._app.repository.get(Account.create_id(ref))
        except AggregateNotFoundError:
            raise AccountNotFound(member) from None
        return found

    def access_token(self, account: Account) -> tuple[str, datetime]:
        """A token with the roles the record shows now, and when it expires."""
        now = self._wall.now()
        ttl = timedelta(minutes=self._policy.access_token_minutes)
        identity = Identity(account.member_id, account.city, frozenset(account.roles))
        return mint(identity, self._app.settings.signing_key, now=now, ttl=ttl), now + ttl

    # -- helpers --------------------------------------------------------------------------------
    def _identifiers(self, email: str | None, phone: str | None) -> list[Identifier]:
        given = []
        if email:
            given.append(identifiers.email(email))
        if phone:
            given.append(identifiers.phone(phone, region=self._policy.phone_region))
        if not given:
            raise InvalidMembership("email", "give an email address or a phone number")
        return given

    def _by_login(self, login: str) -> Account | None:
        """The open account an email or phone leads to (None: none, or its member erased
        their data)."""
        try:
            identifier = identifiers.login(login, region=self._policy.phone_region)
        except InvalidMembership:
            return None
        key = self._app.settings.hashing_key
        pointer = self._pointer(Login.id_for(identifier.digest(key)))
        if pointer is None or pointer.released:
            return None
        account = self.account(pointer.member_id)
        return None if account.closed else account

    def _pointer(self, pointer_id: UUID) -> Login | None:
        try:
            found: Login = self._app.repository.get(pointer_id)
        except AggregateNotFoundError:
            return None
        return found

    def close_sign_ins(self, member: str) -> None:
        """After an erasure: release the member's logins (their email or phone reaches nobody
        and may join again), forget the password hash and end every session. Idempotent."""

        def close() -> None:
            account = self.account(member)
            now = self._app.clock.now()
            pointers = [self._pointer(UUID(hex=pid)) for pid in account.logins.values()]
            released = [p for p in pointers if p is not None and p.release(now=now)]
            if account.close_sign_ins(now=now) or released:
                self._app.save(account, *released)

        retry_on_conflict(close)

    def _code_id(self, code: str) -> UUID:
        normal = normalise(code) or code
        digest = identifiers.keyed_digest(self._app.settings.hashing_key, f"code:{normal}")
        return SignInCode.id_for(digest)

    def _start(self, account: Account, *, via: str) -> tuple[Session, str]:
        now = self._app.clock.now()
        secret = secrets.token_urlsafe(32)
        session = Session(
            id=uuid4(),
            member_id=account.member_id,
            epoch=account.session_epoch,
            token_hash=_hash(secret),
            via=via,
            started_at=now,
            expires_at=now + timedelta(days=self._policy.refresh_token_days),
        )
        return session, f"{session.id.hex}.0.{secret}"

    def _tokens(self, account: Account, refresh_token: str) -> Tokens:
        access, expires_at = self.access_token(account)
        return Tokens(
            member_id=account.member_id,
            city=account.city,
            roles=tuple(sorted(account.roles)),
            access_token=access,
            access_expires_at=expires_at,
            refresh_token=refresh_token,
        )


def _parse_refresh(token: str) -> tuple[UUID, int, str]:
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise RefreshTokenInvalid
    if not parts[1].isdigit():
        raise RefreshTokenInvalid
    try:
        return UUID(hex=parts[0]), int(parts[1]), parts[2]
    except ValueError:
        raise RefreshTokenInvalid from None
