"""`ReadModel`: a projection (the library's `Projection`) that turns events into table rows.

A service declares one per screen or query family::

    class RiderRides(ReadModel):
        name = "rides_rider_rides"
        tables = (Table("rides", (...), key=("ride_id",), indexes=(("rider_id", "requested_at"),)),)

        @singledispatchmethod
        def rows(self, event: object) -> list[Op]:
            return []

        @rows.register
        def _(self, event: Ride.Requested) -> list[Op]:
            return [Upsert("rides", {...})]

The events it takes are the ones `rows` is registered for; the runner asks the store for those
topics only. A read model never emits events, never calls another service and never reads the
clock: given the same events it writes the same rows (which is what makes a rebuild equal the
incrementally kept tables).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from eventsourcing.projection import Projection
from eventsourcing.utils import get_topic

from kernel.readside.view import TableView

if TYPE_CHECKING:
    from eventsourcing.persistence import Tracking

    from kernel.readside.tables import Op, Table


class ReadModel(Projection[TableView]):
    """Rows from events. Subclasses set `name`, `tables` and register `rows` per event class."""

    tables: ClassVar[tuple[Table, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.name.replace("_", "").isalnum() or not cls.name.islower():
            raise ValueError(f"read model name {cls.name!r} must be lower_snake_case")
        if cls._dispatcher() is not None:
            # The library's runners read `topics`: the store filters the log by them.
            cls.topics = cls.event_topics()

    @classmethod
    def _dispatcher(cls) -> Any:
        for klass in cls.__mro__:
            found = vars(klass).get("rows")
            if found is not None:
                return getattr(found, "dispatcher", None)
        return None

    @classmethod
    def event_classes(cls) -> tuple[type, ...]:
        """The event classes `rows` is registered for (what this read model takes)."""
        dispatcher = cls._dispatcher()
        if dispatcher is None:
            return ()
        return tuple(t for t in dispatcher.registry if t is not object)

    @classmethod
    def event_topics(cls) -> tuple[str, ...]:
        return tuple(get_topic(t) for t in cls.event_classes())

    def rows(self, event: Any) -> list[Op]:
        """The row operations for one event (override with a `singledispatchmethod`)."""
        return []

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        """The library's entry point: one event's rows and its position, in one transaction."""
        self.view.apply(self.rows(domain_event), tracking)
