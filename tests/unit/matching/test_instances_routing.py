"""Readers against the shared benchmark files."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from bench.common import SHARED_BENCHMARKS
from matching.instances import find_bks_csv, read_bks, read_cordeau, read_lilim
from matching.instances.lilim import lexicographic_fixed_cost
from tests.support.benchmarks import benchmark_files_required

if TYPE_CHECKING:
    from pathlib import Path

SHARED = SHARED_BENCHMARKS
DARP = SHARED / "darp" / "cordeau-2006"
LILIM = SHARED / "pdptw" / "li-lim-100"

pytestmark = benchmark_files_required(SHARED_BENCHMARKS)


def test_cordeau_a2_16() -> None:
    p = read_cordeau(DARP / "a2-16.txt")
    assert p.name == "a2-16"
    assert len(p.requests) == 16
    assert len(p.nodes) == 34
    assert len(p.vehicles) == 2
    v = p.vehicles[0]
    assert (v.start, v.end, v.capacity, v.max_duration) == (0, 33, 3, 480.0)
    r1 = p.request_by_id["1"]
    assert (r1.pickup, r1.dropoff, r1.load, r1.max_ride_time) == (1, 17, 1, 30.0)
    n9 = p.node(9)
    assert (n9.x, n9.y, n9.service, n9.earliest, n9.latest) == (7.976, -9.0, 3.0, 276.0, 291.0)
    assert (p.node(0).earliest, p.node(0).latest) == (0.0, 480.0)


def test_cordeau_b_set_has_larger_loads() -> None:
    p = read_cordeau(DARP / "b2-16.txt")
    assert p.request_by_id["1"].load == 6
    assert p.node(1).service == 6.0
    assert p.vehicles[0].capacity == 6
    assert p.request_by_id["1"].max_ride_time == 45.0


def test_lilim_lc101_crlf() -> None:
    assert b"\r\n" in (LILIM / "lc101.txt").read_bytes()
    p = read_lilim(LILIM / "lc101.txt")
    assert len(p.vehicles) == 25
    assert p.vehicles[0].capacity == 200
    assert len(p.requests) == 53
    assert len(p.nodes) == 107
    depot = p.node(0)
    assert (depot.x, depot.y, depot.latest) == (40.0, 50.0, 1236.0)
    # "1 45 68 -10 912 967 90 11 0": task 1 is the delivery of pickup 11.
    r = p.request_by_id["11"]
    assert (r.pickup, r.dropoff, r.load) == (11, 1, 10)
    assert p.node(1).earliest == 912.0
    assert p.vehicles[0].fixed_cost == lexicographic_fixed_cost(p.nodes)


def test_lf_and_crlf_parse_the_same(tmp_path: Path) -> None:
    raw = (LILIM / "lc201.txt").read_bytes()
    lf = tmp_path / "lc201.txt"
    lf.write_bytes(raw.replace(b"\r\n", b"\n"))
    assert read_lilim(lf) == read_lilim(LILIM / "lc201.txt")


def test_bks_files() -> None:
    darp = read_bks(DARP)
    assert find_bks_csv(DARP) == SHARED / "darp" / "bks.csv"
    assert len(darp) == 14
    assert darp["a2-16"].cost == pytest.approx(294.248)
    assert darp["b6-60"].cost == pytest.approx(860.070)
    pdptw = read_bks(LILIM)
    assert len(pdptw) == 29
    assert pdptw["lc101"].vehicles == 10
    assert pdptw["lc101"].cost == pytest.approx(828.9369)
    assert pdptw["lr207"].vehicles == 2
    assert pdptw["lr207"].cost == pytest.approx(903.0556)


def test_every_shared_instance_reads() -> None:
    for path in sorted(DARP.glob("*.txt")):
        assert read_cordeau(path).requests
    for path in sorted(LILIM.glob("*.txt")):
        assert read_lilim(path).requests
