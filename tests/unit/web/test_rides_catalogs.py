"""The rider's and the driver's Dutch catalogs hold every string their pages mark, each
translated, with the same placeholders as the English."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

WEB = Path(__file__).resolve().parents[3] / "gateway" / "web"
SOURCES = {
    "rider": [
        WEB / "routes" / "rider.py",
        WEB / "rides.py",
        *sorted((WEB / "templates" / "rider").glob("*.html")),
    ],
    "driver": [
        WEB / "routes" / "driver.py",
        *sorted((WEB / "templates" / "driver").glob("*.html")),
    ],
}
KEYWORDS = {"_": None, "gettext": None, "N_": None}
PLACEHOLDER = re.compile(r"%\(\w+\)s|\{\w+\}")


def marked(path: Path) -> set[str]:
    method = "python" if path.suffix == ".py" else "jinja2"
    options = {} if method == "python" else {"extensions": "jinja2.ext.i18n"}
    found = extract_from_file(method, str(path), keywords=KEYWORDS, options=options)
    return {m[1] for m in found if isinstance(m[1], str)}


@pytest.mark.parametrize("area", sorted(SOURCES))
def test_every_marked_string_is_translated_with_its_placeholders(area: str) -> None:
    with (WEB / "locale" / "nl" / "LC_MESSAGES" / f"{area}.po").open("rb") as fh:
        catalog = {m.id: str(m.string) for m in read_po(fh) if isinstance(m.id, str) and m.id}
    wanted = set().union(*(marked(p) for p in SOURCES[area]))
    assert len(wanted) > 20  # the extraction found the pages' strings
    assert wanted - set(catalog) == set()
    for msgid in wanted:
        assert catalog[msgid], msgid
        assert sorted(PLACEHOLDER.findall(catalog[msgid])) == sorted(PLACEHOLDER.findall(msgid))
