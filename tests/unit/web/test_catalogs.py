"""The web app's words: every string a page shows has a Dutch translation in some catalog (an
untranslated string fails the build), strings are filed by area, and updating the catalogs
keeps every translation."""

from __future__ import annotations

import re
import shutil
from typing import TYPE_CHECKING

import pytest
from babel.messages.pofile import read_po

from gateway.web import catalogs
from gateway.web.i18n import LOCALE_DIR, load_translations

if TYPE_CHECKING:
    from pathlib import Path

FOUND = catalogs.extract()


def test_strings_are_found_in_templates_routes_and_the_frame() -> None:
    by_area = {(item.area, item.msgid) for item in FOUND}
    assert ("account", "My account") in by_area  # N_ in routes/account.py, _() in templates
    assert ("account", "Erase my personal data") in by_area  # templates/account/erase.html
    assert ("messages", "This form has expired") in by_area  # routing.py: the frame's
    assert ("messages", "Skip to content") in by_area  # base.html
    assert ("messages", "Go to the home page") in by_area  # errors/ is the frame's too


@pytest.mark.parametrize("language", catalogs.languages())
def test_every_string_the_pages_use_is_translated(language: str) -> None:
    missing = catalogs.untranslated(FOUND, language)
    assert missing == [], "\n".join(f"{m.path}:{m.line}: {m.msgid!r}" for m in missing)


PLACEHOLDERS = re.compile(r"%\((\w+)\)s|\{(\w+)\}")


@pytest.mark.parametrize("language", catalogs.languages())
def test_every_translation_keeps_the_placeholders_of_its_string(language: str) -> None:
    """A translation without `%(role)s` (or with one of its own) would fail on the page."""
    known = catalogs.translations(language)

    def names(text: str) -> set[str]:
        return {a or b for a, b in PLACEHOLDERS.findall(text)}

    wrong = {
        item.msgid: known[item.msgid]
        for item in FOUND
        if item.msgid in known and names(item.msgid) != names(known[item.msgid])
    }
    assert wrong == {}


def test_the_gateway_shows_an_area_s_words_in_dutch() -> None:
    dutch = load_translations(["en", "nl"])["nl"]
    assert dutch.gettext("This form has expired") == "Dit formulier is verlopen"
    assert dutch.gettext("Erase my data") == "Mijn gegevens wissen"


@pytest.fixture
def sandbox(tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the web app's code, templates and Dutch catalogs to change freely."""
    web = tmp_path / "web"
    for folder in ("routes", "templates"):
        shutil.copytree(catalogs.WEB_DIR / folder, web / folder)
    for module in catalogs.WEB_DIR.glob("*.py"):
        shutil.copy(module, web / module.name)
    shutil.copy(catalogs.MAPPING, web / "babel.cfg")
    locale = tmp_path / "locale"
    shutil.copytree(LOCALE_DIR / "nl", locale / "nl")
    return web, locale


def test_a_new_string_is_untranslated_until_someone_translates_it(
    sandbox: tuple[Path, Path],
) -> None:
    web, locale = sandbox
    template = web / "templates" / "account" / "account.html"
    template.write_text(
        template.read_text().replace(
            "{% endblock %}", '<p>{{ _("A brand new line") }}</p>\n{% endblock %}', 1
        )
    )
    found = catalogs.extract(web, web / "babel.cfg")

    missing = catalogs.untranslated(found, "nl", locale)

    assert [(m.msgid, m.area) for m in missing if m not in FOUND] == [
        ("A brand new line", "account")
    ]


def test_updating_keeps_every_translation_and_adds_the_new_string(
    sandbox: tuple[Path, Path],
) -> None:
    web, locale = sandbox
    before = catalogs.translations("nl", locale)
    route = web / "routes" / "account.py"
    route.write_text(route.read_text() + '\nNEW = N_("Another new line")\n')
    found = catalogs.extract(web, web / "babel.cfg")

    changed = catalogs.update(found, locale)

    assert locale / "nl" / "LC_MESSAGES" / "account.po" in changed
    after = catalogs.translations("nl", locale, obsolete=True)
    assert {k: v for k, v in after.items() if k in before} == before  # none lost
    with (locale / "nl" / "LC_MESSAGES" / "account.po").open("rb") as fh:
        account = read_po(fh, locale="nl")
    assert account["Another new line"].string == ""
    assert account["My account"].string == "Mijn account"
    assert catalogs.update(found, locale) == []  # a second run changes nothing


def test_a_string_moving_to_its_area_keeps_its_translation(sandbox: tuple[Path, Path]) -> None:
    """The fares page's words were in the frame's catalog; its own area's gets them, with
    their Dutch, and the frame's keeps them as obsolete (never lost)."""
    web, locale = sandbox
    (locale / "nl" / "LC_MESSAGES" / "public.po").unlink(missing_ok=True)
    found = catalogs.extract(web, web / "babel.cfg")

    catalogs.update(found, locale)

    with (locale / "nl" / "LC_MESSAGES" / "public.po").open("rb") as fh:
        public = read_po(fh, locale="nl")
    assert public["Our fares"].string == "Onze tarieven"
    assert [m for m in catalogs.untranslated(found, "nl", locale) if m.area == "public"] == []
    with (locale / "nl" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        frame = read_po(fh, locale="nl")
    assert "Our fares" not in frame
    assert frame.obsolete["Our fares"].string == "Onze tarieven"


def test_a_dry_run_names_what_would_change_and_writes_nothing(sandbox: tuple[Path, Path]) -> None:
    web, locale = sandbox
    route = web / "routes" / "account.py"
    route.write_text(route.read_text() + '\nNEW = N_("Yet another new line")\n')
    found = catalogs.extract(web, web / "babel.cfg")
    account_po = locale / "nl" / "LC_MESSAGES" / "account.po"
    before = account_po.read_bytes()

    assert account_po in catalogs.update(found, locale, write=False)
    assert account_po.read_bytes() == before


@pytest.mark.parametrize(
    ("path", "area"),
    [
        ("routes/account.py", "account"),
        ("templates/account/erase.html", "account"),
        ("templates/base.html", "messages"),
        ("templates/errors/error.html", "messages"),
        ("templates/home.html", "messages"),
        ("forms.py", "messages"),
        ("routes/__init__.py", "messages"),
    ],
)
def test_a_file_s_strings_go_to_its_area(path: str, area: str) -> None:
    assert catalogs.area_of(path, frozenset({"account", "public", "home"})) == area


def test_the_repositorys_catalogs_are_up_to_date() -> None:
    """Every page's strings are in its area's catalog as `make web-messages` writes them: run
    it after adding or moving a string (and translate what it adds)."""
    from gateway.web.catalogs import extract, update

    assert update(extract(), write=False) == []
