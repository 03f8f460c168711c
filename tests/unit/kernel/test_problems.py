"""The refusals every service answers alike (kernel.problems), and `call`'s mapping."""

from __future__ import annotations

import asyncio

import pytest

from kernel.api import InvalidInput, NotCaughtUp
from kernel.ids import InvalidId
from kernel.paging import InvalidPage
from kernel.problems import call, shared_problem
from kernel.readside import NotCaughtUp as Behind


def test_bad_pages_ids_and_a_read_model_behind_are_typed_with_their_data() -> None:
    page = shared_problem(InvalidPage("first", "ask for 1 to 100 rows"), "rides")
    assert isinstance(page, InvalidInput)
    assert (page.field, page.message) == ("first", "first: ask for 1 to 100 rows")
    bad_id = shared_problem(InvalidId("not a member id"), "rides", id_field="memberId")
    assert isinstance(bad_id, InvalidInput)
    assert bad_id.field == "memberId"
    behind = shared_problem(Behind("rides_records", 12, 9, 2.0), "rides")
    assert isinstance(behind, NotCaughtUp)
    assert (behind.read_model, behind.seen, behind.as_of) == (
        "rides_records",
        "rides@12",
        "rides@9",
    )
    assert shared_problem(ValueError("a bug"), "rides") is None


def test_call_answers_what_it_maps_and_raises_the_rest() -> None:
    def refused() -> int:
        raise InvalidPage("after", "not a cursor")

    def broken() -> int:
        raise ZeroDivisionError

    answer = asyncio.run(call(refused, lambda exc: shared_problem(exc, "rides")))
    assert isinstance(answer, InvalidInput)
    assert answer.field == "after"
    assert asyncio.run(call(lambda: 7, lambda exc: None)) == 7
    with pytest.raises(ZeroDivisionError):
        asyncio.run(call(broken, lambda exc: shared_problem(exc, "rides")))
