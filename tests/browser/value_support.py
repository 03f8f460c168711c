"""For the contributions and decisions browser tests: a gateway of their own (they open and close
periods and move its clock a week on, which the session's shared gateway must not see), the
other parties driven over GraphQL where a flow does not name their pages, and a member's
browser context signed in through the real sign-in page."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

from gateway.app import create_app
from tests.browser.conftest import SIZES, Served
from tests.browser.members import member_with_roles, sign_in_in_browser
from tests.e2e.conftest import SETTINGS, past_clock
from tests.support.accounts import PASSWORD, SIGN_IN
from tests.support.serve import serving

if TYPE_CHECKING:
    from collections.abc import Iterator

LOG = """mutation($input: LogContributionInput!) { logContribution(input: $input) {
  __typename ... on Problem { message } ... on LoggedChanged { contribution { id } } } }"""
VALIDATE = """mutation($id: String!) { validateContribution(contributionId: $id) {
  __typename ... on Problem { message } } }"""
OPEN = """mutation($p: String!) { openPeriod(period: $p) { __typename
  ... on Problem { message } } }"""


def own_gateway() -> Iterator[Served]:
    """A gateway for one test module, on its own FixedClock."""
    clock = past_clock()
    app = create_app(SETTINGS, clock=clock)
    with serving(app) as url:
        yield Served(url, app, clock)


def gql(gateway: Served, query: str, variables: dict[str, Any], token: str) -> Any:
    answer = httpx.post(
        f"{gateway.url}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    ).json()
    assert "errors" not in answer, answer
    return next(iter(answer["data"].values()))


def token_of(gateway: Served, member: dict[str, str]) -> str:
    answer = httpx.post(
        f"{gateway.url}/graphql",
        json={"query": SIGN_IN, "variables": {"login": member["email"], "password": PASSWORD}},
        timeout=30,
    ).json()["data"]["signIn"]
    assert answer["__typename"] == "SignedIn", answer
    return str(answer["accessToken"])


def member(gateway: Served, name: str, *roles: str) -> dict[str, str]:
    """A member made over GraphQL (with `roles`), and their access token under "token"."""
    made = member_with_roles(gateway, name, *roles)
    return {**made, "token": token_of(gateway, made)}


def signed_in_page(browser: Any, gateway: Served, who: dict[str, str], **context: Any) -> Any:
    """A new browser context signed in as `who` through /signin (desktop size unless told)."""
    options = {"viewport": SIZES["desktop"], "locale": "en", **context}
    page = browser.new_context(base_url=gateway.url, **options).new_page()
    sign_in_in_browser(page, who["email"], who["password"])
    return page


def counted_work(
    gateway: Served, who: dict[str, str], peers: list[dict[str, str]], day: str, hours: str
) -> str:
    """Work `who` logged on `day` and `peers` validated (so it counts); its id."""
    logged = gql(
        gateway, LOG, {"input": {"kind": "care", "hours": hours, "workedOn": day}}, who["token"]
    )
    assert logged["__typename"] == "LoggedChanged", logged
    work_id = str(logged["contribution"]["id"])
    for peer in peers:
        done = gql(gateway, VALIDATE, {"id": work_id}, peer["token"])
        assert done["__typename"] == "LoggedChanged", done
    return work_id


def open_period(gateway: Served, board: dict[str, str], period: str) -> None:
    """Open `period` unless it is open already."""
    answer = gql(gateway, OPEN, {"p": period}, board["token"])
    assert answer["__typename"] in ("PeriodChanged", "PeriodNotInState"), answer
