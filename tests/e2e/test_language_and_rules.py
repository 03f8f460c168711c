"""chooseLanguage remembers a member's language on their account (one of the city's, else a
typed InvalidInput that changes nothing); cityRules answers the fare formula without sign-in."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import PROBLEM, join
from tests.support.graphql import gql

pytestmark = pytest.mark.e2e

CHOOSE = f"""
mutation($l: String!) {{
  chooseLanguage(language: $l) {{ {PROBLEM} ... on Account {{ language }} }}
}}
"""
MINE = "{ myAccount { __typename ... on Account { language } } }"


def test_a_member_chooses_a_language_and_it_is_remembered(client):
    _, token = join(client, "Ada")
    assert gql(client, MINE, token=token)["myAccount"]["language"] is None
    assert gql(client, CHOOSE, {"l": "nl"}, token=token)["chooseLanguage"]["language"] == "nl"
    assert gql(client, MINE, token=token)["myAccount"]["language"] == "nl"


def test_a_language_the_city_does_not_offer_is_refused_and_changes_nothing(client):
    _, token = join(client, "Ada")
    gql(client, CHOOSE, {"l": "nl"}, token=token)
    refused = gql(client, CHOOSE, {"l": "fr"}, token=token)["chooseLanguage"]
    assert refused["__typename"] == "InvalidInput"
    assert refused["field"] == "language"
    assert gql(client, MINE, token=token)["myAccount"]["language"] == "nl"


def test_a_visitor_may_not_choose_a_language(client):
    refused = gql(client, CHOOSE, {"l": "nl"})["chooseLanguage"]
    assert refused["__typename"] == "NotAuthenticated"


def test_city_rules_are_public(client):
    rules = gql(client, "{ cityRules { currency languages fareBase split { part percent } } }")
    found = rules["cityRules"]
    assert found["currency"] == "EUR"
    assert found["languages"] == ["en", "nl"]
    assert sum(s["percent"] for s in found["split"]) == 100
    assert found["split"][0] == {"part": "driver", "percent": 85}
