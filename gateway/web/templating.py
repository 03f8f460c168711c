"""Jinja2 environments, one per language, with autoescaping on for every template.

Everything a member typed is escaped (a display name `<script>` shows as text); `{% trans %}`
and `_()` come from the i18n extension with the language's catalog (newstyle gettext, so a
`%(name)s` placeholder is escaped too). Money, numbers and dates are formatted for the language
with Babel (`|money(currency)`, `|number`, `|when`).
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from gateway.web import i18n

if TYPE_CHECKING:
    from collections.abc import Mapping

    from babel.support import NullTranslations

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_PREFIX = "/static/"


@functools.cache
def _fingerprint(path: str) -> str:
    """A short hash of a static file, so a new version is fetched and old ones can be cached."""
    file = STATIC_DIR / path
    if not file.is_file():
        return "missing"
    return hashlib.sha256(file.read_bytes()).hexdigest()[:10]


def static_url(path: str) -> str:
    """The URL of a file under static/ (vendor/ included), with its fingerprint."""
    return f"{STATIC_PREFIX}{path}?v={_fingerprint(path)}"


def environments(
    translations: Mapping[str, NullTranslations], *, timezone: str, globals: Mapping[str, Any]
) -> dict[str, Environment]:
    """An environment per language, sharing the templates folder."""
    out: dict[str, Environment] = {}
    for language, catalog in translations.items():
        env = Environment(
            loader=FileSystemLoader(TEMPLATES_DIR),
            autoescape=True,
            undefined=StrictUndefined,
            extensions=["jinja2.ext.i18n"],
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.install_gettext_translations(catalog, newstyle=True)  # type: ignore[attr-defined]
        env.filters["money"] = functools.partial(_money, language=language)
        env.filters["number"] = functools.partial(_number, language=language)
        env.filters["when"] = functools.partial(_when, language=language, timezone=timezone)
        env.globals.update(globals)
        env.globals["static"] = static_url
        env.globals["lang"] = language
        out[language] = env
    return out


def _money(amount: Any, currency: str, *, language: str) -> str:
    return i18n.money(amount, currency, language)


def _number(value: Any, *, language: str) -> str:
    return i18n.number(value, language)


def _when(value: Any, *, language: str, timezone: str) -> str:
    from datetime import datetime

    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return i18n.when(moment, language, timezone)
