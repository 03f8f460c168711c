"""What a service publishes: its integration event classes and the one mapping to them.

Every service's `published.py` declares the versioned events it publishes and maps its domain
events to them by class (`functools.singledispatch`, STYLE B12.5), most domain events mapping to
nothing. `Publications` holds both, so a service writes only its events and its mappings:

    PUBLICATIONS = Publications(PolicyChangedV1, DecisionClosedV1)

    @PUBLICATIONS.maps
    def _(event: PolicyHistory.Published) -> IntegrationEvent:
        return PolicyChangedV1(...)

`PUBLICATIONS.events` is the spec's `publishes`, and `PUBLICATIONS` itself its `to_integration`.
A mapping that returns an event the service did not declare is a bug (the protocol export and
the consumers' contract tests would not know it): it raises instead of being published.
"""

from __future__ import annotations

from functools import singledispatch
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable

    from kernel.events import IntegrationEvent

F = TypeVar("F", bound="Callable[..., Any]")


class UndeclaredEvent(TypeError):
    """A mapping returned an integration event its service does not declare it publishes."""


class Publications:
    def __init__(self, *events: type[IntegrationEvent]) -> None:
        self.events: tuple[type[IntegrationEvent], ...] = events

        @singledispatch
        def private(event: object) -> IntegrationEvent | None:
            return None  # most domain events stay inside their service

        self._mapping = private

    def maps(self, mapping: F) -> F:
        """Register a mapping for the domain event class its parameter is annotated with."""
        self._mapping.register(mapping)
        return mapping

    def __call__(self, event: object) -> IntegrationEvent | None:
        """The integration event `event` is published as, or None if it stays private."""
        found = self._mapping(event)
        if found is not None and type(found) not in self.events:
            raise UndeclaredEvent(
                f"{type(event).__qualname__} maps to {type(found).__name__}, which is not "
                f"among the events declared published ({[e.__name__ for e in self.events]})"
            )
        return found
