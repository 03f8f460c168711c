"""The routing benchmarks' --seeds: every instance once per seed, figures per seed and over all."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from bench import darp
from bench.baselines_routing import instance_run_args
from bench.common import SHARED_BENCHMARKS, results_in
from tests.support.benchmarks import benchmark_files_required

if TYPE_CHECKING:
    from pathlib import Path

DARP = SHARED_BENCHMARKS / "darp" / "cordeau-2006"

pytestmark = benchmark_files_required(SHARED_BENCHMARKS)


def _args(*argv: str) -> list[int]:
    args, _, _ = instance_run_args(
        list(argv),
        description="test",
        folder=DARP,
        time_limit=1.0,
        name="t",
        quick_count=1,
        quick_limit=1.0,
    )
    return list(args.seeds)


def test_seeds_default_to_the_single_seed() -> None:
    assert _args() == [0]
    assert _args("--seed", "4") == [4]
    assert _args("--seed", "4", "--seeds", "0,1,2") == [0, 1, 2]


@pytest.mark.parametrize("bad", ["0,x", "", "1,1"])
def test_bad_seed_lists_are_refused_by_name(bad: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        _args("--seeds", bad)
    assert "--seeds" in capsys.readouterr().err


def test_darp_with_two_seeds_reports_each_and_the_worst(tmp_path: Path) -> None:
    with results_in(tmp_path):
        only = ["--only", "a2-16", "--time-limit", "0.5", "--no-baseline"]
        code = darp.main([*only, "--seeds", "0,1", "--name", "t"])
    assert code == 0
    written = json.loads((tmp_path / "t.json").read_text())
    assert written["seeds"] == [0, 1]
    assert [(r["instance"], r["seed"]) for r in written["ours"]] == [("a2-16", 0), ("a2-16", 1)]
    summary = written["summary"]["ours"]
    assert set(summary) == {"seed_0", "seed_1", "over_seeds"}
    worst = max(r["gap_pct"] for r in written["ours"])
    assert summary["over_seeds"]["max_gap_pct"] == worst
    assert summary["over_seeds"]["runs"] == 2
