"""The dispatcher's desk pages through Starlette's TestClient on the real, embedded gateway:
find the member who phoned, record their consent, book for them now and for a later day, hand
them a sign-in code, and see the ride in progress. Refusals show by the field and change
nothing; the pages are the dispatcher's only."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest
from starlette.testclient import TestClient

from gateway.app import create_app
from tests.e2e.conftest import SETTINGS, driver, past_clock
from tests.support.accounts import SIGN_IN_WITH_CODE, sign_up, unique_email
from tests.support.graphql import gql
from tests.support.web_session import csrf_of, signed_in

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.e2e

PICKUP = {"pickup_lat": "51.06", "pickup_lon": "3.71"}
DROPOFF = {"dropoff_lat": "51.03", "dropoff_lon": "3.75"}


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_app(SETTINGS, clock=past_clock())) as client:
        yield client


def rides_in_progress(client: TestClient) -> int:
    page = client.get("/desk")
    assert page.status_code == 200
    return len(re.findall(r"<tr data-pickup=", page.text))


def member_page(client: TestClient, member_id: str) -> tuple[str, str]:
    page = client.get(f"/desk/members/{member_id}")
    assert page.status_code == 200, page.text
    return page.text, csrf_of(page.text)


def test_a_visitor_is_sent_to_sign_in_and_a_member_without_the_role_is_refused(
    client: TestClient,
) -> None:
    visitor = client.get("/desk/schedules?day=2026-12-04", follow_redirects=False)
    assert visitor.status_code == 303
    assert visitor.headers["location"] == "/signin?next=/desk/schedules%3Fday%3D2026-12-04"
    signed_in(client, "Ada")
    refused = client.get("/desk")
    assert refused.status_code == 403
    assert "dispatcher" in refused.text


def test_the_desk_finds_a_member_records_consent_and_books_a_ride_for_them(
    client: TestClient,
) -> None:
    email = unique_email("Grandma")
    grandma = sign_up(client, "Grandma", email=email)["memberId"]
    signed_in(client, "Dina", "dispatcher")

    found = client.get("/desk/find", params={"login": email}, follow_redirects=False)
    assert found.status_code == 303
    assert found.headers["location"] == f"/desk/members/{grandma.replace(':', '%3A')}"
    html, csrf = member_page(client, grandma)
    assert "No consent recorded yet" in html

    # Without consent the booking is refused by name, and nothing is booked.
    refused = client.post(
        f"/desk/members/{grandma}/ride", data={"csrf_token": csrf, **PICKUP, **DROPOFF}
    )
    assert refused.status_code == 400
    assert "has not given (or has withdrawn) consent" in refused.text
    assert rides_in_progress(client) == 0

    given = client.post(
        f"/desk/members/{grandma}/consent",
        data={"csrf_token": csrf, "statement": "Yes, book for me when I call."},
    )
    assert given.status_code == 200  # after the 303, the member's page
    assert "Consent recorded" in given.text
    assert "Consent given, recorded on" in given.text

    booked = client.post(
        f"/desk/members/{grandma}/ride",
        data={"csrf_token": csrf, **PICKUP, **DROPOFF, "seats": "1"},
        follow_redirects=False,
    )
    assert (booked.status_code, booked.headers["location"]) == (303, "/desk")
    desk = client.get("/desk").text
    assert "Ride booked for the member" in desk
    assert "waiting for a driver" in desk
    assert rides_in_progress(client) == 1


@pytest.mark.parametrize(
    ("fields", "field", "text"),
    [
        ({"pickup_lat": "north", "pickup_lon": "3.7"}, "pickup", "as numbers"),
        ({"pickup_lat": "95", "pickup_lon": "3.7"}, "pickup", "between -90 and 90"),
        ({"pickup_lat": "0", "pickup_lon": "0"}, "pickup", "outside the area our rides serve"),
        ({**PICKUP, "seats": "0"}, "seats", "a whole number from 1 to 8"),
    ],
)
def test_a_bad_booking_is_refused_by_its_field_and_books_nothing(
    client: TestClient, fields: dict[str, str], field: str, text: str
) -> None:
    grandma = sign_up(client, "Grandma")["memberId"]
    signed_in(client, "Dina", "dispatcher")
    _, csrf = member_page(client, grandma)
    client.post(f"/desk/members/{grandma}/consent", data={"csrf_token": csrf, "statement": "yes"})

    refused = client.post(
        f"/desk/members/{grandma}/ride",
        data={"csrf_token": csrf, **PICKUP, **DROPOFF, **fields},
    )
    assert refused.status_code == 400
    assert f'id="ride-{field}-error"' in refused.text
    assert text in refused.text
    assert 'aria-invalid="true"' in refused.text
    assert rides_in_progress(client) == 0


def test_a_post_without_the_csrf_token_is_refused_and_records_nothing(client: TestClient) -> None:
    grandma = sign_up(client, "Grandma")["memberId"]
    signed_in(client, "Dina", "dispatcher")
    refused = client.post(f"/desk/members/{grandma}/consent", data={"statement": "yes"})
    assert refused.status_code == 403
    html, _ = member_page(client, grandma)
    assert "No consent recorded yet" in html


def test_an_unknown_member_is_a_not_found_page_and_a_login_nobody_has_shows_by_the_field(
    client: TestClient,
) -> None:
    signed_in(client, "Dina", "dispatcher")
    unknown = client.get("/desk/members/demo:00000000-0000-4000-8000-000000000000")
    assert unknown.status_code == 404
    nobody = client.get("/desk/find", params={"login": "<b>nobody</b>@example.org"})
    assert nobody.status_code == 404
    assert 'id="login-error"' in nobody.text
    assert "&lt;b&gt;nobody&lt;/b&gt;@example.org" in nobody.text  # escaped, as typed
    assert "<b>nobody</b>" not in nobody.text


def test_the_desk_hands_out_a_sign_in_code_that_signs_the_member_in_once(
    client: TestClient,
) -> None:
    grandma = sign_up(client, "Grandma")["memberId"]
    signed_in(client, "Dina", "dispatcher")
    _, csrf = member_page(client, grandma)
    issued = client.post(f"/desk/members/{grandma}/code", data={"csrf_token": csrf})
    assert issued.status_code == 200
    code = re.search(r"Sign-in code for the member: ([^.\s]+)\.", issued.text)
    assert code, issued.text
    answer = gql(client, SIGN_IN_WITH_CODE, {"code": code.group(1)})["signInWithCode"]
    assert (answer["__typename"], answer["memberId"]) == ("SignedIn", grandma)


def test_the_desk_books_a_scheduled_ride_and_sees_it_on_the_vans_day(client: TestClient) -> None:
    grandma = sign_up(client, "Grandma")["memberId"]
    signed_in(client, "Dina", "dispatcher")
    _, csrf = member_page(client, grandma)
    client.post(f"/desk/members/{grandma}/consent", data={"csrf_token": csrf, "statement": "yes"})
    tomorrow = (
        datetime.now(UTC).astimezone(ZoneInfo("Europe/Brussels")) + timedelta(days=1)
    ).date()
    window = {"day": tomorrow.isoformat(), "start": "10:00", "end": "10:40"}

    backwards = client.post(
        f"/desk/members/{grandma}/scheduled",
        data={"csrf_token": csrf, **PICKUP, **DROPOFF, **window, "end": "09:00"},
    )
    assert backwards.status_code == 400
    assert 'id="window-error"' in backwards.text
    assert "must end after it starts" in backwards.text

    booked = client.post(
        f"/desk/members/{grandma}/scheduled",
        data={"csrf_token": csrf, **PICKUP, **DROPOFF, **window},
        follow_redirects=False,
    )
    assert booked.status_code == 303, booked.text
    assert booked.headers["location"] == f"/desk/schedules?day={tomorrow.isoformat()}"
    day = client.get(booked.headers["location"]).text
    assert "Scheduled ride booked" in day
    assert day.count(">pickup<") == 1
    assert day.count(">drop-off<") == 1

    route = client.get(f"/desk/schedules/van?day={tomorrow.isoformat()}")
    assert route.status_code == 200
    assert 'id="route-map"' in route.text
    assert route.text.count("data-stop=") >= 4  # start, pickup, drop-off, end


def test_a_bad_day_is_refused_by_the_field(client: TestClient) -> None:
    signed_in(client, "Dina", "dispatcher")
    page = client.get("/desk/schedules?day=tomorrow")
    assert page.status_code == 400
    assert 'id="day-error"' in page.text


def consented(client: TestClient) -> tuple[str, str]:
    """A member who gave the desk consent, and the page's CSRF token (signed in as the desk)."""
    grandma = sign_up(client, "Grandma")["memberId"]
    signed_in(client, "Dina", "dispatcher")
    _, csrf = member_page(client, grandma)
    client.post(f"/desk/members/{grandma}/consent", data={"csrf_token": csrf, "statement": "yes"})
    return grandma, csrf


def test_consent_withdrawn_at_the_desk_stops_the_next_booking(client: TestClient) -> None:
    grandma, csrf = consented(client)
    withdrawn = client.post(f"/desk/members/{grandma}/withdraw", data={"csrf_token": csrf})
    assert "Consent withdrawn on" in withdrawn.text
    refused = client.post(
        f"/desk/members/{grandma}/ride", data={"csrf_token": csrf, **PICKUP, **DROPOFF}
    )
    assert refused.status_code == 400
    assert "has not given (or has withdrawn) consent" in refused.text
    assert rides_in_progress(client) == 0


def test_the_desk_cancels_a_ride_it_booked(client: TestClient) -> None:
    grandma, csrf = consented(client)
    client.post(f"/desk/members/{grandma}/ride", data={"csrf_token": csrf, **PICKUP, **DROPOFF})
    desk = client.get("/desk").text
    ride = re.search(r'action="/desk/rides/([^"]+)/cancel"', desk)
    assert ride, "a cancel button on the ride the desk booked"
    cancelled = client.post(f"/desk/rides/{ride.group(1)}/cancel", data={"csrf_token": csrf})
    assert "Ride cancelled." in cancelled.text
    assert rides_in_progress(client) == 0


def tomorrow_window() -> dict[str, str]:
    brussels = datetime.now(UTC).astimezone(ZoneInfo("Europe/Brussels"))
    return {
        "day": (brussels + timedelta(days=1)).date().isoformat(),
        "start": "11:00",
        "end": "11:40",
    }


def test_a_weekly_booking_books_each_week_and_one_week_is_cancelled_alone(
    client: TestClient,
) -> None:
    grandma, csrf = consented(client)
    window = tomorrow_window()
    bad = client.post(
        f"/desk/members/{grandma}/scheduled",
        data={"csrf_token": csrf, **PICKUP, **DROPOFF, **window, "weeks": "0"},
    )
    assert bad.status_code == 400
    assert 'id="sched-weeks-error"' in bad.text

    booked = client.post(
        f"/desk/members/{grandma}/scheduled",
        data={"csrf_token": csrf, **PICKUP, **DROPOFF, **window, "weeks": "3"},
    )
    assert booked.status_code == 200
    assert "Weekly ride booked on" in booked.text
    assert booked.text.count(">pickup<") == 1
    stop = re.search(r'action="/desk/scheduled/([^"]+)/cancel"', booked.text)
    assert stop
    cancelled = client.post(
        f"/desk/scheduled/{stop.group(1)}/cancel", data={"csrf_token": csrf, "day": window["day"]}
    )
    assert "Scheduled ride cancelled" in cancelled.text
    assert cancelled.text.count(">pickup<") == 0
    next_week = (datetime.fromisoformat(window["day"]) + timedelta(days=7)).date().isoformat()
    assert client.get(f"/desk/schedules?day={next_week}").text.count(">pickup<") == 1


def test_the_desk_quotes_a_ride_before_booking_and_books_nothing(client: TestClient) -> None:
    grandma = sign_up(client, "Grandma")["memberId"]
    signed_in(client, "Dina", "dispatcher")
    _, csrf = member_page(client, grandma)
    quoted = client.post(
        f"/desk/members/{grandma}/quote", data={"csrf_token": csrf, **PICKUP, **DROPOFF}
    )
    assert quoted.status_code == 200
    assert re.search(r"This ride costs €\d+\.\d\d for [\d.]+ km\.", quoted.text), quoted.text
    assert 'value="51.06"' in quoted.text  # the form keeps what was typed, to book it next
    assert rides_in_progress(client) == 0


def test_the_desk_moves_a_scheduled_rides_window_within_its_day(client: TestClient) -> None:
    grandma, csrf = consented(client)
    window = tomorrow_window()
    day = client.post(
        f"/desk/members/{grandma}/scheduled",
        data={"csrf_token": csrf, **PICKUP, **DROPOFF, **window},
    ).text
    ride = re.search(r'<a href="(/desk/scheduled/[^"]+)">', day)
    assert ride, "the day's pickup links to its ride"
    page = client.get(ride.group(1))
    assert page.status_code == 200
    assert "11:00" in page.text

    backwards = client.post(
        f"{ride.group(1)}/change",
        data={"csrf_token": csrf, "day": window["day"], "start": "13:00", "end": "12:00"},
    )
    assert backwards.status_code == 400
    assert 'id="window-error"' in backwards.text
    assert "11:00" in client.get(ride.group(1)).text  # unchanged

    moved = client.post(
        f"{ride.group(1)}/change",
        data={"csrf_token": csrf, "day": window["day"], "start": "14:00", "end": "14:40"},
    )
    assert moved.status_code == 200
    assert "Pickup window changed" in moved.text
    after = client.get(ride.group(1)).text
    assert "2:00:00" in after
    assert "11:00:00" not in after


def test_an_unknown_scheduled_ride_is_a_not_found_page(client: TestClient) -> None:
    signed_in(client, "Dina", "dispatcher")
    assert client.get("/desk/scheduled/00000000-0000-4000-8000-000000000000").status_code == 404


def test_the_member_page_lists_their_rides_with_a_cancel_button_for_the_desks_own(
    client: TestClient,
) -> None:
    grandma, csrf = consented(client)
    client.post(f"/desk/members/{grandma}/ride", data={"csrf_token": csrf, **PICKUP, **DROPOFF})
    html, _ = member_page(client, grandma)
    rows = re.findall(r"<tr><th scope=\"row\"><code", html.split('id="member-rides"')[1])
    assert len(rows) == 1
    assert "waiting for a driver" in html
    assert 'action="/desk/rides/' in html


def test_the_desk_assigns_a_waiting_ride_by_hand_with_a_reason(client: TestClient) -> None:
    bram_id, _ = driver(client, "Bram")
    grandma, csrf = consented(client)
    client.post(f"/desk/members/{grandma}/ride", data={"csrf_token": csrf, **PICKUP, **DROPOFF})
    ride = re.search(r'<a href="(/desk/rides/[^"]+)">', client.get("/desk").text)
    assert ride
    page = client.get(ride.group(1)).text
    assert f'<option value="{bram_id}"' in page

    no_reason = client.post(
        f"{ride.group(1)}/assign", data={"csrf_token": csrf, "driverId": bram_id}
    )
    assert no_reason.status_code == 400
    assert 'id="reason-error"' in no_reason.text
    nobody = client.post(
        f"{ride.group(1)}/assign",
        data={"csrf_token": csrf, "driverId": "not-a-member", "reason": "knows the street"},
    )
    assert nobody.status_code == 400
    assert 'id="driverId-error"' in nobody.text
    assert "waiting for a driver" in client.get(ride.group(1)).text  # nothing changed

    assigned = client.post(
        f"{ride.group(1)}/assign",
        data={"csrf_token": csrf, "driverId": bram_id, "reason": "knows the street"},
    )
    assert assigned.status_code == 200
    assert "Ride offered to the driver you chose." in assigned.text
    assert '<dd id="ride-state">offered to a driver</dd>' in assigned.text


def test_the_desk_records_a_members_standing_proxy_and_withdraws_it(client: TestClient) -> None:
    email = unique_email("Hugo")
    sign_up(client, "Hugo", email=email)
    grandma, csrf = consented(client)
    nobody = client.post(
        f"/desk/members/{grandma}/proxy", data={"csrf_token": csrf, "to": "nobody@example.org"}
    )
    assert nobody.status_code == 400
    assert 'id="proxy-to-error"' in nobody.text
    herself = client.post(
        f"/desk/members/{grandma}/proxy", data={"csrf_token": csrf, "to": grandma}
    )
    assert herself.status_code == 400
    assert 'id="proxy-to-error"' in herself.text

    given = client.post(f"/desk/members/{grandma}/proxy", data={"csrf_token": csrf, "to": email})
    assert given.status_code == 200
    assert "Proxy recorded" in given.text
    withdrawn = client.post(f"/desk/members/{grandma}/proxy/withdraw", data={"csrf_token": csrf})
    assert "Proxy withdrawn" in withdrawn.text


def test_the_desk_acts_for_a_member_with_consent_and_stops(client: TestClient) -> None:
    grandma = sign_up(client, "Grandma")["memberId"]
    dispatcher, _ = signed_in(client, "Dina", "dispatcher")
    _, csrf = member_page(client, grandma)
    assert "Act for this member" not in member_page(client, grandma)[0]  # no consent: no button

    # without consent (posted anyway): refused by name, and nothing changes
    refused = client.post(f"/desk/members/{grandma}/act", data={"csrf_token": csrf})
    assert refused.status_code == 400
    assert "consent" in refused.text
    assert grandma not in client.get("/account").text

    client.post(f"/desk/members/{grandma}/consent", data={"csrf_token": csrf, "statement": "yes"})
    _, csrf = member_page(client, grandma)
    acting = client.post(
        f"/desk/members/{grandma}/act", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert (acting.status_code, acting.headers["location"]) == (303, "/ride")

    account = client.get("/account").text  # the member's page, as the member
    assert grandma in account
    assert "You are acting for member" in account
    assert client.get("/desk").status_code == 200  # the desk's own pages stay the dispatcher's
    stopped = client.post(
        "/desk/act/stop", data={"csrf_token": csrf_of(account)}, follow_redirects=False
    )
    assert stopped.headers["location"] == f"/desk/members/{grandma.replace(':', '%3A')}"
    after = client.get("/account").text
    assert "You are acting for member" not in after
    assert dispatcher in after
