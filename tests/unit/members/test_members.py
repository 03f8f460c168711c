"""Members: joining records who joined, when and where; the name is kept in the vault, not in
an event; erasure is recorded once and removes the name; old events still load."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from kernel.config import Settings
from kernel.ids import member_id
from kernel.personal import DISPLAY_NAME, EMAIL
from services.members.application import ERASED, Members
from services.members.domain import InvalidMembership, Member, MemberNotFound
from services.members.published import to_integration
from tests.support.gwt import names_and_attrs, replay, state_of

if TYPE_CHECKING:
    from collections.abc import Iterator

    from kernel.time import FixedClock

ADA = "demo:00000000-0000-4000-8000-000000000001"
BOARD = "demo:00000000-0000-4000-8000-0000000000b0"


@pytest.fixture
def members(clock: FixedClock) -> Iterator[Members]:
    app = Members(Settings(persistence="popo"), clock=clock)
    yield app
    app.close()


def stored_states(app: Members) -> list[bytes]:
    """Every event in the store, as the bytes kept there."""
    return [n.state for n in app.notification_log.select(start=1, limit=500)]


def test_joining_records_joined_without_the_name_and_replays(clock: FixedClock) -> None:
    member = Member.join(ADA, "demo", clock.now())
    events = member.collect_events()
    assert names_and_attrs(events) == [
        ("Joined", {"member_id": ADA, "city": "demo", "joined_at": clock.now()})
    ]
    assert state_of(replay(events)) == state_of(member)
    published = to_integration(events[0])
    assert published is not None
    assert set(published.payload()) == {"member_id", "city", "joined_at"}


def test_erasure_is_recorded_once_and_replays(clock: FixedClock) -> None:
    member = Member.join(ADA, "demo", clock.now())
    history = member.collect_events()
    assert member.erase_personal_data(requested_by=BOARD, now=clock.now()) is True
    assert member.erase_personal_data(requested_by=ADA, now=clock.now()) is False
    new = member.collect_events()
    assert names_and_attrs(new) == [
        ("PersonalDataErased", {"requested_by": BOARD, "at": clock.now()})
    ]
    assert state_of(replay([*history, *new])) == state_of(member)
    assert (member.erased, member.erased_by) == (True, BOARD)


@pytest.mark.parametrize("name", ["", "   ", "x" * 61, "bad\nname"])
def test_a_bad_display_name_is_refused_and_nothing_is_kept(members: Members, name: str) -> None:
    with pytest.raises(InvalidMembership, match="displayName"):
        members.join(name)
    assert members.recorder.max_notification_id() in (None, 0)
    with members.personal.db.transaction() as cursor:
        assert cursor.execute('SELECT count(*) FROM "personal_data"').fetchone() == (0,)


def test_the_application_issues_city_scoped_ids_and_finds_members(
    members: Members, clock: FixedClock
) -> None:
    ada = members.join("  Ada ")
    assert member_id(ada.member_id).startswith("demo:")
    assert members.member(ada.member_id).joined_at == clock.now()
    assert members.display_name(ada) == "Ada"
    with pytest.raises(MemberNotFound):
        members.member("demo:00000000-0000-4000-8000-000000000009")
    with pytest.raises(MemberNotFound):
        members.member("not-an-id")
    with pytest.raises(MemberNotFound):  # the same uuid under another city's name
        members.member(ada.member_id.replace("demo:", "ghent:"))


def test_the_name_and_the_key_are_nowhere_in_the_event_store(members: Members) -> None:
    ada = members.join("Ada Quintessa")
    with members.personal.db.transaction() as cursor:
        (key,) = cursor.execute(
            'SELECT data_key FROM "vault_keys" WHERE member_id = %s', (ada.member_id,)
        ).fetchone() or ("",)
    assert key
    states = stored_states(members)
    assert any(ada.member_id.encode() in s for s in states)  # the search sees the member
    assert not any(b"Quintessa" in s for s in states)
    assert not any(key.encode() in s for s in states)


def test_erasing_removes_the_name_and_keeps_the_member(members: Members) -> None:
    ada = members.join("Ada")
    members.personal.put(ada.member_id, EMAIL, "ada@example.org", findable=True)
    erasure = members.erase_personal_data(ada.member_id, requested_by=ada.member_id)
    assert (erasure.fields, erasure.already) == (["display_name", "email"], False)
    again = members.member(ada.member_id)
    assert members.display_name(again) == ERASED
    assert members.personal.get(ada.member_id, DISPLAY_NAME) is None
    assert members.export_member(ada.member_id)["personalData"] == {}
    # asking again changes nothing and records nothing
    position = members.recorder.max_notification_id()
    assert members.erase_personal_data(ada.member_id, requested_by=BOARD).already is True
    assert members.recorder.max_notification_id() == position
    assert members.member(ada.member_id).erased_by == ada.member_id


def test_an_unknown_member_cannot_be_erased(members: Members) -> None:
    with pytest.raises(MemberNotFound):
        members.erase_personal_data(ADA, requested_by=BOARD)
    assert members.recorder.max_notification_id() in (None, 0)


def test_a_version_1_joined_event_with_a_name_still_loads_without_it(members: Members) -> None:
    # given a Joined event as version 1 stored it, display name included
    new = Member.join(ADA, "demo", members.clock.now())
    stored = members.mapper.to_stored_event(new.collect_events()[0])
    state = members.mapper.transcoder.decode(stored.state)
    assert state.pop("class_version") == 2
    state["display_name"] = "Old Name"
    old = type(stored)(
        originator_id=stored.originator_id,
        originator_version=stored.originator_version,
        topic=stored.topic,
        state=members.mapper.transcoder.encode(state),
    )
    members.recorder.insert_events([old])
    # when it is read, then the name is dropped on the way (upcast) and the member is there
    member = members.member(ADA)
    assert (member.member_id, member.city) == (ADA, "demo")
    assert not hasattr(member, "display_name")
    assert members.display_name(member) == ERASED  # the vault never had it
