"""The iCalendar text (RFC 5545) of the confirmation e-mail's attachment and of the private
calendar feed: CRLF line ends, lines folded at 75 octets without splitting a character,
times in UTC, escaped text, cancelled events marked; and the feed URL itself."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import override_settings

from events.ics import calendar
from events.selectors import calendar_feed_for
from tests.events.conftest import LOCAL
from tests.events.factories import EventFactory, RegistrationFactory, VenueFactory
from tests.portal.factories import UserFactory

pytestmark = pytest.mark.django_db

STARTS = dt.datetime(2026, 6, 4, 19, 30, tzinfo=LOCAL)


def unfold(text: str) -> list[str]:
    """The content lines: physical lines joined where a line starts with a space."""
    return text.replace("\r\n ", "").split("\r\n")[:-1]


def vevents(text: str) -> list[dict[str, str]]:
    events, current = [], None
    for line in unfold(text):
        if line == "BEGIN:VEVENT":
            current = {}
        elif line == "END:VEVENT":
            events.append(current)
            current = None
        elif current is not None:
            name, _sep, value = line.partition(":")
            current[name] = value
    return events


@pytest.fixture
def event(db):
    return EventFactory(
        published=True,
        title="青年论坛：创业, 就业; 与未来\n第二期",
        starts_at=STARTS,
        ends_at=STARTS + dt.timedelta(hours=2, minutes=15),
        registration_opens=STARTS - dt.timedelta(days=10),
        registration_closes=STARTS - dt.timedelta(days=1),
        venue=VenueFactory(name="洛龙区青年之家", address="开元大道 8 号, 3 楼; 报告厅"),
        description="第一行\n第二行：" + "洛阳牡丹甲天下，" * 40,
    )


def test_lines_end_in_crlf_and_are_folded_at_75_octets(event):
    text = calendar([event])
    assert text.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
    assert text.endswith("END:VCALENDAR\r\n")
    assert "\n" not in text.replace("\r\n", "")  # no bare line feeds
    assert "\r" not in text.replace("\r\n", "")
    physical = text.split("\r\n")[:-1]
    assert max(len(line.encode("utf-8")) for line in physical) <= 75
    assert any(line.startswith(" ") for line in physical)  # the long description was folded
    # Folding never splits a character: every physical line is whole UTF-8 text, and
    # unfolding gives the description back.
    for line in physical:
        line.encode("utf-8").decode("utf-8")
    [vevent] = vevents(text)
    assert vevent["DESCRIPTION"] == "第一行\\n第二行：" + "洛阳牡丹甲天下，" * 40  # a full-width comma needs no escape


def test_times_are_utc_with_z_and_the_uid_is_stable(event):
    [vevent] = vevents(calendar([event]))
    assert vevent["DTSTART"] == "20260604T113000Z"
    assert vevent["DTEND"] == "20260604T134500Z"
    assert vevent["DTSTAMP"].endswith("Z") and len(vevent["DTSTAMP"]) == 16
    assert vevent["UID"].startswith(f"event-{event.pk}@")
    assert vevents(calendar([event]))[0]["UID"] == vevent["UID"]  # the e-mail and the feed agree


def test_commas_semicolons_backslashes_and_newlines_are_escaped(event):
    event.title = "读书会, 夜场; 路径 C:\\书\n第二行"
    [vevent] = vevents(calendar([event]))
    assert vevent["SUMMARY"] == "读书会\\, 夜场\\; 路径 C:\\\\书\\n第二行"
    assert vevent["LOCATION"] == "洛龙区青年之家（开元大道 8 号\\, 3 楼\\; 报告厅）"


def test_a_place_without_a_venue_is_the_location(db):
    event = EventFactory(published=True, place="洛浦公园, 东门")
    assert vevents(calendar([event]))[0]["LOCATION"] == "洛浦公园\\, 东门"


def test_a_cancelled_event_says_so_and_a_published_one_is_confirmed(event):
    cancelled = EventFactory(cancelled=True)
    found = vevents(calendar([event, cancelled], name="我的活动"))
    assert [v["STATUS"] for v in found] == ["CONFIRMED", "CANCELLED"]
    assert "X-WR-CALNAME:我的活动" in unfold(calendar([], name="我的活动"))


@override_settings(ALLOWED_HOSTS=["*", ".youth.luoyang.gov.cn"])
def test_the_uid_domain_is_a_real_host_name(event):
    assert vevents(calendar([event]))[0]["UID"] == f"event-{event.pk}@youth.luoyang.gov.cn"


# --- the private calendar feed ------------------------------------------------------------------


def test_the_feed_lists_the_users_confirmed_events_only(client, db):
    user, someone_else = UserFactory(), UserFactory()
    confirmed = RegistrationFactory(user=user, confirmed=True, event__title="已确认的活动").event
    offered = RegistrationFactory(user=user, offered=True, event__title="候补转正待确认").event
    attended = RegistrationFactory(user=user, attended=True, event__title="已参加的活动").event
    RegistrationFactory(user=user, waitlisted=True, event__title="候补中的活动")
    RegistrationFactory(user=user, cancelled=True, event__title="已取消的报名")
    RegistrationFactory(user=user, pending=True, event__title="待审核的报名")
    RegistrationFactory(user=someone_else, event__title="别人的活动")

    response = client.get(f"/events/calendar/{calendar_feed_for(user=user).token}.ics")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert "private" in response["Cache-Control"]
    found = vevents(response.content.decode())
    assert sorted(v["UID"].split("@")[0] for v in found) == sorted(
        f"event-{e.pk}" for e in (confirmed, offered, attended)
    )


def test_the_feed_needs_no_login_but_a_wrong_token_is_not_found(client, db):
    user = UserFactory()
    token = calendar_feed_for(user=user).token
    assert calendar_feed_for(user=user).token == token  # one stable token per user
    assert client.get(f"/events/calendar/{token}.ics").status_code == 200
    assert client.get(f"/events/calendar/{token[:-1]}x.ics").status_code == 404
    assert client.get("/events/calendar/nothing.ics").status_code == 404
