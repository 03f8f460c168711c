"""At every root field: the rate limit (gateway/limits.py), then the resolver, timed and
counted by the type it answered (gateway/observability.py).

Nested fields pass straight through: a root field is one operation a client asked for, and
what it costs to answer is known there.
"""

from __future__ import annotations

import inspect
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from strawberry.extensions import SchemaExtension

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from graphql import GraphQLResolveInfo

    from gateway.limits import RateLimiter
    from gateway.observability import Metrics

# The key of the request's `Edge` in `Context.extras`.
EDGE = "edge"


@dataclass(frozen=True)
class Edge:
    """What the gateway knows of one request beyond the domain's context."""

    address: str | None
    limiter: RateLimiter | None
    metrics: Metrics | None


class RootGuard(SchemaExtension):
    def resolve(
        self,
        _next: Callable[..., Any],
        root: Any,
        info: GraphQLResolveInfo[Any],
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        if info.path.prev is not None:
            return _next(root, info, *args, **kwargs)
        context = info.context
        edge: Edge | None = getattr(context, "extras", {}).get(EDGE)
        operation = info.field_name
        if edge is not None and edge.limiter is not None and edge.limiter.limits(operation):
            identity = getattr(context, "identity", None)
            refused = edge.limiter.check(
                operation,
                address=edge.address,
                member=identity.member_id if identity is not None else None,
                arguments=kwargs,
            )
            if refused is not None:
                _count(edge, operation, "RateLimited", None)
                return refused
        start = time.perf_counter()
        try:
            result = _next(root, info, *args, **kwargs)
        except Exception:
            _count(edge, operation, "error", start)
            raise
        if inspect.isawaitable(result):
            return _finish(result, edge, operation, start)
        _count(edge, operation, _outcome(result), start)
        return result


async def _finish(result: Awaitable[Any], edge: Edge | None, operation: str, start: float) -> Any:
    try:
        value = await result
    except Exception:
        _count(edge, operation, "error", start)
        raise
    _count(edge, operation, _outcome(value), start)
    return value


def _outcome(result: Any) -> str:
    definition = getattr(type(result), "__strawberry_definition__", None)
    if definition is not None:
        return str(definition.name)
    return "null" if result is None else "ok"


def _count(edge: Edge | None, operation: str, outcome: str, start: float | None) -> None:
    if edge is None or edge.metrics is None:
        return
    edge.metrics.operations.labels(operation, outcome).inc()
    if start is not None:
        seconds = time.perf_counter() - start
        edge.metrics.operation_seconds.labels(operation).observe(seconds)
