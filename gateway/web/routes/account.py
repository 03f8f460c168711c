"""My account: who I am, my language, asking for a role, my data as a download, erasing my
data (behind a confirmation page), signing out everywhere. And the language switch (visitors: a
cookie; members: on their account too)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from starlette.responses import Response

from gateway.web.forms import FORM, N_
from gateway.web.routing import NavLink, SignInRequired, get, local_path, post
from gateway.web.session import remember_language

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from gateway.web.routing import WebRequest

    Handler = Callable[[WebRequest], Awaitable[Response]]

# The roles a member may ask the board for, as the API spells them (`Account.roles`), with
# their names on the page. "member" is held from joining, so it is never asked for.
ROLES: dict[str, str] = {
    "driver": N_("Driver"),
    "dispatcher": N_("Dispatcher"),
    "board": N_("Board member"),
    "safety": N_("Safety team"),
    "regulator": N_("Regulator"),
    "host": N_("Host"),
    "librarian": N_("Librarian"),
    "worker_owner": N_("Worker-owner"),
    "client": N_("Client"),
}
ROLE_NAMES: dict[str, str] = {"member": N_("Member"), **ROLES}
LOGIN_KINDS: dict[str, str] = {"email": N_("Email address"), "phone": N_("Phone number")}
MAX_REASON = 200  # the members service's limit (services/members/roles.py)
# InvalidInput on the role form, by field, in the member's words.
ROLE_FIELDS: dict[str, str] = {
    "role": N_("Choose one of the roles in the list."),
    "reason": N_("Say why in 1 to 200 characters."),
}
CONFIRM = "confirm"  # the erasure page's checkbox


async def account(page: WebRequest) -> Response:
    return await _account_page(page)


async def _account_page(
    page: WebRequest,
    *,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    answer = await page.query("account/myAccount")
    me, mine = answer["me"], answer["myAccount"]
    if page.is_problem(me) or page.is_problem(mine):
        # The API refused the member themself (the session outlived the account): say so.
        problem = me if page.is_problem(me) else mine
        page.notify(page.errors(problem)[FORM], "error")
        page.session.sign_out()
        return page.redirect("/")
    return page.render(
        "account/account.html",
        status_code=status_code,
        member=me,
        account=mine,
        role_names=ROLE_NAMES,
        requestable=[(role, label) for role, label in ROLES.items() if role not in mine["roles"]],
        login_kinds=LOGIN_KINDS,
        max_reason=MAX_REASON,
        errors=errors or {},
        values=values or {},
    )


async def request_role(page: WebRequest) -> Response:
    role, reason = page.field("role"), page.field("reason")
    values = {"role": role, "reason": reason}
    if role not in ROLES:
        # Not a role the API knows: refused here, as the API would refuse an unknown enum.
        errors = {"role": page.gettext(ROLE_FIELDS["role"])}
        return await _account_page(page, status_code=400, errors=errors, values=values)
    answer = (await page.query("account/requestRole", {"role": role.upper(), "reason": reason}))[
        "requestRole"
    ]
    if answer.get("__typename") == "RoleAlreadyHeld":
        page.notify(page.gettext("You hold this role already."), "info")
        return page.redirect("/account")
    if page.is_problem(answer):
        field = answer.get("field")
        if answer.get("__typename") == "InvalidInput" and field in ROLE_FIELDS:
            errors = {str(field): page.gettext(ROLE_FIELDS[str(field)])}
        else:
            errors = page.errors(answer, "role", "reason")
        return await _account_page(page, status_code=400, errors=errors, values=values)
    page.notify(
        page.gettext(
            "You asked for the role %(role)s. The board will look at it.",
            role=page.gettext(ROLES[role]),
        ),
        "success",
    )
    return page.redirect("/account")


async def my_data(page: WebRequest) -> Response:
    """The API's `myData` as a file to keep: exactly the JSON it answered, nothing added."""
    answer = (await page.query("account/myData"))["myData"]
    if page.is_problem(answer):
        page.notify(page.errors(answer)[FORM], "error")
        return page.redirect("/account")
    data: Any = answer["data"]
    member = page.session.member_id or "member"
    filename = "my-data-" + "".join(c if c.isalnum() else "-" for c in member) + ".json"
    return Response(
        json.dumps(data, ensure_ascii=False, indent=2),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


async def erase_confirmation(page: WebRequest) -> Response:
    return page.render("account/erase.html")


async def erase(page: WebRequest) -> Response:
    if page.field(CONFIRM) != "yes":
        error = page.gettext("Tick the box to say you understand, or go back to your account.")
        return page.render("account/erase.html", status_code=400, errors={CONFIRM: error})
    answer = (await page.query("account/eraseMyData"))["eraseMyData"]
    if page.is_problem(answer):
        return page.render(
            "account/erase.html", status_code=400, errors={FORM: page.errors(answer)[FORM]}
        )
    # The erasure ended every session of the member; this browser's goes too.
    page.session.sign_out()
    page.notify(
        page.gettext(
            "Your personal data is erased and you are signed out. "
            "Your rides, hours and credits stay in the co-op's books under your member number."
        ),
        "success",
    )
    return page.redirect("/")


async def sign_out_everywhere(page: WebRequest) -> Response:
    answer = (await page.query("account/signOutEverywhere"))["signOutEverywhere"]
    if page.is_problem(answer):
        page.notify(page.errors(answer)[FORM], "error")
        return page.redirect("/account")
    page.session.sign_out()
    page.notify(page.gettext("You are signed out on every device."), "success")
    return page.redirect("/")


async def choose_language(page: WebRequest) -> Response:
    language = page.field("language")
    target = local_path(page.field("next"))
    if language not in page.web.languages:
        return page.redirect(target)
    if page.session.signed_in:
        answer = (await page.query("account/chooseLanguage", {"language": language}))[
            "chooseLanguage"
        ]
        if page.is_problem(answer):
            page.notify(page.errors(answer)[FORM], "error")
            return page.redirect(target)
    page.cookies.append(lambda response: remember_language(page.request, response, language))
    return page.redirect(target)


def _members_only(handler: Handler) -> Handler:
    """A page for members: a visitor is sent to sign in first (and comes back after)."""

    async def guarded(page: WebRequest) -> Response:
        if not page.session.signed_in:
            raise SignInRequired
        return await handler(page)

    return guarded


ROUTES = [
    get("/account", _members_only(account), "account"),
    post("/account/role", _members_only(request_role), "account-role"),
    get("/account/my-data", _members_only(my_data), "account-my-data"),
    get("/account/erase", _members_only(erase_confirmation), "account-erase-confirm"),
    post("/account/erase", _members_only(erase), "account-erase"),
    post("/account/sign-out-everywhere", _members_only(sign_out_everywhere), "account-sign-out"),
    post("/language", choose_language, "language"),
]
NAV = [NavLink(N_("My account"), "/account", "members")]
