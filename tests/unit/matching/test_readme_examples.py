"""The examples in matching/README.md run as they stand and their own assertions hold.

A newcomer pastes them first; an API change that breaks one fails here, not in their shell.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[3] / "matching" / "README.md"
_BLOCK = re.compile(r"^## (?P<heading>.+?)$|^```python\n(?P<code>.*?)^```", re.M | re.S)


def _examples() -> list[tuple[str, str]]:
    """(heading the block sits under, code) for every python block, in order."""
    heading, out = "", []
    for match in _BLOCK.finditer(README.read_text(encoding="utf-8")):
        if match["heading"]:
            heading = match["heading"]
        else:
            out.append((heading, match["code"]))
    return out


EXAMPLES = _examples()


def test_the_readme_has_an_example_per_solver() -> None:
    headings = [heading for heading, _ in EXAMPLES]
    assert headings == [
        "Immediate rides: one batch",
        "A shared van: dial-a-ride",
        "Shifts: a roster",
    ]
    # each example checks its own answer, so running it is a test
    assert all("assert " in code for _, code in EXAMPLES)


@pytest.mark.parametrize(("heading", "code"), EXAMPLES, ids=[h for h, _ in EXAMPLES])
def test_example_runs(heading: str, code: str, capsys: pytest.CaptureFixture[str]) -> None:
    exec(compile(code, f"matching/README.md: {heading}", "exec"), {})  # noqa: S102 - our own docs
    assert capsys.readouterr().out.strip(), "the example prints what it found"
