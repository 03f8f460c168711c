"""Best-known values from a benchmark folder's `bks.csv`."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path


@dataclass(frozen=True, slots=True)
class BestKnown:
    """A best-known solution value: `cost` (DARP distance) and, for PDPTW, `vehicles`."""

    instance: str
    cost: float
    vehicles: int | None = None


def find_bks_csv(folder: Path) -> Path | None:
    """The nearest `bks.csv` in `folder` or one of its parents (benchmarks keep it one level up)."""
    folder = folder.resolve()
    for candidate in (folder, *folder.parents):
        path = candidate / "bks.csv"
        if path.is_file():
            return path
    return None


def read_bks(path: Path) -> dict[str, BestKnown]:
    """Parse a bks.csv (a file, or a folder to search from) into instance name -> best known.

    Understands both shared layouts: `best_known_cost` (DARP) and `bks_vehicles`/`bks_distance`
    (Li & Lim, Gehring & Homberger).
    """
    csv_path = path if path.is_file() else find_bks_csv(path)
    if csv_path is None:
        return {}
    out: dict[str, BestKnown] = {}
    with csv_path.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            name = row["instance"].strip()
            if row.get("best_known_cost"):
                out[name] = BestKnown(name, float(row["best_known_cost"]))
            elif row.get("bks_distance"):
                vehicles = int(row["bks_vehicles"]) if row.get("bks_vehicles") else None
                out[name] = BestKnown(name, float(row["bks_distance"]), vehicles)
    return out
