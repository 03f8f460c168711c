"""Every string the desk's and the board's pages show has its Dutch translation in the areas'
own catalogs (locale/nl/LC_MESSAGES/desk.po and board.po), and the pages speak it."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir, extract_from_file
from babel.messages.pofile import read_po

from gateway.web.i18n import LOCALE_DIR

WEB = Path(__file__).resolve().parents[3] / "gateway" / "web"
KEYWORDS = {"_": None, "gettext": None, "N_": None}
JINJA = [("**.html", "jinja2")]
OPTIONS = {"**.html": {"extensions": "jinja2.ext.i18n"}}
SOURCES = {
    "desk": (
        ["routes/desk.py", "roles.py", "desk_input.py"],
        ["templates/desk"],
    ),
    "board": (["routes/board.py"], ["templates/board"]),
}


def msgids(area: str) -> set[str]:
    files, folders = SOURCES[area]
    found: set[object] = set()
    for name in files:
        found |= {m[1] for m in extract_from_file("python", WEB / name, keywords=KEYWORDS)}
    for folder in folders:
        for _, _, message, *_ in extract_from_dir(
            WEB / folder, method_map=JINJA, options_map=OPTIONS, keywords=KEYWORDS
        ):
            found.add(message)
    # A plural call answers a tuple; these pages use none, so only strings are kept.
    return {m for m in found if isinstance(m, str)}


@pytest.mark.parametrize("area", sorted(SOURCES))
def test_every_string_of_the_area_has_a_dutch_translation(area: str) -> None:
    wanted = msgids(area)
    assert len(wanted) > 50
    with (LOCALE_DIR / "nl" / "LC_MESSAGES" / f"{area}.po").open("rb") as fh:
        catalog = read_po(fh, locale="nl")
    translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
    assert sorted(wanted - translated) == []


def test_a_placeholder_survives_translation() -> None:
    for area in SOURCES:
        with (LOCALE_DIR / "nl" / "LC_MESSAGES" / f"{area}.po").open("rb") as fh:
            for message in read_po(fh, locale="nl"):
                if not isinstance(message.id, str) or not message.id:
                    continue
                assert isinstance(message.string, str), message.id
                for placeholder in ("%(", "{"):
                    assert message.id.count(placeholder) == message.string.count(placeholder), (
                        message.id
                    )
