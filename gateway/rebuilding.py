"""`muni rebuild <service> [<read model>]`: rebuild read models from the store, with a progress
bar, while the service keeps running (kernel.readside.rebuild says how the switch is safe)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from tqdm import tqdm

from gateway.services import SERVICES
from kernel.cities import load_city
from kernel.readside import rebuild

if TYPE_CHECKING:
    from collections.abc import Callable

    from kernel.config import Settings


def rebuild_service(settings: Settings, service: str, read_model: str | None) -> int:
    spec = SERVICES.get(service)
    if spec is None:
        print(
            f"muni rebuild: unknown service {service!r}; known: {sorted(SERVICES)}", file=sys.stderr
        )
        return 2
    try:
        wanted = [spec.read_model(read_model)] if read_model else None
    except LookupError as exc:
        print(f"muni rebuild: {exc}", file=sys.stderr)
        return 2
    app = spec.application(settings, city=load_city(settings.city))
    try:
        for cls in wanted or list(app.models):
            model = app.read_model(cls)
            bar = tqdm(total=max(app.head(), 1), desc=model.name, unit="pos", file=sys.stderr)
            with bar:
                done = rebuild(app, model, progress=_advance(bar))
            print(
                f"{done.name}: generation {done.previous} -> {done.generation}, "
                f"{done.events} events in {done.seconds:.2f} s "
                f"({done.events_per_second:,.0f} events/s)"
            )
    finally:
        app.close()
    return 0


def _advance(bar: tqdm[Any]) -> Callable[[int, int], None]:
    def advance(position: int, head: int) -> None:
        bar.total = max(head, 1)
        bar.n = position
        bar.refresh()

    return advance
