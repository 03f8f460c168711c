"""The Starlette app: GraphQL (with GraphiQL) at /graphql, health at /healthz, a member's
export at /me/export.

Nothing is created at import time: `create_app` returns an app whose lifespan builds the runtime
(applications, bus, relays, consumers) and closes it on exit.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
from strawberry.asgi import GraphQL

from gateway.export import export_endpoint
from gateway.runtime import SERVICES, Runtime
from gateway.schema import build_schema
from kernel.api import Context
from kernel.auth import InvalidToken, verify
from kernel.keys import with_keys

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.websockets import WebSocket

    from kernel.config import Settings
    from kernel.time import Clock


class MuniGraphQL(GraphQL[Context, None]):
    def __init__(self, runtime: Callable[[], Runtime], settings: Settings) -> None:
        super().__init__(build_schema(), graphql_ide="graphiql")
        self._runtime = runtime
        self._settings = settings

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        runtime = self._runtime()
        context = Context(
            settings=self._settings,
            apps=runtime.app_by_class(),
            audit=runtime.audit,
            extras=runtime.ports(),
        )
        header = request.headers.get("authorization")
        if header:
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                context.auth_problem = "Authorization header must be 'Bearer <token>'"
            else:
                try:
                    context.identity = verify(
                        token.strip(), self._settings.signing_key, city=self._settings.city
                    )
                except InvalidToken as exc:
                    context.auth_problem = str(exc)
        return context


def create_app(
    settings: Settings,
    *,
    workers: tuple[str, ...] | None = None,
    clock: Clock | None = None,
    on_ready: Callable[[Runtime], None] | None = None,
) -> Starlette:
    """The gateway. `workers` are the services whose relays and consumers run in-process
    (default: all of them, the embedded mode); pass () for a gateway-only process."""
    # Keys first: a gateway that cannot verify tokens must not start (kernel/keys.py).
    settings = with_keys(settings)
    holder: dict[str, Runtime] = {}
    run_workers = tuple(SERVICES) if workers is None else workers

    def runtime() -> Runtime:
        return holder["runtime"]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        rt = Runtime.build(settings, workers=run_workers, clock=clock)
        rt.start()
        holder["runtime"] = rt
        app.state.runtime = rt
        if on_ready is not None:
            on_ready(rt)
        try:
            yield
        finally:
            # Stop background work before closing stores, so nothing writes to a closed store.
            rt.stop()

    async def healthz(request: Request) -> Response:
        rt = holder.get("runtime")
        return JSONResponse(
            {
                "status": "ok" if rt else "starting",
                "city": settings.city,
                "persistence": settings.persistence,
                "bus": settings.bus,
                "workers": list(rt.workers) if rt else [],
            }
        )

    graphql = MuniGraphQL(runtime, settings)
    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/me/export", export_endpoint(lambda r: graphql.get_context(r, None))),
        ],
        lifespan=lifespan,
    )
