"""Every GraphQL document the web app runs is valid against the gateway's schema."""

from __future__ import annotations

import pytest
from graphql import parse, validate

from gateway.schema import build_schema
from gateway.web.client import DOCUMENTS_DIR, load_documents

DOCUMENTS = load_documents()


def test_there_are_documents() -> None:
    assert "public/cityRules" in DOCUMENTS
    assert len(DOCUMENTS) == len(list(DOCUMENTS_DIR.rglob("*.graphql")))


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_the_document_is_valid_against_the_schema(name: str) -> None:
    schema = build_schema()._schema
    errors = validate(schema, parse(DOCUMENTS[name].source))
    assert errors == [], [e.message for e in errors]


def test_a_document_with_a_wrong_field_is_refused() -> None:
    errors = validate(build_schema()._schema, parse("query CityRules { cityRules { surge } }"))
    assert errors
