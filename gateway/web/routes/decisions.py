"""Decisions (`/decisions`, members): proposals by state with the policy change each would make,
backing a member's proposal, voting (one member, one vote: a second vote or a late one is
refused with the API's typed problem), giving a proxy with the member's consent, closing a vote
whose time is up; proposing (a board member's proposal opens for votes at once, a member's
gathers backers first); and the policy versions that took effect, from when.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from gateway.web.forms import FORM, N_
from gateway.web.routes.contributions import link
from gateway.web.routes.value_words import errors
from gateway.web.routing import NavLink, get, post

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from starlette.responses import Response

    from gateway.web.routing import WebRequest

PAGE_SIZE = 20
STATES = ("OPEN", "BACKING", "CLOSED")
CHOICES = ("FOR", "AGAINST", "ABSTAIN")
# Settings a proposal names most often (any path of the city config may be proposed).
COMMON_PATHS = (
    "contributions.equation",
    "contributions.levy_percent",
    "rides.split",
    "governance.quorum_percent",
    "governance.threshold_percent",
    "governance.backing_percent",
    "governance.voting_days",
)


async def decisions(page: WebRequest) -> Response:
    state = page.request.query_params.get("state", "").upper()
    after = page.request.query_params.get("after") or None
    answer = (
        await page.query(
            "decisions/decisions",
            {"first": PAGE_SIZE, "after": after, "state": state if state in STATES else None},
        )
    )["decisions"]
    problem = None if not page.is_problem(answer) else errors(page, answer)[FORM]
    found = [] if problem else answer["nodes"]
    next_page = None
    if not problem and answer["pageInfo"]["hasNextPage"]:
        next_page = link(
            "/decisions", state=state.lower() or None, after=answer["pageInfo"]["endCursor"]
        )
    return page.render(
        "decisions/list.html",
        decisions=found,
        problem=problem,
        state=state if state in STATES else "",
        states=STATES,
        next_page=next_page,
    )


async def one(page: WebRequest, **context: Any) -> Response:
    decision_id = page.request.path_params["decision_id"]
    answer = await page.query("decisions/decision", {"decisionId": decision_id})
    found = answer["decision"]
    if page.is_problem(found):
        return page.not_found(
            page.gettext("There is no such decision."),
            page.gettext("It may have been removed, or the address is not right."),
        )
    tally = answer["decisionTally"]
    return page.render(
        "decisions/decision.html",
        decision=found,
        tally=None if page.is_problem(tally) else tally,
        choices=CHOICES,
        **context,
    )


async def show(page: WebRequest) -> Response:
    return await one(page)


async def tally(page: WebRequest) -> Response:
    """The votes alone (`_tally.html`), for htmx to refresh while the vote is open."""
    decision_id = page.request.path_params["decision_id"]
    answer = await page.query("decisions/decision", {"decisionId": decision_id})
    if page.is_problem(answer["decision"]):
        return page.redirect("/decisions")
    found = answer["decisionTally"]
    return page.render(
        "decisions/_tally.html",
        d=answer["decision"],
        tally=None if page.is_problem(found) else found,
    )


def back_to(decision_id: str) -> str:
    return f"/decisions/{quote(decision_id, safe='')}"


async def command(page: WebRequest) -> Response:
    """Back, vote, give or withdraw a proxy, close: the button pressed names which."""
    decision_id = page.request.path_params["decision_id"]
    action = page.request.path_params["action"]
    name: str
    variables: dict[str, Any] = {"decisionId": decision_id}
    if action == "vote":
        choice = page.field("choice").upper()
        if choice not in CHOICES:
            problems = {"choice": page.gettext("Choose for, against or abstain.")}
            return await one(page, errors=problems, status_code=400)
        name, variables["choice"] = "vote", choice
        done = N_("Your vote is counted.")
    elif action == "back":
        name, done = "backProposal", N_("You back this proposal.")
    elif action == "close":
        name, done = "closeDecision", N_("The vote is closed and counted.")
    elif action == "proxy":
        to = page.field("to")
        problems = {}
        if not to:
            problems["to"] = page.gettext("Give the member id of the member who votes for you.")
        if page.field("consent") != "yes":
            problems["consent"] = page.gettext(
                "Tick the box to agree that this member votes for you."
            )
        if problems:
            return await one(page, errors=problems, values={"to": to}, status_code=400)
        name, variables["to"] = "giveProxy", to
        if page.field("standing") == "yes":  # until withdrawn, not for this decision alone
            variables["decisionId"] = None
        done = N_("Your proxy is given. Your own vote still replaces theirs.")
    elif action == "withdraw-proxy":
        if page.field("standing") == "yes":
            variables["decisionId"] = None
        name, done = "withdrawProxy", N_("Your proxy is withdrawn.")
    else:
        return page.redirect(back_to(decision_id))
    answer = (await page.query(f"decisions/{name}", variables))[name]
    if page.is_problem(answer):
        problems = errors(page, answer, "to")
        if action == "vote":
            problems = {"choice": problems.pop(FORM), **problems} if FORM in problems else problems
        return await one(page, errors=problems, values={"to": page.field("to")}, status_code=400)
    page.notify(page.gettext(done), "success")
    return page.redirect(back_to(decision_id))


async def new(page: WebRequest, status_code: int = 200, **context: Any) -> Response:
    return page.render("decisions/new.html", status_code=status_code, paths=COMMON_PATHS, **context)


async def show_new(page: WebRequest) -> Response:
    return await new(page)


async def propose(page: WebRequest) -> Response:
    values = {
        "title": page.field("title"),
        "path": page.field("path"),
        "value": page.field("value"),
        "effectiveFrom": page.field("effectiveFrom"),
    }
    problems: dict[str, str] = {}
    if not values["title"]:
        problems["title"] = page.gettext("Give the proposal a title.")
    if not values["path"]:
        problems["path"] = page.gettext("Name the setting to change, like rides.split.")
    try:
        value = json.loads(values["value"])
    except ValueError:
        problems["value"] = page.gettext(
            'Write the value as JSON: a number (10), a text ("x") or an object ({"a": 1}).'
        )
    if problems:
        return await new(page, 400, errors=problems, values=values)
    return await submit(page, values, [{"path": values["path"], "value": value}], new)


async def propose_equation(page: WebRequest) -> Response:
    """The equation a simulation showed, put to a vote as `contributions.equation`."""
    values = {"title": page.field("title")}
    try:
        equation = json.loads(page.field("equation"))
    except ValueError:
        equation = None
    if not isinstance(equation, dict) or not values["title"]:
        page.notify(
            page.gettext("Give the proposal a title, and simulate the equation first."), "error"
        )
        return page.redirect("/board/contributions/simulate")
    changes = [{"path": "contributions.equation", "value": equation}]
    return await submit(page, values, changes, None)


async def submit(
    page: WebRequest,
    values: dict[str, str],
    changes: list[dict[str, Any]],
    form: Callable[..., Awaitable[Response]] | None,
) -> Response:
    """Propose `changes`; a refusal goes back to `form` (None: to the simulation, as a notice)."""
    proposal: dict[str, Any] = {"title": values["title"], "changes": changes}
    if values.get("effectiveFrom"):
        proposal["effectiveFrom"] = values["effectiveFrom"]
    answer = (await page.query("decisions/proposePolicyChange", {"input": proposal}))[
        "proposePolicyChange"
    ]
    if page.is_problem(answer):
        problems = errors(page, answer, "title", "value", "effectiveFrom")
        if str(answer.get("field", "")).startswith("changes"):
            text = page.gettext("The value is not valid for this setting.")
            problems = {"value": f"{text} ({answer.get('message')})"}
        if form is None:
            page.notify(next(iter(problems.values())), "error")
            return page.redirect("/board/contributions/simulate")
        return await form(page, 400, errors=problems, values=values)
    decision = answer["decision"]
    if decision["state"] == "OPEN":
        page.notify(page.gettext("Your proposal is open for votes."), "success")
    else:
        page.notify(
            page.gettext(
                "Your proposal is recorded. It goes to a vote once enough members back it."
            ),
            "success",
        )
    return page.redirect(back_to(decision["id"]))


async def policies(page: WebRequest) -> Response:
    answer = (await page.query("decisions/policyHistory"))["policyHistory"]
    problem = errors(page, answer)[FORM] if page.is_problem(answer) else None
    return page.render(
        "decisions/policies.html",
        history=None if problem else answer,
        problem=problem,
    )


ROUTES = [
    get("/decisions", decisions, "decisions"),
    get("/decisions/new", show_new, "decisions-new"),
    post("/decisions/new", propose, "decisions-propose"),
    post("/decisions/equation", propose_equation, "decisions-equation"),
    get("/decisions/policies", policies, "decisions-policies"),
    get("/decisions/{decision_id}", show, "decision"),
    get("/decisions/{decision_id}/tally", tally, "decision-tally"),
    post("/decisions/{decision_id}/{action}", command, "decision-command"),
]
NAV = [
    NavLink(N_("Decisions"), "/decisions", "members"),
    NavLink(N_("Policies"), "/decisions/policies", "members"),
]
