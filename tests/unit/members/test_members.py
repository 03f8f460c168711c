"""Members: joining records who joined, when and where; names are validated."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from kernel.config import Settings
from kernel.ids import member_id
from services.members.application import Members
from services.members.domain import InvalidMembership, Member, MemberNotFound
from services.members.published import to_integration
from tests.support.gwt import names_and_attrs, replay, state_of

if TYPE_CHECKING:
    from kernel.time import FixedClock


def test_joining_records_joined_and_replays(clock: FixedClock) -> None:
    member = Member.join("demo:00000000-0000-4000-8000-000000000001", "demo", "  Ada ", clock.now())
    events = member.collect_events()
    assert names_and_attrs(events) == [
        (
            "Joined",
            {
                "member_id": "demo:00000000-0000-4000-8000-000000000001",
                "city": "demo",
                "display_name": "Ada",
                "joined_at": clock.now(),
            },
        )
    ]
    assert state_of(replay(events)) == state_of(member)
    published = to_integration(events[0])
    assert published is not None
    assert "display_name" not in published.payload()  # the name stays home


@pytest.mark.parametrize("name", ["", "   ", "x" * 61, "bad\nname"])
def test_a_bad_display_name_is_refused(clock: FixedClock, name: str) -> None:
    with pytest.raises(InvalidMembership, match="displayName"):
        Member.join("demo:00000000-0000-4000-8000-000000000001", "demo", name, clock.now())


def test_the_application_issues_city_scoped_ids_and_finds_members(clock: FixedClock) -> None:
    members = Members(Settings(persistence="popo"), clock=clock)
    ada = members.join("Ada")
    assert member_id(ada.member_id).startswith("demo:")
    assert members.member(ada.member_id).joined_at == clock.now()
    with pytest.raises(MemberNotFound):
        members.member("demo:00000000-0000-4000-8000-000000000009")
    with pytest.raises(MemberNotFound):
        members.member("not-an-id")
