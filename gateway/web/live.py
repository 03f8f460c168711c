"""Live pages over server-sent events: a GraphQL subscription run as the signed-in member,
each update sent as an HTML fragment that htmx-ext-sse swaps into an `aria-live` region.

A page's live route (`/live/rides/<id>`, `/live/driver`) calls `WebRequest.subscribe`, which
runs the subscription in-process through the same schema, guard and caps as a WebSocket on
/graphql (a page never reads a store), and answers `event_stream(...)`:

- each update is rendered by the page's `render` into one `update` event (`sse-swap="update"`);
- `render` may say the stream is over (a ride completed, a typed refusal such as
  `TooManySubscriptions`): a `close` event follows (`sse-close="close"`), so the browser does
  not open it again;
- when the member's access token expires mid-stream the subscription answers
  `NotAuthenticated` and the stream just ends: the browser reconnects (EventSource does), and
  the new request refreshes the token as any page does;
- when the browser goes away the stream is cancelled at once, which closes the subscription
  and gives its slot back (`EventStream` always listens for the disconnect).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio
from starlette.responses import StreamingResponse

from gateway.web.client import GraphQLFailure
from gateway.web.routing import CSRF_FIELD

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

    from starlette.types import Receive, Scope, Send

    from gateway.web.routing import WebRequest

log = logging.getLogger("gateway.web")

UPDATE = "update"
CLOSE = "close"
# How long the browser waits before reconnecting a stream that ended without `close`.
RETRY_MS = 2000


@dataclass(frozen=True)
class Fragment:
    """What one update shows, and whether the stream ends after it."""

    html: str
    final: bool = False


def fragment(page: WebRequest, template: str, **context: Any) -> str:
    """A partial template rendered in the page's language (no layout), with the session's
    CSRF token for the forms it holds."""
    env = page.web.environments[page.language]
    return env.get_template(template).render(
        csrf=page.session.csrf, csrf_field=CSRF_FIELD, **context
    )


def event(name: str, data: str) -> str:
    """One server-sent event: every line of `data` on a `data:` line of its own."""
    lines = data.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return f"event: {name}\n" + "".join(f"data: {line}\n" for line in lines) + "\n"


class EventStream(StreamingResponse):
    """A text/event-stream response that is cancelled as soon as the client disconnects,
    whatever the server's ASGI version (Starlette's own stops listening from ASGI 2.4 on, and
    would notice only at the next write, which may be a long time away on a quiet ride)."""

    media_type = "text/event-stream"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async with anyio.create_task_group() as group:

            async def stream_then_stop() -> None:
                await self.stream_response(send)
                group.cancel_scope.cancel()

            async def stop_on_disconnect() -> None:
                while (await receive())["type"] != "http.disconnect":
                    pass
                group.cancel_scope.cancel()

            group.start_soon(stream_then_stop)
            group.start_soon(stop_on_disconnect)


def event_stream(
    updates: AsyncIterator[dict[str, Any]],
    render: Callable[[dict[str, Any]], Fragment | None],
    *,
    failed: Callable[[], str],
) -> EventStream:
    """An EventStream of `updates` rendered by `render` (None: nothing to show, the stream
    ends and the browser reconnects). `failed` renders what an unexpected error shows."""

    async def body() -> AsyncIterator[str]:
        yield f"retry: {RETRY_MS}\n\n"
        try:
            # No keep-alive timer around the wait: cancelling a pending update would end the
            # subscription itself. The disconnect listener (EventStream) ends it when it must.
            async for data in updates:
                fragment = render(data)
                if fragment is None:
                    return
                yield event(UPDATE, fragment.html)
                if fragment.final:
                    yield event(CLOSE, "")
                    return
            # Ended without a final update (an expired token): the browser reconnects.
        except GraphQLFailure as exc:
            log.error("live stream: %s", exc)
            yield event(UPDATE, failed())
            yield event(CLOSE, "")
        finally:
            await updates.aclose()  # type: ignore[attr-defined]

    return EventStream(body(), headers={"X-Accel-Buffering": "no"})
