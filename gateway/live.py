"""Live subscriptions at the edge: who a WebSocket connection is, and what its context holds.

GraphQL subscriptions run over WebSocket on /graphql with the graphql-transport-ws protocol
(the `graphql-ws` npm client's). A connection signs in once, in either of two ways:

- the access token in the `connection_init` payload: `{"authorization": "Bearer <token>"}`
  (or `{"token": "<token>"}`), as GraphQL clients send it;
- the web app's session cookie on the handshake (a browser cannot set headers on a
  WebSocket): `SessionReader`, pluggable, turns the cookie into a token. It is believed only
  when the handshake's Origin is this host or an allowed CORS origin: another site's page could
  otherwise open a socket that carries the member's cookie (cross-site WebSocket hijacking).

A token that does not verify is not a closed socket: every subscription on that connection
answers `NotAuthenticated` with the reason, as /graphql does over HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from uuid import uuid4

from kernel.api import Context
from kernel.auth import InvalidToken, verify
from kernel.readside.follow import Followers
from kernel.streams import CONNECTION, FOLLOWERS, SLOTS, TOKEN, Slots

if TYPE_CHECKING:
    from collections.abc import Callable

    from starlette.requests import HTTPConnection

    from kernel.config import Settings


@dataclass
class ConnectionContext(Context):
    """A WebSocket connection's context: strawberry puts the `connection_init` payload here."""

    connection_params: dict[str, Any] | None = None


class Live:
    """The process's live-subscription machinery: the caps and the read-model followers."""

    def __init__(
        self,
        settings: Settings,
        *,
        session: Callable[[HTTPConnection], str | None] | None = None,
    ) -> None:
        """`session` turns a handshake's cookies into an access token (the web app's session
        reader), or None where there is no web app."""
        edge = settings.gateway
        self.settings = settings
        self.slots = Slots(
            per_member=edge.subscriptions_per_member,
            per_connection=edge.subscriptions_per_connection,
        )
        self.followers = Followers(poll_s=edge.follow_poll_s)
        self.session = session

    def extras(self) -> dict[str, Any]:
        """What a context that may run subscriptions holds (a connection's, or the web app's
        server-sent-events bridge's)."""
        return {SLOTS: self.slots, FOLLOWERS: self.followers, CONNECTION: uuid4().hex}

    def sign_in_from_cookie(self, context: Context, connection: HTTPConnection) -> None:
        """At the handshake: the session cookie's token, if the page is ours."""
        if self.session is None or context.identity is not None or context.auth_problem:
            return
        if not self._same_origin(connection):
            return
        token = self.session(connection)
        if token:
            self.sign_in(context, token)

    def sign_in_from_payload(self, context: ConnectionContext) -> None:
        """At `connection_init`: the payload's token wins over the cookie's."""
        payload = context.connection_params or {}
        raw = payload.get("authorization", payload.get("Authorization", payload.get("token")))
        if raw is None:
            return
        if not isinstance(raw, str) or not raw.strip():
            context.identity, context.extras[TOKEN] = None, None
            context.auth_problem = "connection_init's authorization must be 'Bearer <token>'"
            return
        scheme, _, rest = raw.strip().partition(" ")
        token = rest.strip() if scheme.lower() == "bearer" else raw.strip()
        self.sign_in(context, token)

    def sign_in(self, context: Context, token: str) -> None:
        try:
            context.identity = verify(token, self.settings.signing_key, city=self.settings.city)
        except InvalidToken as exc:
            context.identity, context.auth_problem = None, str(exc)
            context.extras.pop(TOKEN, None)
            return
        context.auth_problem = None
        context.extras[TOKEN] = token

    def close(self) -> None:
        self.followers.close()

    def _same_origin(self, connection: HTTPConnection) -> bool:
        origin = connection.headers.get("origin")
        if origin is None:
            return False  # browsers always send it on a WebSocket handshake
        origin = origin.rstrip("/")
        if origin in self.settings.gateway.cors_origins:
            return True
        host = connection.headers.get("host")
        return host is not None and urlsplit(origin).netloc == host
