"""The web app's session: an encrypted, HttpOnly cookie holding the member's tokens, the CSRF
token and the notices to show on the next page.

The cookie is sealed with Fernet (AES-CBC + HMAC, from `cryptography`) under a key derived from
the gateway's signing key, so every gateway replica reads every other's cookies and a page's
JavaScript never sees a token (HttpOnly). SameSite=Lax keeps it off cross-site POSTs; Secure
is set whenever the page was served over https. The CSRF token is a random value kept inside
the sealed cookie and sent in every form (and in htmx's `X-CSRF-Token` header); a POST without
the same value is refused (synchroniser token, `gateway/web/routing.py`).
"""

from __future__ import annotations

import base64
import hmac
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

if TYPE_CHECKING:
    from pydantic import SecretStr
    from starlette.requests import Request
    from starlette.responses import Response

COOKIE = "muni_session"
LANGUAGE_COOKIE = "muni_lang"
# A session lasts as long as the refresh token it holds can (the city's refresh_token_days is
# at most 365); the cookie of a visitor carries only their CSRF token and notices.
MAX_AGE_S = 365 * 24 * 3600
LANGUAGE_MAX_AGE_S = 365 * 24 * 3600
# The access token is refreshed this long before it expires, so a page's queries never race it.
REFRESH_MARGIN_S = 30


@dataclass(frozen=True)
class Notice:
    """A message for the next page (after a redirect): `kind` is info, success or error."""

    message: str
    kind: str = "info"


@dataclass
class Session:
    """What one browser's cookie holds. `changed` says whether it must be written back."""

    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    member_id: str | None = None
    roles: tuple[str, ...] = ()
    access_token: str | None = None
    access_expires_at: float = 0.0  # epoch seconds
    refresh_token: str | None = None
    notices: list[Notice] = field(default_factory=list)
    changed: bool = False
    # A dispatcher acting for a member (actForMember): the member, their delegated token and
    # when it ends. The member's pages use it; the desk's own pages keep the dispatcher's.
    acting_for: str | None = None
    acting_token: str | None = None
    acting_expires_at: float = 0.0

    @property
    def signed_in(self) -> bool:
        return self.member_id is not None and self.refresh_token is not None

    def holds(self, role: str) -> bool:
        return self.signed_in and role in self.roles

    def access_expired(self, now: float | None = None) -> bool:
        now = time.time() if now is None else now
        return self.access_token is None or now >= self.access_expires_at - REFRESH_MARGIN_S

    def sign_in(
        self,
        *,
        member_id: str,
        roles: list[str],
        access_token: str,
        access_expires_at: float,
        refresh_token: str,
    ) -> None:
        """Keep a new pair of tokens. A fresh CSRF token too: one known before sign-in (a
        visitor's) is never the one of a member's session."""
        self.member_id = member_id
        self.roles = tuple(roles)
        self.access_token = access_token
        self.access_expires_at = access_expires_at
        self.refresh_token = refresh_token
        self.csrf = secrets.token_urlsafe(32)
        self.changed = True

    def sign_out(self) -> None:
        """Forget the tokens (the notices stay, to say why)."""
        self.member_id = None
        self.roles = ()
        self.access_token = None
        self.access_expires_at = 0.0
        self.refresh_token = None
        self.acting_for, self.acting_token, self.acting_expires_at = None, None, 0.0
        self.csrf = secrets.token_urlsafe(32)
        self.changed = True

    def start_acting(self, member_id: str, token: str, expires_at: float) -> None:
        self.acting_for, self.acting_token, self.acting_expires_at = member_id, token, expires_at
        self.changed = True

    def stop_acting(self) -> None:
        self.acting_for, self.acting_token, self.acting_expires_at = None, None, 0.0
        self.changed = True

    def acting(self, now: float | None = None) -> bool:
        """True while acting for a member with a token that has not run out."""
        now = time.time() if now is None else now
        return self.acting_for is not None and now < self.acting_expires_at - REFRESH_MARGIN_S

    def notify(self, message: str, kind: str = "info") -> None:
        self.notices.append(Notice(message, kind))
        self.changed = True

    def take_notices(self) -> list[Notice]:
        taken, self.notices = self.notices, []
        if taken:
            self.changed = True
        return taken

    def csrf_matches(self, sent: str | None) -> bool:
        if not sent:
            return False
        return hmac.compare_digest(sent.encode(), self.csrf.encode())

    def as_dict(self) -> dict[str, Any]:
        return {
            "c": self.csrf,
            "m": self.member_id,
            "r": list(self.roles),
            "a": self.access_token,
            "e": self.access_expires_at,
            "t": self.refresh_token,
            "n": [[n.message, n.kind] for n in self.notices],
            "af": self.acting_for,
            "at": self.acting_token,
            "ax": self.acting_expires_at,
        }

    @classmethod
    def of(cls, data: dict[str, Any]) -> Session:
        return cls(
            csrf=str(data["c"]),
            member_id=data.get("m"),
            roles=tuple(data.get("r") or ()),
            access_token=data.get("a"),
            access_expires_at=float(data.get("e") or 0.0),
            refresh_token=data.get("t"),
            notices=[Notice(str(m), str(k)) for m, k in data.get("n") or []],
            acting_for=data.get("af"),
            acting_token=data.get("at"),
            acting_expires_at=float(data.get("ax") or 0.0),
        )


class Sessions:
    """Reads and writes sealed session cookies with a key derived from `signing_key`."""

    def __init__(self, signing_key: SecretStr) -> None:
        derived = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"muni web session v1"
        ).derive(signing_key.get_secret_value().encode())
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))

    def load(self, request: Request) -> Session:
        """The request's session; a new one (to be written) when there is none or it does not
        open (another key, tampered, older than MAX_AGE_S)."""
        sealed = request.cookies.get(COOKIE)
        if sealed:
            try:
                data = json.loads(self._fernet.decrypt(sealed.encode(), ttl=MAX_AGE_S))
                return Session.of(data)
            except (InvalidToken, ValueError, KeyError, TypeError):
                pass
        return Session(changed=True)

    def seal(self, session: Session) -> str:
        return self._fernet.encrypt(json.dumps(session.as_dict()).encode()).decode()

    def store(self, request: Request, response: Response, session: Session) -> None:
        """Write the session into `response` if it changed."""
        if not session.changed:
            return
        response.set_cookie(
            COOKIE,
            self.seal(session),
            max_age=MAX_AGE_S,
            path="/",
            httponly=True,
            samesite="lax",
            secure=is_https(request),
        )


def is_https(request: Request) -> bool:
    """Served over https (uvicorn sets the scheme from X-Forwarded-Proto behind a trusted
    proxy, with --proxy-headers)."""
    return request.url.scheme == "https"


def remember_language(request: Request, response: Response, language: str) -> None:
    """The visitor's language, in a cookie of its own (it is no secret, and survives sign-out)."""
    response.set_cookie(
        LANGUAGE_COOKIE,
        language,
        max_age=LANGUAGE_MAX_AGE_S,
        path="/",
        httponly=True,
        samesite="lax",
        secure=is_https(request),
    )
