"""A member's data in contributions: their export (`myData`), and what erasure removes.

The export holds everything contributions keeps about the member: their ledger lines and totals,
the work they logged (with the note they wrote), the validations they gave, the lines they
contested (with their reason) and the contests they reviewed, and every text in their vault.

Erasure removes what is personal and keeps what the books need. The member's vault (their notes
and contest reasons, kernel/personal.py) is deleted with its key; the events and rows keep only
the member's id (a pseudonym), kinds, hours, days, amounts and outcomes, so every balance, share
and frozen period stays exactly as it was.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from contributions.accounting import CONTEST_ORDER, LOGGED_ORDER, Validations
from contributions.projections import LINE_ORDER, Ledger
from kernel.paging import MAX_PAGE_SIZE, page_request

if TYPE_CHECKING:
    from collections.abc import Callable

    from contributions.application import Contributions
    from contributions.value_accounting import ContestRecord, LoggedRecord
    from kernel.paging import Page, PageRequest

HOUR = "HOUR"


def _every(read: Callable[[PageRequest], Page[Any]], order: tuple[str, ...]) -> list[Any]:
    """Every item of a paged list ordered by `order`, page by page (an export holds all)."""
    out: list[Any] = []
    request = page_request(MAX_PAGE_SIZE, None, arity=len(order))
    while True:
        page = read(request)
        out += page.items
        if not page.has_next or page.end_cursor is None:
            return out
        request = page_request(MAX_PAGE_SIZE, page.end_cursor, arity=len(order))


def _logged(r: LoggedRecord) -> dict[str, Any]:
    return {
        "id": r.id,
        "kind": r.kind,
        "hours": str(r.hours),
        "workedOn": r.worked_on.isoformat(),
        "loggedAt": r.logged_at.isoformat(),
        "status": r.status,
        "validators": r.validators,
        "note": r.note,
    }


def _contest(r: ContestRecord) -> dict[str, Any]:
    return {
        "id": r.contest_id,
        "entryId": r.entry_id,
        "line": r.line,
        "credited": str(r.credited),
        "unit": r.unit,
        "status": r.status,
        "openedAt": r.opened_at.isoformat(),
        "outcome": r.outcome,
        "quantity": None if r.quantity is None else str(r.quantity),
        "reviewedAt": r.reviewed_at.isoformat() if r.reviewed_at else None,
        "reason": r.reason,
    }


def export_member(app: Contributions, member_id: str) -> dict[str, Any]:
    """Everything contributions holds about `member_id`, as JSON-ready data."""
    app.catch_up(Ledger, Validations)
    ledger = app.read_model(Ledger)
    lines = [
        {
            "entryId": line.entry_id,
            "account": line.account,
            "credit": str(-line.amount),
            "unit": line.unit,
            "memo": line.memo,
            "at": line.at.isoformat(),
        }
        for line in _every(lambda request: ledger.member_lines(member_id, request), LINE_ORDER)
    ]
    totals: dict[str, Decimal] = {}
    for line in lines:
        totals[line["unit"]] = totals.get(line["unit"], Decimal(0)) + Decimal(line["credit"])
    logged = _every(lambda request: app.logged_page(request, member_id=member_id), LOGGED_ORDER)
    contests = _every(lambda request: app.contests(request, member_id=member_id), CONTEST_ORDER)
    reviewed = app.accounting().view.select(
        "contests", where={"reviewer": member_id}, order_by=("reviewed_at", "contest_id")
    )
    return {
        "lines": lines,
        "totals": {unit: str(total) for unit, total in sorted(totals.items())},
        "hourUnit": HOUR,
        "logged": [_logged(r) for r in logged],
        "validated": [
            {
                "contributionId": r["contribution_id"],
                "at": r["at"].isoformat(),
                "counts": r["counts"],
            }
            for r in app.read_model(Validations).given_by(member_id)
        ],
        "contests": [_contest(r) for r in contests],
        "reviewed": [
            {
                "id": r["contest_id"],
                "outcome": r["outcome"],
                "reviewedAt": r["reviewed_at"].isoformat(),
            }
            for r in reviewed
        ],
        "written": app.personal.all_of(member_id),
    }


def erase_member(app: Contributions, member_id: str) -> list[str]:
    """Delete the member's vault (notes, contest reasons) and its key; returns the fields
    erased. Idempotent: a second erasure finds nothing. Amounts, hours and outcomes stay."""
    return app.personal.erase(member_id)
