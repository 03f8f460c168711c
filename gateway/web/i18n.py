"""Languages: the city's (`languages` in its config, the first the default), the gettext
catalogs under `locale/<lang>/LC_MESSAGES/` read with Babel (`messages.po` for the frame,
`<area>.po` for each page area, merged), and how a request's
language is chosen: the member's choice (kept on their account and, like a visitor's, in the
`muni_lang` cookie), then the browser's Accept-Language, then the city's default.

Catalogs are compiled in memory at start-up from the .po files, so there is no build step and no
binary file in the repository. `make web-messages` extracts the strings again (babel.cfg) and
updates both catalogs.
"""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from babel.core import Locale, negotiate_locale
from babel.dates import format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal
from babel.support import NullTranslations, Translations

from gateway.web.session import LANGUAGE_COOKIE

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from starlette.requests import Request

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"
SOURCE_LANGUAGE = "en"  # the msgids are English


class MissingCatalog(LookupError):
    """A city offers a language the web app has no catalog for."""


def catalog_path(language: str, area: str = DOMAIN) -> Path:
    """A language's catalog for one area (`messages` is the frame's own)."""
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{area}.po"


def catalog_paths(language: str) -> list[Path]:
    """Every catalog of a language: the frame's `messages.po` first, then one per page area
    (`rider.po`, `board.po`, ...), so a service adds its pages' words without touching
    anyone else's file."""
    folder = catalog_path(language).parent
    areas = sorted(p for p in folder.glob("*.po") if p.stem != DOMAIN) if folder.is_dir() else []
    frame = catalog_path(language)
    return ([frame] if frame.is_file() else []) + areas


def compile_catalog(path: Path, language: str) -> Translations:
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def load_translations(languages: Sequence[str]) -> dict[str, NullTranslations]:
    """One Translations per language, all its catalogs merged; a language without a catalog
    stops the gateway here (English, the language of the msgids, needs none)."""
    out: dict[str, NullTranslations] = {}
    for language in languages:
        paths = catalog_paths(language)
        if not paths:
            if language == SOURCE_LANGUAGE:
                out[language] = NullTranslations()
                continue
            raise MissingCatalog(
                f"the city offers {language!r} but there is no catalog at "
                f"{catalog_path(language)} (add it with `make web-messages`, then translate it)"
            )
        merged = compile_catalog(paths[0], language)
        for path in paths[1:]:
            merged.merge(compile_catalog(path, language))
        out[language] = merged
    return out


def language_name(language: str) -> str:
    """The language's name in itself ("Nederlands"), for the language switch."""
    name = Locale.parse(language).get_display_name(language) or language
    return name[:1].upper() + name[1:]


def from_accept_language(header: str | None, offered: Sequence[str]) -> str | None:
    """The best of `offered` for an Accept-Language header (by q-value), or None."""
    if not header:
        return None
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if tag and quality > 0:
            weighted.append((-quality, index, tag.strip().replace("_", "-")))
    preferred = [tag for _, _, tag in sorted(weighted)]
    found = negotiate_locale(preferred, list(offered), sep="-")
    if found is None:  # "nl-BE" where only "nl" is offered
        found = negotiate_locale([t.split("-")[0] for t in preferred], list(offered), sep="-")
    return found


def choose_language(request: Request, offered: Sequence[str]) -> str:
    """The request's language: the cookie (the member's or visitor's choice), else the
    browser's, else the city's default."""
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen is not None and chosen in offered:
        return chosen
    return from_accept_language(request.headers.get("accept-language"), offered) or offered[0]


def money(amount: Decimal | str | float, currency: str, language: str) -> str:
    return format_currency(Decimal(str(amount)), currency, locale=language)


def number(value: Decimal | str | float, language: str) -> str:
    return format_decimal(Decimal(str(value)), locale=language)


def when(value: datetime, language: str, timezone: str) -> str:
    return format_datetime(value, format="medium", tzinfo=ZoneInfo(timezone), locale=language)
