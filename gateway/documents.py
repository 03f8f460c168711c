"""What a GraphQL document may ask for: tokens, depth, aliases, root fields, one operation.

Each limit refuses the document before anything runs, with an error that names the limit:
the parser stops counting at `max_tokens` (graphql-core's own guard), so a document of ten
thousand aliases costs no more to refuse than a small one. Rule classes are made once per
schema: a class made per request would change the ValidationCache key every time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    ValidationRule,
)
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import MaxTokensLimiter, SchemaExtension
from strawberry.extensions.max_aliases import create_validator as aliases_validator
from strawberry.extensions.query_depth_limiter import create_validator as depth_validator

if TYPE_CHECKING:
    from collections.abc import Iterator

    from graphql import ASTValidationRule, SelectionSetNode

    from kernel.config import GatewaySettings

# The operation name the client sent (or None), put in `Context.extras` by the view.
OPERATION_NAME = "operation_name"


def rules(gateway: GatewaySettings, *, max_depth: int) -> list[type[ASTValidationRule]]:
    """The validation rules added to graphql-core's own, for these settings."""
    out: list[type[ASTValidationRule]] = [
        depth_validator(max_depth, should_ignore=None),
        aliases_validator(gateway.max_aliases),
        root_fields_validator(gateway.max_root_fields),
    ]
    if not gateway.introspection_on:
        out.append(NoSchemaIntrospectionCustomRule)
    return out


def tokens(gateway: GatewaySettings) -> MaxTokensLimiter:
    return MaxTokensLimiter(max_token_count=gateway.max_tokens)


def root_fields_validator(max_root_fields: int) -> type[ValidationRule]:
    """A rule refusing an operation that selects more than `max_root_fields` root fields
    (aliases and fragments count: each one is a resolver call)."""

    class MaxRootFields(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            by_name = {
                d.name.value: d
                for d in self.context.document.definitions
                if isinstance(d, FragmentDefinitionNode)
            }
            count = _count(node.selection_set, by_name, set())
            if count > max_root_fields:
                name = node.name.value if node.name else "anonymous"
                self.report_error(
                    GraphQLError(
                        f"'{name}' selects {count} root fields; at most {max_root_fields} "
                        "are allowed (send several requests instead)",
                        node,
                    )
                )

    return MaxRootFields


def _count(
    selections: SelectionSetNode,
    fragments: dict[str, FragmentDefinitionNode],
    seen: set[str],
) -> int:
    total = 0
    for selection in selections.selections:
        if isinstance(selection, FieldNode):
            total += 1
        elif isinstance(selection, InlineFragmentNode):
            total += _count(selection.selection_set, fragments, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            # A fragment cycle is another rule's error; count each fragment once.
            if name in fragments and name not in seen:
                total += _count(fragments[name].selection_set, fragments, seen | {name})
    return total


class OneOperation(SchemaExtension):
    """A document with several operations needs `operationName` (GraphQL spec, "GetOperation"):
    strawberry would otherwise run the first one."""

    def on_parse(self) -> Iterator[None]:
        yield
        document = self.execution_context.graphql_document
        if document is None:
            return
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        context = self.execution_context.context
        extras: dict[str, Any] = getattr(context, "extras", {})
        if len(operations) > 1 and not extras.get(OPERATION_NAME):
            raise GraphQLError(
                f"the document holds {len(operations)} operations: send `operationName` to "
                "say which one to run"
            )
