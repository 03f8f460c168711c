"""`ServiceSpec`: everything the rest of Muni needs to know about one service, in one place.

Each service exports one spec (`services/<name>/spec.py`, `contributions/spec.py`): its
application, the integration events it publishes and how its domain events map to them, what it
consumes and from whom, its read models (the application's `read_models`) and its GraphQL root
types. The gateway's schema, the runtime's relays, consumers and projection runners, `muni
worker`, `muni rebuild`, `muni status` and `muni protocol` all read the list of specs in
`gateway/services.py`, so adding a service is its own folder plus one line there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import threading
    from collections.abc import Callable

    from kernel.bus.consumer import Inbound
    from kernel.bus.relay import ToIntegration
    from kernel.events import IntegrationEvent
    from kernel.eventstore import FederationApplication
    from kernel.readside import ReadModel
    from kernel.valueflows import ContributionRule


class Job(Protocol):
    def run(self, stop: threading.Event) -> None: ...


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    application: type[FederationApplication]
    publishes: tuple[type[IntegrationEvent], ...] = ()
    to_integration: ToIntegration | None = None
    inbound: Inbound | None = None
    consumes: tuple[str, ...] = ()
    query: type[Any] | None = None
    mutation: type[Any] | None = None
    # Live subscriptions (GraphQL over WebSocket), if the service offers any.
    subscription: type[Any] | None = None
    # GraphQL types the schema must know that no root field names directly.
    graphql_types: tuple[type[Any], ...] = ()
    # Which published events credit a member's contribution, and how (kernel.valueflows):
    # the contributions service applies every service's rules.
    contribution_rules: tuple[ContributionRule, ...] = ()
    # Background jobs a worker of this service runs beside its relay and read models (the
    # rides' batch matcher): each makes, from the application, an object whose `run(stop)`
    # loops until `stop` is set. Kept by name in `Runtime.jobs`.
    jobs: tuple[tuple[str, Callable[[Any], Job]], ...] = ()

    def __post_init__(self) -> None:
        if self.application.service != self.name:
            raise ValueError(
                f"spec {self.name!r} names application {self.application.__name__}, "
                f"whose service is {self.application.service!r}"
            )
        if self.publishes and self.to_integration is None:
            raise ValueError(f"spec {self.name!r} publishes events but maps none (to_integration)")
        if self.consumes and self.inbound is None:
            raise ValueError(f"spec {self.name!r} consumes {self.consumes} but reads nothing")

    @property
    def read_models(self) -> tuple[type[ReadModel], ...]:
        return self.application.read_models

    def read_model(self, name: str) -> type[ReadModel]:
        for cls in self.read_models:
            if cls.name == name:
                return cls
        from kernel.parking import ParkedMessages

        if name == ParkedMessages.name:
            return ParkedMessages
        known = sorted([c.name for c in self.read_models] + [ParkedMessages.name])
        raise LookupError(f"service {self.name} has no read model {name!r}; it has {known}")
