"""The shared kernel: small, stable, boring.

Value types (ids, money, time, geo), settings read once, the integration-event envelope,
event-store wiring and the bus (port, embedded broker, Kafka adapter, relay, consumer).
Anything that changes often belongs in a service, not here.
"""
