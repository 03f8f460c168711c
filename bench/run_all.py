"""Run every matching benchmark at short limits and write one Markdown summary.

Each benchmark is a module `bench.<name>` with `main(argv) -> int` that prints a Markdown table and
writes `bench/results/<name>.json`; here they write to `quick/` beside the summary instead, so a
quick run never overwrites a full-length run's record. They are imported one at a time, when
their turn comes, so a missing or broken one is reported in the summary (as "missing" or
"failed") instead of stopping the others. What each prints is captured and copied into the
summary under its own heading.

Run: python -m bench.run_all [--time-limit S] [--only NAME ...] [--out PATH]
Exit status: 0 when every benchmark ran and returned 0, else 1 (the summary is written either way).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import sys
import traceback
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bench.common import RESULTS_DIR, SHARED_BENCHMARKS, Stopwatch, markdown_table, results_in

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence


@dataclass(frozen=True)
class Benchmark:
    """One benchmark module and how to call it in quick mode."""

    name: str  # module bench.<name>
    title: str
    instances: Path | None = None  # the default instance folder, passed as the first argument
    takes_time_limit: bool = False

    def argv(self, time_limit_s: float) -> list[str]:
        args = [str(self.instances)] if self.instances is not None else []
        args.append("--quick")
        if self.takes_time_limit:
            args += ["--time-limit", f"{time_limit_s:g}"]
        return args


BENCHMARKS = (
    Benchmark("batch_assignment", "Immediate rides: batch assignment vs greedy"),
    Benchmark(
        "darp",
        "Dial-a-ride (Cordeau 2006)",
        SHARED_BENCHMARKS / "darp" / "cordeau-2006",
        takes_time_limit=True,
    ),
    Benchmark(
        "pdptw",
        "Pickup and delivery with time windows (Li & Lim 100)",
        SHARED_BENCHMARKS / "pdptw" / "li-lim-100",
        takes_time_limit=True,
    ),
    Benchmark(
        "shifts_curtois",
        "Shift rostering (Curtois & Qu)",
        SHARED_BENCHMARKS / "shift-scheduling" / "curtois-qu",
        takes_time_limit=True,
    ),
    Benchmark("city_week", "A week in a city"),
)


@dataclass(frozen=True)
class Outcome:
    benchmark: Benchmark
    state: str  # "ok" | "failed" | "missing"
    seconds: float
    output: str
    detail: str = ""


def run_one(
    benchmark: Benchmark,
    time_limit_s: float,
    importer: Callable[[str], object] = importlib.import_module,
) -> Outcome:
    """Import and run one benchmark, capturing what it prints; never raises."""
    module_name = f"bench.{benchmark.name}"
    clock = Stopwatch()
    try:
        module = importer(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            return Outcome(benchmark, "missing", clock.seconds, "", f"no module {module_name}")
        return Outcome(benchmark, "failed", clock.seconds, "", f"import failed: {exc!r}")
    except Exception as exc:
        return Outcome(benchmark, "failed", clock.seconds, "", f"import failed: {exc!r}")
    main = getattr(module, "main", None)
    if not callable(main):
        return Outcome(benchmark, "failed", clock.seconds, "", f"{module_name} has no main(argv)")

    captured = io.StringIO()
    argv = benchmark.argv(time_limit_s)
    try:
        with contextlib.redirect_stdout(captured):
            code = main(argv)
    except SystemExit as exc:  # argparse errors and explicit exits
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except Exception as exc:
        last = traceback.format_exception_only(exc)[-1].strip()
        return Outcome(benchmark, "failed", clock.seconds, captured.getvalue(), last)
    if code not in (0, None):
        detail = f"main({argv}) returned {code}"
        return Outcome(benchmark, "failed", clock.seconds, captured.getvalue(), detail)
    return Outcome(benchmark, "ok", clock.seconds, captured.getvalue())


def summary(outcomes: Sequence[Outcome], total_seconds: float, time_limit_s: float) -> str:
    ok = sum(o.state == "ok" for o in outcomes)
    lines = [
        "# Matching benchmarks (quick)",
        "",
        f"Run at {datetime.now(UTC).isoformat(timespec='seconds')}, "
        f"solver time limit {time_limit_s:g} s per instance where the benchmark takes one.",
        "",
        markdown_table(
            ["benchmark", "state", "seconds", "note"],
            [
                [f"{o.benchmark.name}", o.state, o.seconds, o.detail or o.benchmark.title]
                for o in outcomes
            ]
            + [["**total**", f"{ok}/{len(outcomes)} ok", total_seconds, ""]],
        ),
    ]
    for o in outcomes:
        lines += ["", f"## {o.benchmark.name}: {o.benchmark.title}", ""]
        if o.state == "missing":
            lines.append(f"_Missing: {o.detail}._")
            continue
        if o.state == "failed":
            lines.append(f"_Failed: {o.detail}._")
        lines.append(_demote_headings(o.output.strip()) or "_(printed nothing)_")
    return "\n".join(lines) + "\n"


def _demote_headings(text: str) -> str:
    """Push a benchmark's own Markdown headings below the summary's `##`."""
    return "\n".join("##" + line if line.startswith("#") else line for line in text.splitlines())


def main(argv: list[str] | None = None) -> int:
    names = [b.name for b in BENCHMARKS]
    parser = argparse.ArgumentParser(description="Run every matching benchmark in quick mode.")
    parser.add_argument("--time-limit", type=float, default=2.0, help="seconds per instance")
    parser.add_argument("--only", nargs="+", choices=names, help="run only these benchmarks")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "summary.md")
    args = parser.parse_args(argv)

    chosen = [b for b in BENCHMARKS if not args.only or b.name in args.only]
    clock = Stopwatch()
    outcomes = []
    # Quick results go beside the summary, never over a full-length run's JSON.
    with results_in(args.out.parent / "quick"):
        for benchmark in chosen:
            print(f"running bench.{benchmark.name} ...", file=sys.stderr, flush=True)
            outcome = run_one(benchmark, args.time_limit)
            print(f"  {outcome.state} in {outcome.seconds:.1f} s", file=sys.stderr, flush=True)
            outcomes.append(outcome)
    text = summary(outcomes, clock.seconds, args.time_limit)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)
    print(f"wrote {args.out}")
    return 0 if all(o.state == "ok" for o in outcomes) else 1


if __name__ == "__main__":
    raise SystemExit(main())
