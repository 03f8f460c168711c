"""What the contributions and decisions pages say about the API's typed problems and values,
in the member's words (the API's messages are English, for developers).

`errors` is `WebRequest.errors` with these problems first: a refusal shows by the field it
concerns (or above the form) in the page's language, and the page changes nothing.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from gateway.web.forms import FORM, N_

if TYPE_CHECKING:
    from collections.abc import Mapping

    from gateway.web.routing import WebRequest

PROBLEMS: dict[str, str] = {
    "CannotValidateOwnWork": N_("Nobody validates their own work: ask two other members."),
    "AlreadyValidated": N_("You have validated this work already."),
    "AlreadyCounted": N_("This work has every validation it needs; it counts already."),
    "NotYourLine": N_("You can contest only the lines of your own statement."),
    "AlreadyContested": N_("This line is contested already; the board will review it."),
    "AlreadyReviewed": N_("This contest has been reviewed already."),
    "PeriodNotInState": N_("The period {periodKey} is {state}: this cannot be done now."),
    "NotFound": N_("We could not find that. It may have changed: reload the page."),
    "AlreadyVoted": N_("You have voted on this decision already: one member, one vote."),
    "VotingClosed": N_("Voting on this decision has closed; your vote was not counted."),
    "VotingStillOpen": N_("The vote is still open; it can be closed once its time is up."),
    "AlreadyBacked": N_("You back this proposal already."),
    "DecisionNotInState": N_("This decision cannot do that now."),
    "DecisionNotFound": N_("There is no such decision."),
    "NoProxy": N_("You hold no proxy from this member for this decision."),
    "NoConsent": N_("This member has not consented to being acted for."),
    "UnknownMember": N_("There is no member with this id."),
    "NotCaughtUp": N_("The list is still catching up. Reload the page in a moment."),
}
# InvalidInput, by the field it names (a field the API names "weights.work/code" is a weight).
FIELDS: dict[str, str] = {
    "hours": N_("Give the hours as a number above 0 and at most 24, like 2.5."),
    "kind": N_("Choose one of the kinds of work offered."),
    "workedOn": N_("Give the day you did the work (not in the future)."),
    "quantity": N_("Give the corrected amount as a number."),
    "surplus": N_("Give the surplus as an amount with at most two decimals, like 1000.00."),
    "period": N_("Give a period as 2026-11 (a month), 2026-Q4 (a quarter) or 2026 (a year)."),
    "title": N_("Give the proposal a title."),
    "changes": N_("The change is not a valid setting of the city's policies."),
    "value": N_("The value is not valid for this setting."),
    "to": N_("There is no member with this id."),
    "halfLifeDays": N_("Give the half-life as a whole number of days above 0, or leave it empty."),
}
WEIGHT = N_("A weight must be a number of 0 or more.")
CAP = N_("A cap must be a number above 0, or left empty.")

# How the pages name accounts and units.
UNITS: dict[str, str] = {"HOUR": N_("hours"), "POINT": N_("points")}


def errors(page: WebRequest, answer: Mapping[str, Any], *fields: str) -> dict[str, str]:
    """`{field: text}` for a typed problem: this area's problems, else the shared ones."""
    kind = str(answer.get("__typename", ""))
    field = answer.get("field")
    if kind == "InvalidInput" and isinstance(field, str):
        if field.startswith("weights"):
            return {field if field in fields else "weights": page.gettext(WEIGHT)}
        if field.startswith("caps"):
            return {field if field in fields else "caps": page.gettext(CAP)}
        if field in FIELDS:
            name = field if field in fields else FORM
            text = page.gettext(FIELDS[field])
            if name == FORM and answer.get("message"):
                text = f"{text} ({answer['message']})"
            return {name: text}
    if kind == "PeriodNotInState":  # its state in words ("open", "closed", "distributed")
        answer = {**answer, "state": page.gettext(str(answer.get("state", "")))}
    if kind in PROBLEMS:
        text = page.gettext(PROBLEMS[kind])
        try:
            return {FORM: text.format(**answer)}
        except (KeyError, IndexError):
            return {FORM: text}
    return page.errors(answer, *fields)


def decimal(text: str) -> Decimal | None:
    """A number a member typed ("2,5" is 2.5 in Dutch), or None when it is none."""
    try:
        value = Decimal(text.strip().replace(",", "."))
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def percent(share: str | Decimal) -> Decimal:
    """A share (0..1) as a percentage with one decimal."""
    return (Decimal(str(share)) * 100).quantize(Decimal("0.1"))
