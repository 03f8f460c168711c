"""A proposed value equation simulated beside the one in force: a form for weights, caps and
the half-life (prefilled with the equation in force), every member's share under both side by
side (paged), and a button that puts the proposal to a vote (`/decisions/equation`).

The form is a GET (nothing is saved), so a simulation is a link a board can share. Weights and
caps are fields `weight-<type>` and `cap-<type>`; the equation the API receives and the policy
value a decision proposes are both made here, from the same fields.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gateway.web.forms import N_
from gateway.web.routes.contributions import PAGE_SIZE, chosen_period, link, periods
from gateway.web.routes.value_words import CAP, WEIGHT, decimal, errors, percent
from gateway.web.routing import NavLink, get

if TYPE_CHECKING:
    from collections.abc import Mapping

    from starlette.responses import Response

    from gateway.web.routing import WebRequest

SIMULATE = "/board/contributions/simulate"


class EquationForm:
    """The equation a form holds: weights and caps by type, and the half-life in days."""

    def __init__(self, types: list[str], fields: Mapping[str, str]) -> None:
        self.types = types
        self.fields = {k: v.strip() for k, v in fields.items()}
        self.errors: dict[str, str] = {}

    @classmethod
    def in_force(cls, types: list[str], equation: Mapping[str, Any]) -> EquationForm:
        fields = {f"weight-{w['type']}": str(w["amount"]) for w in equation["weights"]}
        fields.update({f"cap-{c['type']}": str(c["amount"]) for c in equation["caps"]})
        if equation.get("halfLifeDays"):
            fields["halfLifeDays"] = str(equation["halfLifeDays"])
        known = list(types) + [
            t for t in (w["type"] for w in equation["weights"]) if t not in types
        ]
        return cls(known, fields)

    def parsed(self, page: WebRequest) -> dict[str, Any] | None:
        """The EquationInput, or None with `errors` by field."""
        weights, caps = [], []
        for kind in self.types:
            weight = self.fields.get(f"weight-{kind}", "")
            if weight:
                amount = decimal(weight)
                if amount is None or amount < 0:
                    self.errors[f"weight-{kind}"] = page.gettext(WEIGHT)
                else:
                    weights.append({"type": kind, "amount": str(amount)})
            cap = self.fields.get(f"cap-{kind}", "")
            if cap:
                amount = decimal(cap)
                if amount is None or amount <= 0:
                    self.errors[f"cap-{kind}"] = page.gettext(CAP)
                else:
                    caps.append({"type": kind, "amount": str(amount)})
        half_life: int | None = None
        text = self.fields.get("halfLifeDays", "")
        if text:
            try:
                half_life = int(text)
            except ValueError:
                half_life = 0
            if half_life <= 0:
                self.errors["halfLifeDays"] = page.gettext(
                    "Give the half-life as a whole number of days above 0, or leave it empty."
                )
        if not weights and not self.errors:
            self.errors["weights"] = page.gettext("Give at least one weight.")
        if self.errors:
            return None
        return {"weights": weights, "caps": caps, "halfLifeDays": half_life}

    def api_error(self, page: WebRequest, answer: Mapping[str, Any]) -> None:
        """An InvalidInput from the API, by the form field it concerns."""
        field = str(answer.get("field", ""))
        for prefix, name in (("weights.", "weight-"), ("caps.", "cap-")):
            if field.startswith(prefix):
                message = WEIGHT if prefix == "weights." else CAP
                self.errors[name + field[len(prefix) :]] = page.gettext(message)
                return
        self.errors.update(errors(page, answer, "halfLifeDays", "period"))

    def query(self) -> dict[str, str]:
        """The fields again, for a link to the next page of the same simulation."""
        return {k: v for k, v in self.fields.items() if k.startswith(("weight-", "cap-", "half"))}


def policy_value(equation: Mapping[str, Any]) -> dict[str, Any]:
    """The `contributions.equation` setting a decision proposes (the city config's shape)."""
    value: dict[str, Any] = {"weights": {w["type"]: w["amount"] for w in equation["weights"]}}
    if equation["caps"]:
        value["caps"] = {c["type"]: c["amount"] for c in equation["caps"]}
    if equation.get("halfLifeDays"):
        value["half_life_days"] = equation["halfLifeDays"]
    return value


async def simulate(page: WebRequest) -> Response:
    known = await periods(page)
    period = chosen_period(page, known)
    types_answer = (await page.query("contributions/contributionTypes"))["contributionTypes"]
    types = [t["key"] for t in types_answer.get("types", [])]
    in_force = (await page.query("contributions/valueEquations"))["valueEquations"]["inForce"]
    params = page.request.query_params
    asked = "run" in params
    form = (
        EquationForm(types, {k: str(v) for k, v in params.items()})
        if asked
        else EquationForm.in_force(types, in_force)
    )
    if asked and not form.types:
        form.types = types
    result = None
    next_page = None
    equation = form.parsed(page) if asked else None
    if equation is not None and period is not None:
        answer = (
            await page.query(
                "contributions/simulateEquation",
                {
                    "period": period,
                    "equation": equation,
                    "first": PAGE_SIZE,
                    "after": params.get("after") or None,
                },
            )
        )["simulateEquation"]
        if page.is_problem(answer):
            form.api_error(page, answer)
            equation = None
        else:
            result = answer
            for s in result["shares"]["nodes"]:
                s["currentPercent"] = percent(s["currentShare"])
                s["proposedPercent"] = percent(s["proposedShare"])
                s["changePercent"] = percent(s["change"])
            info = result["shares"]["pageInfo"]
            if info["hasNextPage"]:
                next_page = link(
                    SIMULATE, period=period, run="1", after=info["endCursor"], **form.query()
                )
    return page.render(
        "contributions/simulate.html",
        status_code=400 if form.errors else 200,
        periods=known,
        period=period,
        form=form,
        errors=form.errors,
        in_force=in_force,
        result=result,
        equation=equation,
        proposal=policy_value(equation) if equation else None,
        next_page=next_page,
    )


ROUTES = [get(SIMULATE, simulate, "board-contributions-simulate")]
NAV = [NavLink(N_("Simulate an equation"), SIMULATE, "board")]
