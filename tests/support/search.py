"""Searching everything a deployment keeps for given strings: the erasure tests' eyes.

Each function returns, for every needle found, where it was found. Matching is on bytes and
case-insensitive, so a value in a SQLite page, a PostgreSQL bytea, a message or a log line is
found alike.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import psycopg

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from pathlib import Path

    from kernel.bus.embedded import EmbeddedBroker

Found = dict[str, list[str]]


def scan(haystacks: Iterable[tuple[str, bytes]], needles: Sequence[str]) -> Found:
    wanted = [(n, n.lower().encode()) for n in needles]
    found: Found = {}
    for where, data in haystacks:
        lowered = data.lower()
        for needle, raw in wanted:
            if raw in lowered:
                found.setdefault(needle, []).append(where)
    return found


def in_files(root: Path, needles: Sequence[str]) -> Found:
    """Every file under `root`, raw: database pages, free pages, -wal and journal files."""
    files = [p for p in sorted(root.rglob("*")) if p.is_file()]
    return scan(((str(p.relative_to(root)), p.read_bytes()) for p in files), needles)


def _as_bytes(value: Any) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    return str(value).encode()


def in_postgres(dsn: str, schema_prefix: str, needles: Sequence[str]) -> Found:
    """Every row of every table in every schema starting with `schema_prefix`."""
    haystacks: list[tuple[str, bytes]] = []
    with psycopg.connect(dsn) as conn:
        tables = conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema LIKE %s ORDER BY 1, 2",
            (schema_prefix.replace("_", r"\_") + r"\_%",),
        ).fetchall()
        assert tables, f"no tables in schemas {schema_prefix}_*"
        for schema, table in tables:
            rows = conn.execute(f'SELECT * FROM "{schema}"."{table}"').fetchall()  # noqa: S608
            for i, row in enumerate(rows):
                haystacks.append((f"{schema}.{table}#{i}", b"\x00".join(_as_bytes(v) for v in row)))
    return scan(haystacks, needles)


def schemas_of(dsn: str, schema_prefix: str) -> list[str]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE %s",
            (schema_prefix.replace("_", r"\_") + r"\_%",),
        ).fetchall()
    return sorted(str(r[0]) for r in rows)


def in_embedded_broker(broker: EmbeddedBroker, needles: Sequence[str]) -> tuple[Found, int]:
    """Every message of every topic the in-process broker holds. Returns (found, count)."""
    haystacks = [
        (f"{topic}#{p}@{offset}", key + b"\x00" + value)
        for topic, partitions in broker._logs.items()  # every topic, known to the test or not
        for p, log in enumerate(partitions)
        for offset, (key, value) in enumerate(log)
    ]
    return scan(haystacks, needles), len(haystacks)


def in_kafka(bootstrap: str, topic_prefix: str, needles: Sequence[str]) -> tuple[Found, int]:
    """Every message of every topic starting with `topic_prefix`, read back from the broker
    with kafka-python from the first offset. Returns (found, count)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap.split(","),
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=50,
    )
    try:
        topics = sorted(t for t in consumer.topics() if t.startswith(topic_prefix))
        assert topics, f"no topics {topic_prefix}*"
        partitions = [
            TopicPartition(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t))
        ]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        haystacks: list[tuple[str, bytes]] = []
        for _ in range(400):  # bounded: at 50 ms per empty fetch, 20 s
            if all(consumer.position(tp) >= ends[tp] for tp in partitions):
                break
            for tp, records in consumer.poll(timeout_ms=50).items():
                haystacks += [
                    (f"{tp.topic}#{tp.partition}@{r.offset}", (r.key or b"") + b"\x00" + r.value)
                    for r in records
                ]
        else:
            raise AssertionError(f"could not read {topics} to their ends {ends}")
    finally:
        consumer.close()
    return scan(haystacks, needles), len(haystacks)
