"""Serve an ASGI app with uvicorn on a thread, for tests that need real, concurrent HTTP
(Starlette's TestClient runs one request at a time, so it cannot show one request stalling
another)."""

from __future__ import annotations

import contextlib
import threading
import time
from typing import TYPE_CHECKING

import uvicorn

from tests.support.servers import free_port

if TYPE_CHECKING:
    from collections.abc import Iterator

    from starlette.types import ASGIApp


@contextlib.contextmanager
def serving(app: ASGIApp, *, timeout_s: float = 30.0) -> Iterator[str]:
    """Run `app` (lifespan included) until the block ends; yield its base URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout_s
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=timeout_s)
