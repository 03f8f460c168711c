"""How GraphQL errors reach clients and the logs.

Two kinds of error:

- a client's mistake (a syntax error, an unknown field, a variable of the wrong type, a limit
  in gateway/documents.py), found before anything runs. The client gets graphql-core's
  message, which helps them, without what a library appended to it (a decoder's text after
  "Expected type 'Decimal'.") and, in production, without the "Did you mean" hints that
  spell out the schema. It is logged at INFO: it is not the server's fault;
- an unexpected exception (a bug, a store that went away), which the error carries as its
  original error. The client gets "Unexpected error." (MaskErrors), never its text, a stack
  trace or SQL; the log gets all of it, at ERROR.

Expected refusals are not errors at all: they are typed union members (`Problem`).
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

import strawberry
from graphql import GraphQLError

if TYPE_CHECKING:
    from strawberry.types import ExecutionContext

log = logging.getLogger("gateway.graphql")

# The errors graphql-core makes when a custom scalar (Decimal, DateTime, ...) refuses a
# client's value: they carry the scalar's exception, and its text after these sentences.
_COERCION_PREFIXES = ("Variable '$", "Expected value of type")
_LIBRARY_TEXT = (
    re.compile(r"^(Variable '\$.*?; Expected type '[^']+'\.).*$", re.DOTALL),
    re.compile(r"^(Expected value of type '[^']+', found .*?);.*$", re.DOTALL),
)
_SUGGESTION = re.compile(r"\s*Did you mean .*$", re.DOTALL)


def is_unexpected(error: GraphQLError) -> bool:
    """Raised by our code, not a client's mistake found before anything ran."""
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        return False
    client_value = error.path is None and error.message.startswith(_COERCION_PREFIXES)
    return not client_value


def clean(error: GraphQLError, *, suggestions: bool) -> None:
    """Strip what a client must not see from a client error's message (in place)."""
    if error.original_error is not None:
        for pattern in _LIBRARY_TEXT:
            error.message = pattern.sub(r"\1", error.message)
    if not suggestions:
        error.message = _SUGGESTION.sub("", error.message)


class MuniSchema(strawberry.Schema):
    """strawberry's Schema, logging errors by kind instead of every one at ERROR."""

    def process_errors(
        self,
        errors: list[GraphQLError],
        execution_context: ExecutionContext | None = None,
    ) -> None:
        suggestions = not self.config.disable_field_suggestions
        operation = execution_context.operation_name if execution_context else None
        for error in errors:
            if is_unexpected(error):
                log.error(
                    "unexpected error in %s at %s: %s",
                    operation or "anonymous operation",
                    ".".join(str(p) for p in error.path or ()),
                    error.message,
                    exc_info=error.original_error,
                )
            else:
                clean(error, suggestions=suggestions)
                log.info("client error in %s: %s", operation or "anonymous operation", error)
