"""Given-when-then helpers for aggregate tests (STYLE.md B7).

Build "given" by running commands on a fresh aggregate, clear its history with
`collect_events()`, run the "when" and compare what it collected with `names_and_attrs`.
`replay` and `state_of` make the replay check: folding the events from nothing rebuilds the
same state as the aggregate that recorded them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable

# Every eventsourcing event carries these; they say where, not what.
_ENVELOPE = frozenset({"originator_id", "originator_version", "timestamp", "originator_topic"})


def names_and_attrs(events: Iterable[Any]) -> list[tuple[str, dict[str, Any]]]:
    """Events as `(class name, attributes)` pairs, without the originator bookkeeping."""
    return [
        (type(e).__name__, {k: v for k, v in vars(e).items() if k not in _ENVELOPE}) for e in events
    ]


def replay(events: Iterable[Any]) -> Any:
    """Fold `event.mutate(aggregate)` from nothing, as the repository does."""
    aggregate = None
    for e in events:
        aggregate = e.mutate(aggregate)
    if aggregate is None:
        raise ValueError("no events to replay")
    return aggregate


def state_of(aggregate: Any) -> dict[str, Any]:
    """The aggregate's public attributes plus its id and version (its comparable state)."""
    state = {k: v for k, v in vars(aggregate).items() if not k.startswith("_")}
    state["id"] = aggregate.id
    state["version"] = aggregate.version
    return state
