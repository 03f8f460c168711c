"""The edge's settings from the environment, and what a client error may say."""

from __future__ import annotations

import pytest
from graphql import GraphQLError

from gateway.errors import clean, is_unexpected
from kernel.config import Settings, SettingsError


def test_production_is_the_default_and_dev_turns_the_tools_on() -> None:
    production = Settings.from_env({}).gateway
    assert (production.graphiql_on, production.introspection_on) == (False, False)
    assert production.field_suggestions_on is False
    dev = Settings.from_env({"MUNI_DEV": "1", "MUNI_INTROSPECTION": "0"}).gateway
    assert (dev.graphiql_on, dev.introspection_on, dev.field_suggestions_on) == (
        True,
        False,
        True,
    )
    alone = Settings.from_env({"MUNI_GRAPHIQL": "1"}).gateway
    assert (alone.graphiql_on, alone.introspection_on) == (True, False)


def test_limits_origins_and_logs_are_read_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "MUNI_CORS_ORIGINS": "https://a.example/, https://b.example",
            "MUNI_MAX_BODY_BYTES": "1000",
            "MUNI_REQUEST_BUDGET_S": "2.5",
            "MUNI_RATE_LIMITS": "off",
            "MUNI_LOG_FORMAT": "text",
            "MUNI_LOG_LEVEL": "debug",
        }
    )
    edge = settings.gateway
    assert edge.cors_origins == ("https://a.example", "https://b.example")
    assert (edge.max_body_bytes, edge.request_budget_s, edge.rate_limits) == (1000, 2.5, False)
    assert (settings.log_format, settings.log_level) == ("text", "DEBUG")


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"MUNI_GRAPHIQL": "maybe"}, "MUNI_GRAPHIQL"),
        ({"MUNI_MAX_ALIASES": "0"}, "MUNI_MAX_ALIASES"),
        ({"MUNI_MAX_TOKENS": "lots"}, "MUNI_MAX_TOKENS"),
        ({"MUNI_RATE_LIMITS": "no"}, "MUNI_RATE_LIMITS"),
        ({"MUNI_LOG_FORMAT": "xml"}, "MUNI_LOG_FORMAT"),
    ],
)
def test_a_bad_value_is_refused_naming_its_variable(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        Settings.from_env(env)


def test_a_scalars_exception_text_is_cut_from_a_client_error() -> None:
    error = GraphQLError(
        "Variable '$at' got invalid value 'x'; Expected type 'DateTime'. "
        "Invalid isoformat string: 'x' (fromisoformat in datetime.py)",
        original_error=ValueError("Invalid isoformat string"),
    )
    assert not is_unexpected(error)  # the client's value, found before running
    clean(error, suggestions=False)
    assert error.message == "Variable '$at' got invalid value 'x'; Expected type 'DateTime'."


def test_suggestions_are_cut_unless_asked_for() -> None:
    error = GraphQLError(
        "Unknown argument 'pickp' on field 'Query.quoteRide'. Did you mean 'pickup'?"
    )
    clean(error, suggestions=True)
    assert "Did you mean" in error.message
    clean(error, suggestions=False)
    assert error.message == "Unknown argument 'pickp' on field 'Query.quoteRide'."


def test_an_exception_raised_while_running_is_unexpected() -> None:
    error = GraphQLError("boom", path=["joinCoop"], original_error=RuntimeError("SELECT 1"))
    assert is_unexpected(error)
    # ...and so is one raised before running that is no client value (a bug in an extension).
    assert is_unexpected(GraphQLError("x", original_error=KeyError("y")))
