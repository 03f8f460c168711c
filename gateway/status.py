"""`muni status`: where each relay and consumer is, read from the stores and the broker.

Relays record their position in their service's store, so any process can read it. Consumer
groups commit their offsets to the broker: with Kafka they are read from there; the embedded
broker lives inside the `muni up` process, so its consumers are read from that process's
`/ready` or `/metrics` instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gateway.readings import Reading, group_reading, relay_reading
from gateway.runtime import SERVICES, Runtime
from kernel.bus.embedded import EmbeddedBroker
from kernel.bus.offsets import OffsetReader

if TYPE_CHECKING:
    from kernel.config import Settings


def stored_readings(settings: Settings) -> list[Reading]:
    # Reading the stores needs no broker; with Kafka, the group offsets are read from it.
    runtime = Runtime.build(settings, bus=EmbeddedBroker() if settings.bus == "embedded" else None)
    try:
        out = [
            relay_reading(runtime.apps[name], settings.topic(name))
            for name, spec in SERVICES.items()
            if spec.to_integration is not None
        ]
        consumers = [(n, s) for n, s in SERVICES.items() if s.inbound is not None]
        if settings.bus == "embedded":
            out.extend(
                Reading(
                    "consumer",
                    f"consumer {name} <- {settings.topic(source)}",
                    0,
                    0,
                    "messages",
                    error="the embedded bus lives in the `muni up` process: see its /ready",
                )
                for name, spec in consumers
                for source in spec.consumes
            )
            return out
        offsets = OffsetReader(runtime.bus)
        try:
            for name, spec in consumers:
                group = settings.group(name)
                out.extend(
                    group_reading(offsets, name, group, settings.topic(source))
                    for source in spec.consumes
                )
        finally:
            offsets.close()
        return out
    finally:
        runtime.stop()


def render(readings: list[Reading]) -> str:
    width = max((len(r.name) for r in readings), default=10)
    lines = [f"{'':{width}}  {'position':>10}  {'head':>10}  {'lag':>8}"]
    for r in readings:
        if r.error:
            lines.append(f"{r.name:{width}}  {'-':>10}  {'-':>10}  {'-':>8}  ({r.error})")
        else:
            lines.append(f"{r.name:{width}}  {r.position:>10}  {r.head:>10}  {r.lag:>8}  {r.unit}")
    return "\n".join(lines)
