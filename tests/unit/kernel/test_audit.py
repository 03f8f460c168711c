"""The audit log: entries of ids and short codes only, newest first, paged."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pytest

from kernel.api import Context, NotAuthenticated, NotAuthorized
from kernel.audit import AuditKind, AuditLog, InvalidAuditEntry, audit_database
from kernel.auth import Identity
from kernel.config import PostgresDsn, Settings

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from kernel.time import FixedClock

ADA = "demo:00000000-0000-4000-8000-00000000000a"
BOARD = "demo:00000000-0000-4000-8000-0000000000b0"


@pytest.fixture(params=["popo", pytest.param("postgres", marks=pytest.mark.integration)])
def audit(request: pytest.FixtureRequest, clock: FixedClock) -> Iterator[AuditLog]:
    """The log in memory, and in a PostgreSQL schema of the test's own."""
    if request.param == "popo":
        settings = Settings(persistence="popo")
    else:
        settings = Settings(
            persistence="postgres",
            postgres=PostgresDsn.parse(request.getfixturevalue("postgres_dsn")),
            schema_prefix=request.getfixturevalue("pg_schema_prefix"),
        )
    log = AuditLog(audit_database(settings), clock)
    yield log
    log.close()


def test_entries_come_back_newest_first_with_what_was_recorded(
    audit: AuditLog, clock: FixedClock
) -> None:
    audit.record(AuditKind.REFUSED, operation="trialBalance", outcome="NotAuthorized", actor=ADA)
    clock.advance(timedelta(minutes=1))
    audit.record(
        AuditKind.ERASED, operation="eraseMemberData", outcome="erased", actor=BOARD, subject=ADA
    )
    page = audit.page()
    assert [(e.kind, e.operation, e.outcome, e.actor, e.subject) for e in page.entries] == [
        (AuditKind.ERASED, "eraseMemberData", "erased", BOARD, ADA),
        (AuditKind.REFUSED, "trialBalance", "NotAuthorized", ADA, None),
    ]
    assert page.entries[0].at == clock.now()
    assert page.entries[0].seq > page.entries[1].seq
    assert page.has_more is False


def test_pages_follow_each_other_without_gaps_or_repeats(audit: AuditLog) -> None:
    for i in range(7):
        audit.record(AuditKind.REFUSED, operation=f"op{i}", outcome="NotAuthorized")
    seen: list[str] = []
    before = None
    while True:
        page = audit.page(before=before, limit=3)
        seen += [e.operation for e in page.entries]
        if not page.has_more:
            break
        before = page.entries[-1].seq
    assert seen == [f"op{i}" for i in reversed(range(7))]


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"operation": "signIn", "outcome": "wrong password for ada@example.org"}, "outcome"),
        ({"operation": "x" * 65, "outcome": "NotAuthorized"}, "operation"),
        ({"operation": "signIn", "outcome": "failed", "actor": "Ada Lovelace"}, "actor"),
        ({"operation": "signIn", "outcome": "failed", "subject": "+32 470 00 00 00"}, "subject"),
    ],
)
def test_anything_but_ids_and_short_codes_is_refused_and_not_kept(
    audit: AuditLog, fields: dict[str, str], named: str
) -> None:
    with pytest.raises(InvalidAuditEntry, match=named):
        audit.record(AuditKind.SIGN_IN_FAILED, **fields)
    assert audit.page().entries == []


def test_a_page_size_out_of_bounds_is_refused(audit: AuditLog) -> None:
    with pytest.raises(ValueError, match="limit"):
        audit.page(limit=101)


def test_the_guard_refusals_are_recorded_through_the_context(audit: AuditLog) -> None:
    settings = Settings(persistence="popo")
    member = Context(
        settings=settings, apps={}, audit=audit, identity=Identity(ADA, "demo", frozenset())
    )
    member.refused("trialBalance", NotAuthorized(message="needs board", required_role="board"))
    forged = Context(settings=settings, apps={}, audit=audit, auth_problem="bad signature")
    forged.refused("me", NotAuthenticated(message="token signature does not verify"))
    anonymous = Context(settings=settings, apps={}, audit=audit)
    anonymous.refused("me", NotAuthenticated(message="send a token"))
    assert [(e.kind, e.operation, e.outcome, e.actor) for e in audit.page().entries] == [
        (AuditKind.REFUSED, "me", "NotAuthenticated", None),
        (AuditKind.SIGN_IN_FAILED, "me", "NotAuthenticated", None),
        (AuditKind.REFUSED, "trialBalance", "NotAuthorized", ADA),
    ]


def test_the_log_lives_in_the_members_store_file(tmp_path: Path, clock: FixedClock) -> None:
    settings = Settings(persistence="sqlite", data_dir=tmp_path)
    first = AuditLog(audit_database(settings), clock)
    first.record(AuditKind.REFUSED, operation="auditLog", outcome="NotAuthorized", actor=ADA)
    first.close()
    again = AuditLog(audit_database(settings), clock)  # a restart
    assert [e.operation for e in again.page().entries] == ["auditLog"]
    again.close()
    assert (tmp_path / "demo-members.sqlite3").exists()
