"""Readers for public routing benchmark files, turned into `matching.routing` problems."""

from __future__ import annotations

from matching.instances.bks import BestKnown, find_bks_csv, read_bks
from matching.instances.cordeau import read_cordeau
from matching.instances.lilim import lexicographic_fixed_cost, read_lilim

__all__ = [
    "BestKnown",
    "find_bks_csv",
    "lexicographic_fixed_cost",
    "read_bks",
    "read_cordeau",
    "read_lilim",
]
