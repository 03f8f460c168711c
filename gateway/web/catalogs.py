"""The web app's message catalogs: extract every string the pages show (Babel, with the
mapping in `babel.cfg`), file it by area, and update each language's catalogs without losing a
translation. `make web-messages` runs `python -m gateway.web.catalogs`.

An area is a page module's name: `routes/<area>.py` and `templates/<area>/` go to
`locale/<lang>/LC_MESSAGES/<area>.po`; everything else (base.html, errors/, forms.py, routing.py,
app.py...) to the frame's `messages.po`. A string used by several areas is in each of their
catalogs, so every area's file is complete on its own and nobody edits another's.

English is the language of the msgids and has no catalog to update; every other language with
a folder under `locale/` gets its catalogs updated (and new areas' files created). Updating
keeps every translation, drops none (strings no longer used are kept as obsolete `#~` entries)
and never guesses (no fuzzy matching): a new string is untranslated until someone translates
it, and `untranslated()` (a unit test, and `--check`) names it.
"""

from __future__ import annotations

import argparse
import io
import sys
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

from gateway.web.i18n import DOMAIN, LOCALE_DIR, SOURCE_LANGUAGE

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

WEB_DIR = Path(__file__).resolve().parent
MAPPING = WEB_DIR / "babel.cfg"
REPO_DIR = WEB_DIR.parents[1]
KEYWORDS = {**DEFAULT_KEYWORDS, "N_": None}
# Comments written by the Babel header of a new catalog; kept short and true.
PROJECT = "Muni web app"


@dataclass(frozen=True)
class Found:
    """One string used in the web app's code: where, and in which area's catalog it goes."""

    msgid: str
    path: str  # relative to the repository, as catalogs show locations
    line: int
    area: str
    flags: frozenset[str]


def areas(web_dir: Path = WEB_DIR) -> frozenset[str]:
    """The page areas: the modules under routes/."""
    return frozenset(p.stem for p in (web_dir / "routes").glob("*.py") if p.stem != "__init__")


def area_of(path: str, known: frozenset[str]) -> str:
    """The catalog a file's strings go to, for a path relative to gateway/web: an area's
    module and its templates folder go to the area's, the rest (errors/ included) to the
    frame's."""
    parts = PurePosixPath(path).parts
    if len(parts) == 2 and parts[0] == "routes" and parts[1].endswith(".py"):
        stem = parts[1][: -len(".py")]
        return stem if stem in known else DOMAIN
    if len(parts) >= 3 and parts[0] == "templates" and parts[1] in known:
        return parts[1]
    return DOMAIN


def extract(web_dir: Path = WEB_DIR, mapping: Path = MAPPING) -> list[Found]:
    """Every translatable string under `web_dir`, by the mapping in `mapping` (babel.cfg)."""
    with mapping.open(encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh)  # type: ignore[no-untyped-call]
    known = areas(web_dir)
    found: list[Found] = []
    for filename, line, message, _comments, context in extract_from_dir(
        str(web_dir), method_map, options_map, keywords=KEYWORDS, strip_comment_tags=True
    ):
        if context is not None or isinstance(message, tuple):
            # Plurals and contexts are not used by the pages (yet); refuse them loudly rather
            # than drop them from the catalogs.
            raise ValueError(f"{filename}:{line}: plurals and contexts are not supported")
        if not message:
            continue
        shown = _relative(web_dir / filename)
        found.append(Found(message, shown, line, area_of(filename, known), _flags(message)))
    return found


def _relative(path: Path) -> str:
    try:
        return path.resolve().relative_to(REPO_DIR).as_posix()
    except ValueError:
        return path.as_posix()


def _flags(message: str) -> frozenset[str]:
    # What Babel's extract command marks, so `read_po`/`write_po` keep the same flags.
    catalog = Catalog()
    catalog.add(message)
    return frozenset(catalog[message].flags)


def templates(found: Iterable[Found]) -> dict[str, Catalog]:
    """A template catalog (a .pot, in memory) per area."""
    out: dict[str, Catalog] = {}
    for item in found:
        catalog = out.setdefault(item.area, Catalog(project=PROJECT, domain=DOMAIN))
        existing = catalog.get(item.msgid)
        if existing is None:
            catalog.add(item.msgid, locations=[(item.path, item.line)], flags=item.flags)
        else:
            existing.locations.append((item.path, item.line))
    return out


def languages(locale_dir: Path = LOCALE_DIR) -> list[str]:
    """The languages that have (or are to have) catalogs: every folder under locale/ but
    English's, whose msgids are the text."""
    if not locale_dir.is_dir():
        return []
    return sorted(p.name for p in locale_dir.iterdir() if p.is_dir() and p.name != SOURCE_LANGUAGE)


def catalog_file(locale_dir: Path, language: str, area: str) -> Path:
    return locale_dir / language / "LC_MESSAGES" / f"{area}.po"


def updated(
    template: Catalog,
    existing: Catalog | None,
    language: str,
    known: Mapping[str, str] | None = None,
) -> Catalog:
    """`existing` brought up to `template`: every translation kept, strings no longer used
    kept as obsolete, a new string translated as another catalog of the language translates
    the very same msgid (`known`: a string moving to its area's file keeps its words), else
    left empty."""
    if existing is None:
        catalog = Catalog(locale=language, project=PROJECT, domain=DOMAIN)
        catalog.update(template, no_fuzzy_matching=True)
    else:
        # update() would forget what was obsolete before; keep it unless the string is back.
        before = dict(existing.obsolete)
        existing.update(template, no_fuzzy_matching=True, update_header_comment=False)
        for msgid, message in before.items():
            if msgid not in existing and msgid not in existing.obsolete:
                existing.obsolete[msgid] = message
        catalog = existing
    for message in catalog:
        if message.id and not message.string and isinstance(message.id, str):
            message.string = (known or {}).get(message.id, "")
    return catalog


def render(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    # Locations without line numbers: a catalog changes when its strings do, not whenever a
    # line is added above one (fewer merge conflicts between areas).
    write_po(out, catalog, sort_output=False, include_previous=False, include_lineno=False)
    return out.getvalue()


def _same_but_dates(a: bytes, b: bytes) -> bool:
    def body(text: bytes) -> list[bytes]:
        return [line for line in text.splitlines() if not line.startswith(b'"POT-Creation-Date')]

    return body(a) == body(b)


def read(path: Path, language: str) -> Catalog | None:
    if not path.is_file():
        return None
    with path.open("rb") as fh:
        return read_po(fh, locale=language, domain=DOMAIN)


def update(
    found: Sequence[Found], locale_dir: Path = LOCALE_DIR, *, write: bool = True
) -> list[Path]:
    """Update every language's catalogs to the strings `found`; return the files that changed
    (with `write=False`, that would change, and nothing is written). A catalog whose area has
    no strings any more is left alone (its translations are not thrown away)."""
    changed: list[Path] = []
    # What each language translates before anything is written (obsolete entries included):
    # a string leaving the frame's catalog for its area's is still known when the area's
    # catalog is made.
    known = {
        language: translations(language, locale_dir, obsolete=True)
        for language in languages(locale_dir)
    }
    for area, template in sorted(templates(found).items()):
        for language in languages(locale_dir):
            path = catalog_file(locale_dir, language, area)
            before = path.read_bytes() if path.is_file() else b""
            after = render(updated(template, read(path, language), language, known[language]))
            if _same_but_dates(before, after):
                continue
            changed.append(path)
            if write:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(after)
    return changed


def translations(
    language: str, locale_dir: Path = LOCALE_DIR, *, obsolete: bool = False
) -> dict[str, str]:
    """Every translated msgid of `language`, over all its catalogs (fuzzy ones do not count;
    obsolete ones only with `obsolete`)."""
    folder = locale_dir / language / "LC_MESSAGES"
    catalogs = [read(path, language) for path in sorted(folder.glob("*.po"))]
    live = [message for catalog in catalogs if catalog is not None for message in catalog]
    gone = [m for c in catalogs if c is not None and obsolete for m in c.obsolete.values()]
    out: dict[str, str] = {}
    for message in [*live, *gone]:  # a live translation wins over an obsolete one
        if message.id and isinstance(message.id, str) and message.string and not message.fuzzy:
            out.setdefault(message.id, str(message.string))
    return out


def untranslated(
    found: Iterable[Found], language: str, locale_dir: Path = LOCALE_DIR
) -> list[Found]:
    """The strings the pages use that no catalog of `language` translates."""
    known = translations(language, locale_dir)
    return [item for item in found if item.msgid not in known]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m gateway.web.catalogs",
        description="Extract the web app's strings into per-area catalogs and update them.",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="change nothing; fail if a catalog is out of date or a string is untranslated",
    )
    args = parser.parse_args(argv)
    found = extract()
    changed = update(found, write=not args.check)
    for path in changed:
        print(f"{'out of date' if args.check else 'updated'}: {_relative(path)}")
    missing = [
        (language, item) for language in languages() for item in untranslated(found, language)
    ]
    for language, item in missing:
        print(f"untranslated ({language}): {item.path}:{item.line}: {item.msgid!r}")
    if args.check and (changed or missing):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
