"""The members service's read models: the role requests waiting for the board."""

from __future__ import annotations

from dataclasses import dataclass
from functools import singledispatchmethod
from typing import TYPE_CHECKING, Any

from kernel.paging import Page, fetch_page
from kernel.readside import Column, Delete, Op, ReadModel, Table, Upsert
from services.members.account import Account

if TYPE_CHECKING:
    from datetime import datetime

    from kernel.paging import PageRequest
    from kernel.readside import Row

REQUEST_ORDER = ("requested_at", "account_id", "role")


@dataclass(frozen=True)
class RoleRequest:
    member_id: str
    role: str
    requested_at: datetime


class RoleRequests(ReadModel):
    """Roles members asked for and the board has not granted yet, oldest first.

    Role events name the account, not the member: the accounts table (from `Opened`) maps one
    to the other when the board reads a page. Why a role was asked for is in the member's vault,
    not here."""

    name = "members_role_requests"
    tables = (
        Table("accounts", (Column("account_id"), Column("member_id")), key=("account_id",)),
        Table(
            "requests",
            (Column("account_id"), Column("role"), Column("requested_at", "timestamp")),
            key=("account_id", "role"),
            indexes=(REQUEST_ORDER,),
        ),
    )

    @singledispatchmethod
    def rows(self, event: Any) -> list[Op]:
        return []

    @rows.register(Account.Opened)  # type: ignore[attr-defined]  # made by @event
    def _(self, event: Any) -> list[Op]:
        account = {"account_id": str(event.originator_id), "member_id": event.member_id}
        return [Upsert("accounts", account)]

    @rows.register(Account.RoleRequested)  # type: ignore[attr-defined]
    def _(self, event: Any) -> list[Op]:
        row = {"account_id": str(event.originator_id), "role": event.role, "requested_at": event.at}
        return [Upsert("requests", row)]

    @rows.register(Account.RoleGranted)  # type: ignore[attr-defined]
    def _(self, event: Any) -> list[Op]:
        return [Delete("requests", {"account_id": str(event.originator_id), "role": event.role})]

    def waiting(self, request: PageRequest) -> Page[RoleRequest]:
        page = fetch_page(
            self.view, "requests", request, order_by=REQUEST_ORDER, to_item=lambda r: r
        )
        members = {}
        for row in page.items:
            found = self.view.get("accounts", {"account_id": row["account_id"]})
            members[row["account_id"]] = found["member_id"] if found else None
        return Page(
            items=[_request(r, members[r["account_id"]]) for r in page.items],
            cursors=page.cursors,
            has_next=page.has_next,
        )


def _request(row: Row, member_id: str | None) -> RoleRequest:
    return RoleRequest(member_id or "unknown", str(row["role"]), row["requested_at"])
