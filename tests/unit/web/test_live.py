"""The server-sent events a live page sends: the framing of an HTML fragment, `close` after the
last update, no `close` when the stream must be opened again (an expired token), and an error
shown as a fragment."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gateway.web.client import GraphQLFailure
from gateway.web.live import Fragment, event, event_stream

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable


def test_every_line_of_a_fragment_is_a_data_line() -> None:
    assert (
        event("update", "<p>a</p>\r\n<p>b</p>")
        == "event: update\ndata: <p>a</p>\ndata: <p>b</p>\n\n"
    )


async def _updates(*items: dict[str, Any] | Exception) -> AsyncIterator[dict[str, Any]]:
    for item in items:
        if isinstance(item, Exception):
            raise item
        yield item


async def _sent(
    updates: AsyncIterator[dict[str, Any]], render: Callable[[dict[str, Any]], Fragment | None]
) -> str:
    response = event_stream(updates, render, failed=lambda: "<p>stopped</p>")
    assert response.media_type == "text/event-stream"
    chunks = [chunk async for chunk in response.body_iterator]
    return "".join(c if isinstance(c, str) else bytes(c).decode() for c in chunks)


def _render(data: dict[str, Any]) -> Fragment | None:
    if data["n"] is None:
        return None
    return Fragment(f"<p>{data['n']}</p>", final=data["n"] == 2)


async def test_the_last_update_is_followed_by_close() -> None:
    sent = await _sent(_updates({"n": 1}, {"n": 2}, {"n": 3}), _render)
    assert sent == (
        "retry: 2000\n\n"
        "event: update\ndata: <p>1</p>\n\n"
        "event: update\ndata: <p>2</p>\n\n"
        "event: close\ndata: \n\n"
    )  # nothing after the final one


async def test_a_stream_to_open_again_ends_without_close() -> None:
    sent = await _sent(_updates({"n": 1}, {"n": None}, {"n": 2}), _render)
    assert sent == "retry: 2000\n\nevent: update\ndata: <p>1</p>\n\n"


async def test_an_error_is_shown_and_closes_the_stream() -> None:
    failure = GraphQLFailure("rider/rideUpdates", ["boom"])
    sent = await _sent(_updates({"n": 1}, failure), _render)
    assert sent.endswith("event: update\ndata: <p>stopped</p>\n\nevent: close\ndata: \n\n")
