"""Curtois & Qu shift scheduling: Muni's NRP model against the best reported penalty.

For every `.ros` instance in a folder, in the same run and with the same time limit:
- Muni's model (`matching.rostering.nrp.solve_nrp`, tuned),
- a plain CP-SAT model on default parameters (what one writes in an afternoon: every variable,
  the rules written as they read, no pruning, no hints, only the time limit set),
both checked by the independent checker (`matching.roster_check.check_nrp`).

    python -m bench.shifts_curtois ../shared/benchmarks/shift-scheduling/curtois-qu --time-limit 60

`bks.csv` is looked up in the folder and then in its parents, so another instance set with its own
`bks.csv` (columns `instance`, `best_reported_penalty`) runs without code changes.

    python -m bench.shifts_curtois --workers 1 --work-limit 24 --time-limit 120   # reproducible

`--work-limit` gives Muni's model a deterministic budget per instance (CP-SAT deterministic-time
units) instead of the clock: with `--workers 1` and the same seed the run is reproduced exactly
(each row's `muni_roster_sha256` says so), and `--time-limit` only caps the wall time (a row's
`muni_wall_capped` says whether it fired, which makes that row not reproducible). The plain
model then gets the wall time Muni's model took. Results: bench/results/shifts_curtois.json
(`shifts_curtois_work<W>.json` with a work limit).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ortools.sat.python import cp_model

from bench.common import SHARED_BENCHMARKS, Stopwatch, markdown_table, write_result
from matching.instances.curtois import DAY_OFF, CurtoisInstance, read_curtois
from matching.roster_check import check_nrp
from matching.rostering.nrp import solve_nrp

if TYPE_CHECKING:
    from collections.abc import Mapping

DEFAULT_FOLDER = SHARED_BENCHMARKS / "shift-scheduling" / "curtois-qu"


def find_bks(folder: Path) -> dict[str, int]:
    """Best reported penalty per instance name from the nearest `bks.csv` at or above `folder`."""
    for place in (folder, *folder.parents[:3]):
        path = place / "bks.csv"
        if path.is_file():
            with path.open(newline="") as fh:
                rows = list(csv.DictReader(fh))
            key = next(
                (k for k in (rows[0] if rows else {}) if k.startswith("best")),
                "best_reported_penalty",
            )
            return {r["instance"]: int(float(r[key])) for r in rows if r.get(key)}
    return {}


def solve_plain(instance: CurtoisInstance, time_limit_s: float) -> tuple[str, dict[Any, str]]:
    """The afternoon model: a variable per (employee, day, shift type), default parameters."""
    emps = [e.id for e in instance.employees]
    contract = {e.id: e.contract for e in instance.employees}
    days = list(range(instance.num_days))
    types = {t.id: t for t in instance.shift_types}
    m = cp_model.CpModel()
    x = {(e, d, s): m.new_bool_var(f"x{e}{d}{s}") for e in emps for d in days for s in types}
    w = {(e, d): m.new_bool_var(f"w{e}{d}") for e in emps for d in days}
    for e in emps:
        c = contract[e]
        for d in days:
            m.add(sum(x[e, d, s] for s in types) == w[e, d])
            for s in types:
                if c.valid_shifts is not None and s not in c.valid_shifts:
                    m.add(x[e, d, s] == 0)
        for d in days[:-1]:
            for s, a in types.items():
                for t, b in types.items():
                    if 1440 + b.start_minute - a.start_minute - a.duration < c.min_rest_minutes:
                        m.add(x[e, d, s] + x[e, d + 1, t] <= 1)
        for s, cap in c.max_shifts_per_type.items():
            m.add(sum(x[e, d, s] for d in days) <= cap)
        total = sum(types[s].duration * x[e, d, s] for d in days for s in types)
        if c.max_total_minutes is not None:
            m.add(total <= c.max_total_minutes)
        if c.min_total_minutes is not None:
            m.add(total >= c.min_total_minutes)
        if c.max_consecutive_shifts is not None:
            k = c.max_consecutive_shifts
            for d in range(len(days) - k):
                m.add(sum(w[e, d + i] for i in range(k + 1)) <= k)
        for lo, on in ((c.min_consecutive_shifts, True), (c.min_consecutive_days_off, False)):
            for length in range(1, lo or 0):
                for d in range(1, len(days) - length):
                    block = [w[e, i] if on else w[e, i].negated() for i in range(d, d + length)]
                    edge = [w[e, d - 1].negated(), w[e, d + length].negated()]
                    edge = [w[e, d - 1], w[e, d + length]] if on else edge
                    m.add_bool_or([*edge, *[b.negated() for b in block]])
        if c.max_weekends is not None:
            wks = []
            for weekend in instance.weekends():
                wk = m.new_bool_var(f"wk{e}{weekend[0]}")
                m.add_max_equality(wk, [w[e, d] for d in weekend])
                wks.append(wk)
            m.add(sum(wks) <= c.max_weekends)
    for fa in instance.fixed:
        if fa.shift == DAY_OFF:
            m.add(w[fa.employee, fa.day] == 0)
        else:
            m.add(x[fa.employee, fa.day, fa.shift] == 1)
    obj: list[Any] = []
    obj += [r.weight * (1 - x[r.employee, r.day, r.shift]) for r in instance.on_requests]
    obj += [r.weight * x[r.employee, r.day, r.shift] for r in instance.off_requests]
    for cov in instance.cover:
        n = sum(x[e, cov.day, cov.shift] for e in emps)
        if cov.min is not None:
            u = m.new_int_var(0, len(emps), "u")
            m.add(u >= cov.min - n)
            obj.append(cov.min_weight * u)
        if cov.max is not None:
            o = m.new_int_var(0, len(emps), "o")
            m.add(o >= n - cov.max)
            obj.append(cov.max_weight * o)
    m.minimize(sum(obj))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit_s
    code = solver.solve(m)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return solver.status_name(code), {}
    roster = {(e, d): s for (e, d, s), v in x.items() if solver.boolean_value(v)}
    return solver.status_name(code), roster


def _gap(value: int | None, best: int | None) -> float | None:
    if value is None or not best:
        return None
    return 100.0 * (value - best) / best


def roster_digest(roster: Mapping[tuple[str, int], str]) -> str:
    """A short fingerprint of a roster, to compare two runs without keeping both rosters."""
    text = "\n".join(f"{e} {d} {s}" for (e, d), s in sorted(roster.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def run(
    folder: Path,
    time_limit_s: float,
    seed: int,
    workers: int,
    quick: bool,
    work_limit: float | None = None,
) -> dict[str, Any]:
    bks = find_bks(folder)
    files = sorted(folder.glob("*.ros"), key=lambda p: (len(p.stem), p.stem))
    if quick:
        files = files[:2]
    rows: list[dict[str, Any]] = []
    for path in files:
        inst = read_curtois(path)
        best = bks.get(inst.name)
        clock = Stopwatch()
        res = solve_nrp(
            inst,
            time_limit_s=time_limit_s,
            seed=seed,
            num_workers=workers,
            work_limit=work_limit,
        )
        muni_s = clock.seconds
        rep = check_nrp(inst, res.roster) if res.status.has_solution else None
        t0 = time.perf_counter()
        # Same wall time as Muni's model: its limit, or what the work limit took.
        plain_status, plain_roster = solve_plain(
            inst, time_limit_s if work_limit is None else max(muni_s, 1.0)
        )
        plain_s = time.perf_counter() - t0
        prep = check_nrp(inst, plain_roster) if plain_roster else None
        rows.append(
            {
                "instance": inst.name,
                "employees": len(inst.employees),
                "days": inst.num_days,
                "best_reported": best,
                "muni_penalty": rep.penalty if rep else None,
                "muni_gap_pct": _gap(rep.penalty if rep else None, best),
                "muni_status": res.status.value,
                "muni_hard_rules_ok": bool(rep and rep.ok),
                "muni_solver_penalty": res.penalty.total if res.penalty else None,
                "muni_bound": res.best_bound,
                "muni_seconds": muni_s,
                "muni_work_done": res.work_done,
                "muni_wall_capped": res.wall_capped,
                "muni_roster_sha256": roster_digest(res.roster),
                "plain_penalty": prep.penalty if prep else None,
                "plain_gap_pct": _gap(prep.penalty if prep else None, best),
                "plain_status": plain_status,
                "plain_hard_rules_ok": bool(prep and prep.ok),
                "plain_seconds": plain_s,
                "violations": [str(v) for v in rep.violations] if rep else [],
            }
        )
    return {"rows": rows}


def _fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:.1f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("folder", nargs="?", type=Path, default=DEFAULT_FOLDER)
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=2, help="CP-SAT workers for Muni's model")
    ap.add_argument(
        "--work-limit",
        type=float,
        default=None,
        help="deterministic budget per instance (CP-SAT deterministic time); reproducible with "
        "--workers 1",
    )
    ap.add_argument("--quick", action="store_true", help="first two instances, 5 s each")
    ap.add_argument("--out-dir", type=Path, default=None)
    args = ap.parse_args(argv)
    if args.work_limit is not None and args.work_limit <= 0:
        ap.error("--work-limit must be positive")
    limit = min(args.time_limit, 5.0) if args.quick else args.time_limit
    payload = run(args.folder, limit, args.seed, args.workers, args.quick, args.work_limit)
    reproducible = (
        args.work_limit is not None
        and args.workers == 1
        and not any(r["muni_wall_capped"] for r in payload["rows"])
    )
    payload.update(
        {
            "folder": str(args.folder),
            "time_limit_s": limit,
            "work_limit": args.work_limit,
            "seed": args.seed,
            "workers": args.workers,
            "reproducible": reproducible,
        }
    )
    headers = [
        "instance",
        "E x D",
        "best",
        "Muni",
        "gap %",
        "hard ok",
        "status",
        "plain",
        "plain gap %",
        "plain ok",
        "plain status",
        "Muni s",
        "Muni work",
        "roster",
    ]
    table_rows = [
        [
            r["instance"],
            f"{r['employees']}x{r['days']}",
            r["best_reported"] or "-",
            r["muni_penalty"] if r["muni_penalty"] is not None else "-",
            _fmt(r["muni_gap_pct"]),
            "yes" if r["muni_hard_rules_ok"] else "NO",
            r["muni_status"],
            r["plain_penalty"] if r["plain_penalty"] is not None else "-",
            _fmt(r["plain_gap_pct"]),
            "yes" if r["plain_hard_rules_ok"] else "NO",
            r["plain_status"],
            r["muni_seconds"],
            r["muni_work_done"],
            r["muni_roster_sha256"],
        ]
        for r in payload["rows"]
    ]
    budget = f"{limit:g} s per solve"
    if args.work_limit is not None:
        budget = f"work limit {args.work_limit:g} per solve (wall cap {limit:g} s)"
    print(
        f"Curtois & Qu, {budget}, Muni on {args.workers} workers (seed {args.seed}), plain model"
        f" on CP-SAT defaults, {'reproducible' if reproducible else 'not reproducible'}\n"
    )
    print(markdown_table(headers, table_rows))
    name = (
        "shifts_curtois" if args.work_limit is None else f"shifts_curtois_work{args.work_limit:g}"
    )
    path = write_result(name, payload, out_dir=args.out_dir)
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
