"""The Starlette app: GraphQL at /graphql; /health, /ready and /metrics for operators;
a member's export at /me/export.

Nothing is created at import time: `create_app` returns an app whose lifespan builds the runtime
(applications, bus, relays, consumers) and closes it on exit.

The edge, from the outside in: CORS (only the configured origins), the correlation id, the body
size limit (413 before anything is parsed), then GraphQL, which refuses bodies that are not a
JSON object, runs each document off the server's loop within its time budget
(gateway/execution.py), under the document limits (gateway/documents.py) and the rate limits
(gateway/limits.py). GraphiQL, introspection and field suggestions are off unless the settings
turn them on (`muni up` does).
"""

from __future__ import annotations

import contextlib
import json
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from cross_web import HTTPException
from eventsourcing.persistence import PersistenceError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult

from contributions.reports_csv import report_csv_endpoint
from gateway.documents import OPERATION_NAME
from gateway.execution import BudgetExceeded, Executor
from gateway.export import export_endpoint
from gateway.guard import EDGE, Edge
from gateway.http import HEADER, BodyLimit, Correlate
from gateway.limits import LIMITS, RateLimiter
from gateway.live import ConnectionContext, Live
from gateway.observability import Metrics
from gateway.runtime import SERVICES, Runtime
from gateway.schema import build_schema
from gateway.web.app import WebApp
from kernel.api import Context
from kernel.auth import InvalidToken, verify
from kernel.bus.port import BusError
from kernel.keys import with_keys
from kernel.streams import TOKEN

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

    from cross_web import AsyncHTTPRequestAdapter
    from starlette.requests import HTTPConnection, Request
    from strawberry.http import GraphQLRequestData

    from kernel.config import Settings
    from kernel.time import Clock

NOT_AN_OBJECT = (
    'the request body must be a JSON object such as {"query": "{ me { id } }", "variables": {}}'
)


class MuniGraphQL(GraphQL[Context, None]):
    def __init__(
        self,
        runtime: Callable[[], Runtime],
        settings: Settings,
        *,
        executor: Executor,
        limiter: RateLimiter | None,
        metrics: Metrics,
        live: Live,
    ) -> None:
        super().__init__(
            build_schema(settings),
            graphql_ide="graphiql" if settings.gateway.graphiql_on else None,
            # Subscriptions over WebSocket, the maintained protocol only. The caps that answer
            # a typed refusal are kernel/streams.py's; strawberry's own (an untyped error) is
            # a backstop above them, counting queries sent over the socket too.
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            max_subscriptions_per_connection=2 * settings.gateway.subscriptions_per_connection,
            connection_init_wait_timeout=timedelta(seconds=10),
        )
        self._live = live
        self._runtime = runtime
        self._settings = settings
        self._executor = executor
        self._limiter = limiter
        self._metrics = metrics

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        return self.context_for(request, request.headers.get("authorization"))

    def context_for(self, request: Request | WebSocket, header: str | None) -> Context:
        """The Context of one request, for the `Authorization` header value `header` (the web
        app passes its session's token here: the same guard, audit and rate limits)."""
        runtime = self._runtime()
        socket = isinstance(request, WebSocket)
        context = (ConnectionContext if socket else Context)(
            settings=self._settings,
            apps=runtime.app_by_class(),
            audit=runtime.audit,
            extras=runtime.ports(),
        )
        if socket:
            context.extras.update(self._live.extras())
        address = request.client.host if request.client else None
        context.extras[EDGE] = Edge(address, self._limiter, self._metrics)
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
        if socket:
            self._live.sign_in_from_cookie(context, request)
        return context

    def live_context_for(self, request: Request, token: str) -> Context:
        """The Context of a live subscription a page runs for its member over server-sent
        events (gateway/web/live.py): as `context_for`, plus what subscriptions hold (the caps,
        the followers, a connection id of its own) and the token, checked again as updates go
        out, as on a WebSocket."""
        context = self.context_for(request, f"Bearer {token}")
        context.extras.update(self._live.extras())
        if context.identity is not None:
            context.extras[TOKEN] = token
        return context

    async def subscribe(
        self,
        context: Context,
        document: str,
        variables: dict[str, Any] | None,
        operation_name: str | None,
    ) -> AsyncIterator[ExecutionResult]:
        """Run subscription `document` on this schema (the same guard and extensions as over
        WebSocket): each update's ExecutionResult, until the stream ends or the caller stops
        iterating (which closes the subscription and gives back its slot)."""
        context.extras[OPERATION_NAME] = operation_name
        found = await self.schema.subscribe(
            document,
            variable_values=variables,
            context_value=context,
            operation_name=operation_name,
        )
        if isinstance(found, ExecutionResult):  # refused before it started (invalid, say)
            yield found
            return
        try:
            async for result in found:
                yield result
        finally:
            await found.aclose()

    async def on_ws_connect(self, context: Context) -> None:
        # The connection_init payload's token, if any, wins over the handshake's.
        if isinstance(context, ConnectionContext):
            self._live.sign_in_from_payload(context)

    async def run_document(
        self,
        context: Context,
        document: str,
        variables: dict[str, Any] | None,
        operation_name: str | None,
    ) -> ExecutionResult:
        """Execute `document` on this schema as `/graphql` would: within the time budget, off
        the server's loop, counted in the same metrics (the web app's client calls this)."""
        context.extras[OPERATION_NAME] = operation_name
        budget = self._settings.gateway.request_budget_s
        start = time.perf_counter()
        outcome = "refused"
        try:
            result = await self._executor.run(
                self.schema.execute(
                    document,
                    variable_values=variables,
                    context_value=context,
                    operation_name=operation_name,
                ),
                budget_s=budget,
            )
            outcome = "errors" if result.errors else "ok"
        except BudgetExceeded as exc:
            outcome = "timeout"
            return ExecutionResult(data=None, errors=[exc])
        finally:
            self._metrics.requests.labels(outcome).inc()
            self._metrics.request_seconds.observe(time.perf_counter() - start)
        return result

    def decode_json(self, data: str | bytes) -> object:
        # strawberry reads fields off the decoded body: a bare value ("hello", 5, null) would
        # be a 500. A list is a batch, which strawberry refuses itself (batching is off).
        decoded = json.loads(data)
        if not isinstance(decoded, dict | list):
            raise HTTPException(400, NOT_AN_OBJECT)
        return decoded

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        context.extras[OPERATION_NAME] = request_data.operation_name
        budget = self._settings.gateway.request_budget_s
        start = time.perf_counter()
        outcome = "refused"
        try:
            result = await self._executor.run(
                super().execute_single(
                    request, request_adapter, sub_response, context, root_value, request_data
                ),
                budget_s=budget,
            )
            outcome = "errors" if result.errors else "ok"
        except BudgetExceeded as exc:
            outcome = "timeout"
            return ExecutionResult(data=None, errors=[exc])
        finally:
            self._metrics.requests.labels(outcome).inc()
            self._metrics.request_seconds.observe(time.perf_counter() - start)
        return result


def create_app(
    settings: Settings,
    *,
    workers: tuple[str, ...] | None = None,
    clock: Clock | None = None,
    on_ready: Callable[[Runtime], None] | None = None,
    web_session: Callable[[HTTPConnection], str | None] | None = None,
) -> Starlette:
    """The gateway. `workers` are the services whose relays and consumers run in-process
    (default: all of them, the embedded mode); pass () for a gateway-only process.
    `web_session` reads a member's access token from the web app's session cookie, for
    subscriptions opened by a browser (gateway/live.py)."""
    # Keys first: a gateway that cannot verify tokens must not start (kernel/keys.py).
    settings = with_keys(settings)
    holder: dict[str, Runtime] = {}
    run_workers = tuple(SERVICES) if workers is None else workers
    edge = settings.gateway
    executor = Executor(edge.graphql_threads)
    limiter = RateLimiter(LIMITS, edge.rate_limit_storage) if edge.rate_limits else None

    def runtime() -> Runtime:
        return holder["runtime"]

    def readings() -> list[Any]:
        rt = holder.get("runtime")
        return rt.readings() if rt else []

    metrics = Metrics(readings)
    live = Live(settings, session=web_session)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        rt = Runtime.build(settings, workers=run_workers, clock=clock)
        rt.start()
        executor.start()
        holder["runtime"] = rt
        app.state.runtime = rt
        if on_ready is not None:
            on_ready(rt)
        try:
            yield
        finally:
            live.close()  # ends every live subscription's wait
            executor.stop()
            # Stop background work before closing stores, so nothing writes to a closed store.
            rt.stop()

    async def health(request: Request) -> Response:
        """Alive: the process answers. Says nothing of the stores or the broker (see /ready)."""
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

    async def ready(request: Request) -> Response:
        rt = holder.get("runtime")
        if rt is None:
            return JSONResponse({"status": "starting"}, status_code=503)
        report = await run_in_threadpool(readiness, rt, edge.ready_max_lag)
        return JSONResponse(report, status_code=200 if report["status"] == "ready" else 503)

    async def metrics_page(request: Request) -> Response:
        body = await run_in_threadpool(metrics.render)
        return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")

    graphql = MuniGraphQL(
        runtime, settings, executor=executor, limiter=limiter, metrics=metrics, live=live
    )
    web = WebApp(graphql, settings)
    app = Starlette(
        routes=[
            Route("/health", health),
            Route("/healthz", health),
            Route("/ready", ready),
            Route("/metrics", metrics_page),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/me/export", export_endpoint(lambda r: graphql.get_context(r, None))),
            Route(
                "/reports/contributions/{period}/{part}.csv",
                report_csv_endpoint(lambda r: graphql.get_context(r, None)),
            ),
            # The web app at / (gateway/web/), after the paths above, which keep theirs.
            *web.routes(),
        ],
        exception_handlers=web.exception_handlers(),
        middleware=[
            Middleware(
                CORSMiddleware,
                allow_origins=list(edge.cors_origins),
                allow_methods=["GET", "POST"],
                allow_headers=["authorization", "content-type", HEADER],
                expose_headers=[HEADER],
                max_age=600,
            ),
            Middleware(Correlate),
            Middleware(BodyLimit, max_bytes=edge.max_body_bytes),
        ],
        lifespan=lifespan,
    )
    app.state.web = web
    app.state.limiter = limiter  # None when MUNI_RATE_LIMITS=off
    return app


def readiness(rt: Runtime, max_lag: int) -> dict[str, Any]:
    """Every store answers; where this process relays or consumes, the broker answers too and
    nothing is more than `max_lag` behind. (A gateway-only process writes to the stores only:
    a broker outage does not stop it taking commands, so it stays ready.)"""
    problems: list[str] = []
    for name, app in rt.apps.items():
        try:
            app.recorder.max_notification_id()
        except PersistenceError as exc:
            problems.append(f"store {name}: {str(exc).splitlines()[0] if str(exc) else exc!r}")
    readings = []
    if rt.relays or rt.consumers or rt.reading_sources:
        try:
            readings = rt.readings()
        except BusError as exc:
            problems.append(f"bus: {exc}")
    for reading in readings:
        if reading.error:
            problems.append(f"{reading.name}: {reading.error}")
        elif reading.lag > max_lag:
            problems.append(
                f"{reading.name} is {reading.lag} {reading.unit} behind (at most {max_lag})"
            )
    return {
        "status": "not ready" if problems else "ready",
        "problems": problems,
        "max_lag": max_lag,
        "readings": [r.as_dict() for r in readings],
    }
