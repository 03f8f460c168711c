"""Pages for one role: `for_role("dispatcher", handler)` sends a visitor to sign in and shows a
member without the role a 403 page in their language, before `handler` runs.

The API checks the role again on every query (kernel.permissions); this only spares a member
a page of "not authorized" answers and says plainly whose page it is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gateway.web.forms import N_
from gateway.web.routing import SignInRequired

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from starlette.responses import Response

    from gateway.web.routing import WebRequest

ROLE_NAMES = {"dispatcher": N_("dispatcher"), "board": N_("board")}


def for_role(
    role: str, handler: Callable[[WebRequest], Awaitable[Response]]
) -> Callable[[WebRequest], Awaitable[Response]]:
    async def guarded(page: WebRequest) -> Response:
        if not page.session.signed_in:
            raise SignInRequired
        if not page.session.holds(role):
            return page.render(
                "errors/error.html",
                status_code=403,
                title=page.gettext("This page is not for your account"),
                detail=page.gettext(
                    "It needs the %(role)s role. The board grants roles: ask it from My account.",
                    role=page.gettext(ROLE_NAMES.get(role, role)),
                ),
            )
        return await handler(page)

    guarded.__name__ = getattr(handler, "__name__", "page")
    return guarded
