"""The web app's one way to the data: named GraphQL documents run on the gateway's own schema.

Every page asks through `Client.execute`, which builds the request's `Context` exactly as
`/graphql` does for the same token (`MuniGraphQL.context_for`: the same guard from the
permission matrix, the same audit log, the same rate limits per address and per member) and runs
the document within the same time budget (`MuniGraphQL.run_document`). A page never imports an
application, a store or a read model.

Documents are files, `documents/<area>/<operationName>.graphql`, each holding one named
operation (and the fragments it uses); `tests/unit/web/test_documents.py` validates every one
against the schema, so a renamed field fails the build, not a page.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from graphql import OperationDefinitionNode, parse

from gateway.execution import BUDGET_CODE

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping

    from starlette.requests import Request

    from gateway.app import MuniGraphQL

DOCUMENTS_DIR = Path(__file__).resolve().parent / "documents"


@dataclass(frozen=True)
class Document:
    name: str  # "<area>/<operationName>", how pages name it
    operation: str
    source: str


class UnknownDocument(LookupError):
    pass


class GraphQLFailure(RuntimeError):
    """The document answered errors (not typed problems: those are data). A bug in a document,
    an unexpected server error, or the time budget ran out (`timed_out`)."""

    def __init__(self, name: str, errors: list[Any]) -> None:
        self.document = name
        self.messages = [str(getattr(e, "message", e)) for e in errors]
        self.timed_out = any(
            (getattr(e, "extensions", None) or {}).get("code") == BUDGET_CODE for e in errors
        )
        super().__init__(f"{name}: {'; '.join(self.messages)}")


def load_documents(root: Path = DOCUMENTS_DIR) -> dict[str, Document]:
    """Every document under `root`, by name. A file must hold exactly one operation, named as
    the file is: the name is what the audit log and the metrics see."""
    found: dict[str, Document] = {}
    for path in sorted(root.rglob("*.graphql")):
        source = path.read_text(encoding="utf-8")
        operations = [
            d for d in parse(source).definitions if isinstance(d, OperationDefinitionNode)
        ]
        if len(operations) != 1 or operations[0].name is None:
            raise ValueError(f"{path} must hold exactly one named operation")
        operation = operations[0].name.value
        if operation[:1].lower() + operation[1:] != path.stem:
            raise ValueError(f"{path}: the operation {operation!r} must be named as the file")
        name = path.relative_to(root).with_suffix("").as_posix()
        found[name] = Document(name, operation, source)
    return found


class Client:
    """Runs named documents for one gateway."""

    def __init__(self, graphql: MuniGraphQL, documents: Mapping[str, Document]) -> None:
        self._graphql = graphql
        self.documents = dict(documents)

    def document(self, name: str) -> Document:
        try:
            return self.documents[name]
        except KeyError:
            raise UnknownDocument(
                f"no document {name!r} under {DOCUMENTS_DIR} (known: {sorted(self.documents)})"
            ) from None

    async def execute(
        self,
        request: Request,
        name: str,
        variables: Mapping[str, Any] | None = None,
        *,
        token: str | None = None,
    ) -> dict[str, Any]:
        """The `data` of document `name` for the member holding `token` (None: a visitor).
        Raises GraphQLFailure if it answered errors."""
        document = self.document(name)
        context = self._graphql.context_for(request, f"Bearer {token}" if token else None)
        result = await self._graphql.run_document(
            context, document.source, dict(variables or {}), document.operation
        )
        if result.errors:
            raise GraphQLFailure(name, list(result.errors))
        data: dict[str, Any] = result.data or {}
        return data

    async def subscribe(
        self,
        request: Request,
        name: str,
        variables: Mapping[str, Any] | None = None,
        *,
        token: str,
    ) -> AsyncIterator[dict[str, Any]]:
        """The `data` of each update of subscription document `name`, run as the member
        holding `token` in a live context (the caps and the followers a WebSocket's has), until
        the stream ends or the caller stops (which closes it and gives back its slot).
        Raises GraphQLFailure if an update answered errors."""
        document = self.document(name)
        context = self._graphql.live_context_for(request, token)
        updates = self._graphql.subscribe(
            context, document.source, dict(variables or {}), document.operation
        )
        try:
            async for result in updates:
                if result.errors:
                    raise GraphQLFailure(name, list(result.errors))
                yield result.data or {}
        finally:
            await updates.aclose()  # type: ignore[attr-defined]
