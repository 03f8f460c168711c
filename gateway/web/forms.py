"""Typed GraphQL problems as form errors, next to the field they name.

A mutation's answer is a union: the success type or a `Problem` with a `message` (and, for
`InvalidInput`, the `field` it is about). `problem_errors` turns a problem into
`{field: text}` for the form macros (`templates/_forms.html`), with `FORM` for what concerns the
whole form. The text is the member's language where this module knows the problem (the API's
messages are English, for developers); otherwise the API's own message.

Mark a message for extraction with `N_` where it is defined and translate it where it is shown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

FORM = "_form"
"""The key of errors that concern the whole form (shown above it)."""


def N_(message: str) -> str:
    """Mark `message` for the catalogs without translating it here (babel.cfg's keyword)."""
    return message


# By problem type: what to tell a member, in their words. {name} fields come from the answer.
PROBLEMS: dict[str, str] = {
    "InvalidCredentials": N_("That login, password or code is not right."),
    "LoginTaken": N_("An account with this email or phone exists already. Sign in instead."),
    "CodeExpired": N_("This sign-in code has expired. Ask the desk for a new one."),
    "CodeAlreadyUsed": N_("This sign-in code was used already. Ask the desk for a new one."),
    "RateLimited": N_("Too many tries. Wait {retryAfterSeconds} seconds and try again."),
    "NotAuthenticated": N_("Please sign in again."),
    "NotAuthorized": N_("Your account cannot do this."),
    "SessionEnded": N_("Your session has ended. Please sign in again."),
}
# InvalidInput, by the field it names.
FIELDS: dict[str, str] = {
    "displayName": N_("Use 1 to 60 letters, digits or spaces."),
    "password": N_("Use 10 to 200 characters; a phrase of a few words is good."),
    "email": N_("This is not an email address."),
    "phone": N_("This is not a phone number."),
    "language": N_("Choose one of the languages offered."),
}


def is_problem(answer: Mapping[str, Any] | None) -> bool:
    """True for a typed problem (every problem type selects `message` through `Problem`)."""
    return answer is None or "message" in answer


def problem_errors(
    answer: Mapping[str, Any], gettext: Callable[[str], str], *, fields: frozenset[str]
) -> dict[str, str]:
    """`{field: text}` for a problem answer. An InvalidInput whose field is one of the form's
    `fields` goes next to it; anything else goes to FORM."""
    kind = str(answer.get("__typename", ""))
    field = answer.get("field")
    if kind == "InvalidInput" and isinstance(field, str):
        text = gettext(FIELDS[field]) if field in FIELDS else str(answer.get("message", ""))
        return {field if field in fields else FORM: text}
    if kind in PROBLEMS:
        try:
            return {FORM: gettext(PROBLEMS[kind]).format(**answer)}
        except (KeyError, IndexError):
            return {FORM: gettext(PROBLEMS[kind])}
    return {FORM: str(answer.get("message") or kind)}
