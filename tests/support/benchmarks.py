"""The shared public benchmark instances: needed by the readers' and solvers' tests."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pathlib import Path


def benchmark_files_required(folder: Path) -> list[pytest.MarkDecorator]:
    """Skip (with the reason) when the instance folder is missing; under `make test` and CI
    (MUNI_REQUIRE_SERVERS=1) a missing folder is a failure instead, never a silent skip."""
    if folder.is_dir():
        return []
    reason = (
        f"benchmark instances not found at {folder}; set MUNI_BENCHMARKS_DIR to the folder "
        "that holds darp/, pdptw/ and shift-scheduling/"
    )
    if os.environ.get("MUNI_REQUIRE_SERVERS") == "1":
        raise pytest.UsageError(reason)
    return [pytest.mark.skip(reason=reason)]
