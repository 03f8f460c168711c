"""The kernel's small tables on PostgreSQL when several processes start at once: a gateway and
its workers each create the vault, personal-data and audit tables on a fresh schema."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from kernel.audit import AuditLog, audit_database
from kernel.config import PostgresDsn, Settings
from kernel.personal import open_personal_data
from kernel.time import SystemClock

pytestmark = pytest.mark.integration

STARTERS = 8


def test_processes_starting_together_all_create_the_tables(
    postgres_dsn: str, pg_schema_prefix: str
) -> None:
    settings = Settings(
        persistence="postgres",
        postgres=PostgresDsn.parse(postgres_dsn),
        schema_prefix=pg_schema_prefix,
    )
    ready = threading.Barrier(STARTERS)

    def start(_: int) -> str:
        # Each starter is one process's start-up: its own pool, all on the same fresh schemas.
        ready.wait(timeout=60)
        personal = open_personal_data(settings, "members")
        audit = AuditLog(audit_database(settings), SystemClock())
        try:
            return repr(personal)
        finally:
            personal.close()
            audit.db.close()

    with ThreadPoolExecutor(STARTERS) as pool:
        started = list(pool.map(start, range(STARTERS)))

    assert started == ["PersonalData(postgres)"] * STARTERS
