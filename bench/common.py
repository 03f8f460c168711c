"""What every benchmark script shares: a results folder, a Markdown table, a JSON record."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

RESULTS_DIR = Path(__file__).resolve().parent / "results"
# Where write_result puts JSON unless told otherwise; `results_in` moves it for a while (the quick
# summary run writes to results/quick/, so it never overwrites a full-length run's record).
_results_dir = [RESULTS_DIR]


@contextlib.contextmanager
def results_in(folder: Path) -> Iterator[Path]:
    """Write every benchmark's JSON into `folder` inside the block."""
    _results_dir.append(folder)
    try:
        yield folder
    finally:
        _results_dir.pop()


def _find_shared_benchmarks() -> Path:
    """The public benchmark instances: $MUNI_BENCHMARKS_DIR, else `shared/benchmarks` beside
    the checkout, else /work/shared/benchmarks (where this workplace keeps them)."""
    candidates = [
        os.environ.get("MUNI_BENCHMARKS_DIR"),
        Path(__file__).resolve().parents[2] / "shared" / "benchmarks",
        "/work/shared/benchmarks",
    ]
    for candidate in candidates:
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return Path(__file__).resolve().parents[2] / "shared" / "benchmarks"


SHARED_BENCHMARKS = _find_shared_benchmarks()


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Render rows as a GitHub Markdown table; floats get 3 decimals."""

    def cell(value: Any) -> str:
        if isinstance(value, float):
            return f"{value:.3f}"
        return str(value)

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def write_result(name: str, payload: Mapping[str, Any], *, out_dir: Path | None = None) -> Path:
    """Write `payload` plus machine/time metadata to `<out_dir>/<name>.json`; return the path."""
    out = out_dir or _results_dir[-1]
    out.mkdir(parents=True, exist_ok=True)
    record = {
        "benchmark": name,
        "written_at": datetime.now(UTC).isoformat(),
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        **payload,
    }
    path = out / f"{name}.json"
    path.write_text(json.dumps(record, indent=2, default=str))
    return path


class Stopwatch:
    """Wall-clock seconds since construction (perf_counter)."""

    def __init__(self) -> None:
        self._start = time.perf_counter()

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self._start
