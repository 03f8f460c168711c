"""The bus: a Kafka-shaped port with two implementations.

`port` states the contract (topics, partitions, offsets, consumer groups, delivery guarantees);
`embedded` is an in-process broker with the same semantics, `kafka` adapts kafka-python.
`relay` publishes a service's new events from its store (the outbox); `consumer` applies
messages to an application exactly once.
"""
