"""The member's language follows them from device to device: it is kept on their account
(`chooseLanguage`), and whenever a browser signs in (a password, a desk's code, a sign-up) the
account's language becomes this browser's, in the `muni_lang` cookie.

An account without a language yet takes the one this browser chose before signing in, so a
visitor who switched to Dutch and then signed up keeps Dutch everywhere.

`routing._endpoint` calls `adopt_account_language` after any handler that signed a browser in,
so no sign-in page has to remember to.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from gateway.web.client import GraphQLFailure
from gateway.web.session import LANGUAGE_COOKIE, remember_language

if TYPE_CHECKING:
    from gateway.web.routing import WebRequest

log = logging.getLogger("gateway.web")


async def adopt_account_language(page: WebRequest) -> None:
    """Just signed in: make the account's language this browser's (or keep this browser's on
    an account that has none). Never fails the sign-in: a refusal leaves the language as is."""
    try:
        answer = (await page.query("account/myLanguage"))["myAccount"]
        if page.is_problem(answer):
            return
        kept = answer.get("language")
        if kept in page.web.languages:
            language = str(kept)
            page.cookies.append(
                lambda response: remember_language(page.request, response, language)
            )
            return
        chosen = page.request.cookies.get(LANGUAGE_COOKIE)
        if chosen in page.web.languages:
            await page.query("account/chooseLanguage", {"language": chosen})
    except GraphQLFailure as exc:
        log.warning("the account's language was not adopted at sign-in: %s", exc)
