"""Sign up, sign in (a password, or the one-time code a desk handed out), sign out.

Signing in keeps the tokens in the sealed session cookie (never where a script can read them)
and the member's chosen language in the language cookie, so the pages speak it from the next
page on. Signing out ends this browser's session on the server too (`signOut` revokes its
refresh token), which matters on the library's shared computer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gateway.web.forms import FORM, N_
from gateway.web.routing import NavLink, get, local_path, post
from gateway.web.session import LANGUAGE_COOKIE, remember_language

if TYPE_CHECKING:
    from starlette.responses import Response

    from gateway.web.routing import WebRequest

SIGN_UP_FIELDS = ("displayName", "email", "phone", "password")


def _next(page: WebRequest) -> str:
    return local_path(page.field("next") or page.request.query_params.get("next"))


async def sign_in_page(page: WebRequest) -> Response:
    if page.session.signed_in:
        return page.redirect(_next(page))
    return page.render("auth/signin.html", next=_next(page), form="")


async def sign_up_page(page: WebRequest) -> Response:
    if page.session.signed_in:
        return page.redirect(_next(page))
    return page.render("auth/signup.html", next=_next(page))


async def _signed_in(page: WebRequest, answer: dict[str, Any]) -> Response:
    """Keep a SignedIn answer, take the member's language, go where they were going."""
    page.keep_tokens(answer)
    account = (await page.query("auth/myLanguage"))["myAccount"]
    language = None if page.is_problem(account) else account.get("language")
    chosen = page.request.cookies.get(LANGUAGE_COOKIE)
    if language is None and chosen in page.web.languages:
        # Chosen with the switch before signing up or in: keep it on the account, so every
        # browser they sign in on speaks it.
        await page.query("account/chooseLanguage", {"language": chosen})
    elif language in page.web.languages:
        page.cookies.append(
            lambda response: remember_language(page.request, response, str(language))
        )
    return page.redirect(_next(page))


async def sign_in(page: WebRequest) -> Response:
    login = page.field("login")
    answer = (
        await page.query(
            "auth/signIn", {"login": login, "password": page.field("password")}, member=False
        )
    )["signIn"]
    if page.is_problem(answer):
        return _refused_sign_in(page, answer, form="password", values={"login": login})
    return await _signed_in(page, answer)


async def sign_in_with_code(page: WebRequest) -> Response:
    code = page.field("code")
    answer = (await page.query("auth/signInWithCode", {"code": code}, member=False))[
        "signInWithCode"
    ]
    if page.is_problem(answer):
        return _refused_sign_in(page, answer, form="code", values={"code": code})
    return await _signed_in(page, answer)


def _refused_sign_in(
    page: WebRequest, answer: dict[str, Any], *, form: str, values: dict[str, str]
) -> Response:
    """The sign-in page again, the problem said above the form that was sent (`form`)."""
    return page.render(
        "auth/signin.html",
        status_code=400,
        next=_next(page),
        form=form,
        errors=page.errors(answer),
        values=values,
    )


async def sign_up(page: WebRequest) -> Response:
    values = {name: page.field(name) for name in SIGN_UP_FIELDS if name != "password"}
    errors: dict[str, str] = {}
    if not values["email"] and not values["phone"]:
        errors[FORM] = page.gettext("Give an email or a phone number, so you can sign in.")
    else:
        answer = (
            await page.query(
                "auth/signUp",
                {
                    "input": {
                        "displayName": values["displayName"],
                        "password": page.field("password"),
                        "email": values["email"] or None,
                        "phone": values["phone"] or None,
                    }
                },
                member=False,
            )
        )["signUp"]
        if not page.is_problem(answer):
            page.notify(page.gettext("Welcome! You are a member now."), "success")
            return await _signed_in(page, answer)
        errors = page.errors(answer, *SIGN_UP_FIELDS)
    return page.render(
        "auth/signup.html", status_code=400, next=_next(page), errors=errors, values=values
    )


async def sign_out(page: WebRequest) -> Response:
    refresh = page.session.refresh_token
    if refresh is not None:
        # Whatever the server answers (already ended, say), this browser forgets the session.
        await page.query("auth/signOut", {"refreshToken": refresh}, member=False)
    page.session.sign_out()
    page.notify(page.gettext("You are signed out."), "success")
    return page.redirect("/")


ROUTES = [
    get("/signin", sign_in_page, "signin"),
    post("/signin", sign_in, "signin-password"),
    post("/signin/code", sign_in_with_code, "signin-code"),
    get("/signup", sign_up_page, "signup"),
    post("/signup", sign_up, "signup-post"),
    post("/signout", sign_out, "signout"),
]
NAV = [NavLink(N_("Join"), "/signup", "visitors"), NavLink(N_("Sign in"), "/signin", "visitors")]
