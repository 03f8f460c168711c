"""No field anywhere asks for immigration status, citizenship or a passport (DOMAIN.md,
"Inclusion and privacy"): membership rests on participation.

Walks every input the merged GraphQL schema accepts (input types and their fields, arguments of
every field, enum values) and fails on a name made of such words.
"""

from __future__ import annotations

import re
from enum import Enum

import strawberry
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
)

from gateway.schema import build_schema

FORBIDDEN = {
    "immigration",
    "immigrant",
    "migrant",
    "migration",
    "citizen",
    "citizenship",
    "nationality",
    "passport",
    "visa",
    "asylum",
    "refugee",
    "alien",
    "undocumented",
    "residencestatus",
    "residencepermit",
    "residency",
    "legalstatus",
    "workpermit",
    "countryofbirth",
    "birthcountry",
}


def _words(name: str) -> list[str]:
    """`passportNumber`, `PASSPORT_NUMBER`, `PassportInput` -> ['passport', 'number', ...]."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name)
    return [w.lower() for w in re.split(r"[\s_\-]+", spaced) if w]


def asks_for_status(name: str) -> bool:
    """True if the name, or two or three of its words run together, is a forbidden word."""
    words = _words(name)
    runs = {"".join(words[i : i + n]) for n in (1, 2, 3) for i in range(len(words) - n + 1)}
    return bool(runs & FORBIDDEN)


def offending_inputs(schema: GraphQLSchema) -> list[str]:
    """Every input a client is asked for whose name asks for status, as `Type.field(arg)`."""
    found = []
    for type_name, kind in schema.type_map.items():
        if type_name.startswith("__"):
            continue
        if isinstance(kind, GraphQLInputObjectType):
            if asks_for_status(type_name):
                found.append(type_name)
            found += [f"{type_name}.{f}" for f in kind.fields if asks_for_status(f)]
        elif isinstance(kind, GraphQLObjectType | GraphQLInterfaceType):
            for field_name, field in kind.fields.items():
                found += [
                    f"{type_name}.{field_name}({arg})" for arg in field.args if asks_for_status(arg)
                ]
        elif isinstance(kind, GraphQLEnumType):
            found += [f"{type_name}.{v}" for v in kind.values if asks_for_status(v)]
    return found


def test_the_schema_asks_nobody_for_immigration_status_citizenship_or_a_passport() -> None:
    schema = build_schema()
    assert schema._schema.type_map  # the walk has something to walk
    assert offending_inputs(schema._schema) == []


# A schema that does ask, to show the walk finds each kind of question (module level: with
# postponed annotations strawberry resolves type names from the module's globals).
@strawberry.enum
class DocumentKind(Enum):
    ID_CARD = "id_card"
    RESIDENCE_PERMIT = "residence_permit"


@strawberry.input
class PassportDetails:
    number: str


@strawberry.input
class SignUpInput:
    name: str
    immigration_status: str
    document: DocumentKind


@strawberry.type
class AskingQuery:
    @strawberry.field
    def ok(self, advisable: bool = True) -> bool:  # "visa" inside another word is fine
        return advisable


@strawberry.type
class AskingMutation:
    @strawberry.mutation
    def sign_up(self, input: SignUpInput, citizenship: str, papers: PassportDetails) -> bool:
        return True


def test_the_walk_finds_such_a_question_wherever_it_is_asked() -> None:
    schema = strawberry.Schema(query=AskingQuery, mutation=AskingMutation)
    assert sorted(offending_inputs(schema._schema)) == [
        "AskingMutation.signUp(citizenship)",
        "DocumentKind.RESIDENCE_PERMIT",
        "PassportDetails",
        "SignUpInput.immigrationStatus",
    ]
