"""Sign up, sign in, sign out (to come)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.routing import Route

    from gateway.web.routing import NavLink

ROUTES: list[Route] = []
NAV: list[NavLink] = []
