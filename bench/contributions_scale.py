"""Contributions at scale: crediting rate, closing a period, simulating an equation over a year.

Two phases, on SQLite files in a temporary folder (`--postgres DSN` for PostgreSQL):

1. Crediting through the real path: `--events` contribution events (a stays-like event with a
   contribution rule, and completed rides, one in five) across `--members` members, each applied
   as the consumer applies it (the policy's journal entries and the tracking in one save), the
   ledger and contributions read models caught up every batch. The rate is reported per window of
   the run, so a cost per event that grew with the history would show as a falling rate.
2. A year of history in the read-model tables: `--history` contribution events (default one
   million) across the members, written into `member_days` as the read model keeps them (one row
   per member, type and day, summed), then: crediting a further window of events on top of it
   through the real path, closing a month and the year (shares computed by SQL aggregates and
   frozen in the period's events, the accounting read model caught up), and simulating a proposed
   equation (weights and a 30-day half-life) over the year beside the one in force.

Prints a Markdown table and writes bench/results/contributions_scale.json.
"""

from __future__ import annotations

import argparse
import random
import secrets
import tempfile
import uuid
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from eventsourcing.persistence import Tracking

from bench.common import Stopwatch, markdown_table, write_result
from contributions.accounting import ContributionDays, ValueAccounting
from contributions.application import Contributions
from contributions.crediting import ContributionRules
from contributions.equations import ValueEquation
from contributions.inbound import INBOUND, RideCompleted
from contributions.projections import Ledger
from kernel.cities import load_city
from kernel.config import PostgresDsn, Settings
from kernel.money import Money
from kernel.time import FixedClock
from kernel.valueflows import Action, ContributionRule, ContributionType
from services.rides.spec import SPEC as RIDES

CITY = load_city("demo")
YEAR = 2026
HOSTING = ContributionRule(
    "stays.StayCompleted",
    1,
    ContributionType(Action.WORK, "hosting", "NIGHT"),
    provider="host_id",
    quantity="nights",
    places=0,
)
RULES = ContributionRules([*RIDES.contribution_rules, HOSTING])
STAY = RULES.inbound_for(INBOUND).models[("stays.StayCompleted", 1)]
TYPES = ("work/driving", "work/hosting", "work/care", "work/meeting")


def members(n: int) -> list[str]:
    return [f"demo:{uuid.UUID(int=i + 1)}" for i in range(n)]


def event_at(rng: random.Random) -> datetime:
    start = datetime(YEAR, 1, 1, tzinfo=UTC)
    return start + timedelta(seconds=rng.randrange(365 * 86_400))


def contribution_event(rng: random.Random, who: str, at: datetime) -> Any:
    if rng.random() < 0.2:
        fare = Money.from_minor(rng.randrange(500, 4_000), CITY.currency)
        split = {k: v.amount for k, v in fare.allocate(CITY.rides.split).items()}
        ride = uuid.uuid4()
        return RideCompleted(
            event_id=uuid.uuid4(),
            city=CITY.id,
            occurred_at=at,
            aggregate_id=ride,
            ride_id=ride,
            driver_id=who,
            distance_km=Decimal("3.4"),
            driver_minutes=Decimal(rng.randrange(5, 90)),
            fare=fare.amount,
            currency=fare.currency,
            split=split,
        )
    return STAY.model_validate(
        {
            "event_id": uuid.uuid4(),
            "city": CITY.id,
            "occurred_at": at,
            "aggregate_id": uuid.uuid4(),
            "host_id": who,
            "nights": rng.randrange(1, 5),
        }
    )


def credit(app: Contributions, events: list[Any], start: int) -> None:
    for i, event in enumerate(events):
        service = event.reads[0].partition(".")[0]
        app.process_event(
            event, Tracking(f"{event.city}/{service}/{event.aggregate_id}", start + i)
        )


def crediting_run(
    app: Contributions, people: list[str], n: int, window: int, rng: random.Random, start: int
) -> list[dict[str, Any]]:
    """Credit `n` events in windows; each window's rate includes catching up the read models."""
    out = []
    done = 0
    while done < n:
        size = min(window, n - done)
        events = [contribution_event(rng, rng.choice(people), event_at(rng)) for _ in range(size)]
        watch = Stopwatch()
        for i in range(0, size, 500):
            credit(app, events[i : i + 500], start + done + i)
            app.catch_up(Ledger, ContributionDays)
        seconds = watch.seconds
        out.append(
            {"from": done, "to": done + size, "seconds": seconds, "events_per_s": size / seconds}
        )
        print(f"  credited {done + size:,} events: {size / seconds:,.0f}/s in the last window")
        done += size
    return out


def load_history(app: Contributions, people: list[str], n: int, rng: random.Random) -> float:
    """`n` contribution events as `member_days` holds them (summed per member, type and day)."""
    from kernel.readside import Upsert

    watch = Stopwatch()
    rows: dict[tuple[str, str, str], list[Any]] = defaultdict(lambda: [Decimal(0), 0])
    first = date(YEAR, 1, 1)
    for _ in range(n):
        key = (
            rng.choice(people),
            rng.choice(TYPES),
            (first + timedelta(days=rng.randrange(365))).isoformat(),
        )
        found = rows[key]
        found[0] += Decimal(rng.randrange(1, 400)) / 100
        found[1] += 1
    view = app.read_model(ContributionDays).view
    items = list(rows.items())
    unit = {"work/hosting": "NIGHT"}
    for i in range(0, len(items), 50_000):
        ops = [
            Upsert(
                "member_days",
                {
                    "member_id": m,
                    "type": t,
                    "unit": unit.get(t, "HOUR"),
                    "day": d,
                    "quantity": q,
                    "credits": c,
                },
            )
            for (m, t, d), (q, c) in items[i : i + 50_000]
        ]
        # The rows stand for history credited before this store: written without moving the
        # runner's position (nothing in the log to re-apply), through the view's own writer.
        with view.transaction() as c:
            view._write_all(c, ops, view.generation)
    print(f"  history: {n:,} events as {len(items):,} member-day rows in {watch.seconds:.1f}s")
    return watch.seconds


def timed(label: str, work: Any) -> tuple[float, Any]:
    watch = Stopwatch()
    result = work()
    seconds = watch.seconds
    print(f"  {label}: {seconds:.2f}s")
    return seconds, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=100_000, help="credited through the path")
    parser.add_argument("--history", type=int, default=1_000_000, help="events in the tables")
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--window", type=int, default=10_000)
    parser.add_argument("--postgres", help="DSN; default SQLite in a temporary folder")
    parser.add_argument("--quick", action="store_true", help="10k events, 100k history")
    args = parser.parse_args(argv)
    if args.quick:
        args.events, args.history, args.window = 10_000, 100_000, 5_000
    rng = random.Random(7)
    people = members(args.members)
    prefix = f"bench_{secrets.token_hex(3)}"
    results: dict[str, Any] = {
        "events": args.events,
        "history": args.history,
        "members": args.members,
        "store": "PostgreSQL" if args.postgres else "SQLite",
    }
    with tempfile.TemporaryDirectory() as tmp:
        base = Settings(data_dir=Path(tmp), schema_prefix=prefix, city=CITY.id)
        if args.postgres:
            base = base.with_(persistence="postgres", postgres=PostgresDsn.parse(args.postgres))
        clock = FixedClock(datetime(YEAR + 1, 1, 5, tzinfo=UTC))

        results["crediting"] = []
        if args.events:
            print(f"phase 1: crediting {args.events:,} events through the consumer's path")
            path_app = Contributions(
                base.with_(data_dir=Path(tmp) / "path"), city=CITY, rules=RULES
            )
            results["crediting"] = crediting_run(path_app, people, args.events, args.window, rng, 1)
            path_app.close()

        print(f"phase 2: {args.history:,} events of history in the tables")
        app = Contributions(
            base.with_(data_dir=Path(tmp) / "year", schema_prefix=f"{prefix}_y"),
            city=CITY,
            rules=RULES,
            clock=clock,
        )
        results["history_load_s"] = load_history(app, people, args.history, rng)
        results["crediting_on_history"] = crediting_run(
            app, people, args.window, args.window, rng, 1
        )
        proposed = ValueEquation.of(
            {"work/driving": 1, "work/hosting": "0.5", "work/care": 2, "work/meeting": "0.5"},
            {"work/meeting": 20},
            half_life_days=30,
        )
        results["simulate_year_s"], simulation = timed(
            "simulate a decaying equation over the year",
            lambda: app.simulate_equation(proposed, str(YEAR)),
        )
        results["simulated_members"] = len(simulation.rows)

        def close(key: str) -> Any:
            app.open_period(key)
            found = app.close_period(key)
            app.catch_up(ValueAccounting)
            return found

        results["close_month_s"], month = timed("close a month", lambda: close(f"{YEAR}-12"))
        results["close_year_s"], year = timed("close the year", lambda: close(str(YEAR)))
        results["closed_members"] = {"month": month.members, "year": year.members}
        results["distribute_year_s"], _ = timed(
            "distribute the year's surplus",
            lambda: (app.distribute_surplus(str(YEAR), Decimal("250000.00")), app.catch_up())[0],
        )
        app.close()

    on_history = results["crediting_on_history"][-1]
    rows: list[list[str]] = []
    if results["crediting"]:
        first, last = results["crediting"][0], results["crediting"][-1]
        for label, w in (("first", first), ("last", last)):
            rows.append(
                [
                    f"crediting, {label} window",
                    f"{w['from']:,}-{w['to']:,}",
                    f"{w['events_per_s']:,.0f} events/s",
                    "flat",
                ]
            )
    rows += [
        [
            "crediting on the year's history",
            f"{args.history:,} + {args.window:,}",
            f"{on_history['events_per_s']:,.0f} events/s",
            "flat",
        ],
        [
            "simulate an equation over a year",
            f"{args.history:,}",
            f"{results['simulate_year_s']:.2f} s",
            "<= 10 s",
        ],
        ["close a month", f"{args.history:,}", f"{results['close_month_s']:.2f} s", "<= 60 s"],
        ["close the year", f"{args.history:,}", f"{results['close_year_s']:.2f} s", "<= 60 s"],
        [
            "distribute the year",
            f"{year.members:,} members",
            f"{results['distribute_year_s']:.2f} s",
            "-",
        ],
    ]
    print(
        f"\nContributions at scale ({args.members:,} members, {results['store']})\n\n"
        + markdown_table(["measure", "events", "result", "target"], rows)
    )
    path = write_result("contributions_scale", results)
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
