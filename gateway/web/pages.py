"""The web app's pages: one module per area under `gateway/web/routes/`, each exporting
`ROUTES` (made with `gateway.web.routing.get`/`post`) and `NAV` (links in the layout, shown by
audience or role). Adding an area is its templates, its documents, its module and one line here.

The order is the order of the navigation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gateway.web.routes import (
    account,
    auth,
    board,
    contributions,
    contributions_board,
    contributions_simulate,
    decisions,
    desk,
    driver,
    home,
    public,
    rider,
)

if TYPE_CHECKING:
    from types import ModuleType

PAGES: tuple[ModuleType, ...] = (
    home,
    public,
    rider,
    driver,
    desk,
    board,
    contributions,
    decisions,
    contributions_board,
    contributions_simulate,
    account,
    auth,
)
