"""The language switch (visitors: a cookie; members: on their account too). My account's
pages (export, erase) are to come."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gateway.web.routing import local_path, post
from gateway.web.session import remember_language

if TYPE_CHECKING:
    from starlette.responses import Response

    from gateway.web.routing import NavLink, WebRequest


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
            page.notify(page.errors(answer)["_form"], "error")
            return page.redirect(target)
    page.cookies.append(lambda response: remember_language(page.request, response, language))
    return page.redirect(target)


ROUTES = [post("/language", choose_language, "language")]
NAV: list[NavLink] = []
